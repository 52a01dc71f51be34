"""Logging of the HTTP service: access lines without query strings.

The staff search is ``GET /api/v1/search?q=...``: its query string holds what a citizen told
the counsellor, phone numbers and names included. uvicorn's access log would write it in clear
to stdout, the journal and whatever collects them. kb's own audit log records searches masked;
the access log keeps method, path and status only, and shows ``?…`` where a query string was.
API keys never appear in either: they travel in a header, which access logs do not record.
"""

from __future__ import annotations

import copy
import logging
from typing import Any


class DropQueryString(logging.Filter):
    """Removes the query string from uvicorn access records (``args[2]`` is the full path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, sep, _ = args[2].partition("?")
            if sep:
                record.args = (*args[:2], path + "?…", *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with :class:`DropQueryString` on access lines."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["kb_drop_query"] = {"()": DropQueryString}
    config["handlers"]["access"].setdefault("filters", []).append("kb_drop_query")
    return config
