"""Logging of the HTTP service: access lines without query strings.

The staff search is ``GET /api/v1/search?q=...``: its query string holds what a citizen told
the counsellor, phone numbers and names included. uvicorn's access log would write it in clear
to stdout, the journal and whatever collects them. kb's own audit log records searches masked;
the access log keeps method, path and status only, and shows ``?…`` where a query string was.
API keys never appear in either: they travel in a header, which access logs do not record.

Refused requests (429, 503) are logged once a minute per client address and status
(:class:`ThrottleRefusals`): a flood is refused cheaply, and its access lines must not fill the
journal instead. How many were left out is logged with the next one.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kb.security.audit_ids import plain_path

REFUSED = frozenset({429, 503})
MAX_LOGGED_PATH = 200
"""Characters of a path an access line keeps: a client may send 60 KB paths by the thousand,
with no key, and each would be written whole to the journal."""


class DropQueryString(logging.Filter):
    """Removes the query string from uvicorn access records (``args[2]`` is the full path),
    cuts a long path at :data:`MAX_LOGGED_PATH` characters and replaces a path segment that
    could hold personal data (``/api/v1/cases/山田花子_090…``) by ``[…]``
    (:func:`kb.security.audit_ids.plain_path`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            full, sep, _ = args[2].partition("?")
            path = full[:MAX_LOGGED_PATH]
            cut = len(full) > MAX_LOGGED_PATH
            path = plain_path(path) + ("…" if cut else "")
            if sep or path != full:
                record.args = (*args[:2], path + ("?…" if sep else ""), *args[3:])
        return True


class ThrottleRefusals(logging.Filter):
    """Lets one refused request (429, 503) a ``window`` through per client address and status.

    uvicorn access records carry ``(client "host:port", method, path, version, status)``. The
    first refusal in a window is logged; the rest are counted, and the count is logged (on
    ``uvicorn.error``) with the first refusal of the next window.

    Args:
        window: Seconds per client and status.
        clock: Monotonic time (tests pass a fake one).
        max_clients: Addresses remembered; beyond, the memory starts afresh.
    """

    def __init__(
        self,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self.max_clients = max_clients
        self._seen: dict[tuple[str, int], list[float]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and len(args) >= 5 and args[4] in REFUSED):
            return True
        host = str(args[0]).rpartition(":")[0] or str(args[0])
        key = (host, int(args[4]))
        now = self.clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen[0] < self.window:
                seen[1] += 1
                return False
            if seen is None and len(self._seen) >= self.max_clients:
                self._seen.clear()
            self._seen[key] = [now, 0]
        if seen is not None and seen[1]:
            logging.getLogger("uvicorn.error").warning(
                "%d more %d answers to %s were not logged (at most one a minute)",
                seen[1],
                key[1],
                host,
            )
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with :class:`DropQueryString` on access lines
    and :class:`ThrottleRefusals` on the access logger."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    filters = config.setdefault("filters", {})
    filters["kb_drop_query"] = {"()": DropQueryString}
    filters["kb_throttle_refusals"] = {"()": ThrottleRefusals}
    config["handlers"]["access"].setdefault("filters", []).append("kb_drop_query")
    config["loggers"]["uvicorn.access"].setdefault("filters", []).append("kb_throttle_refusals")
    return config
