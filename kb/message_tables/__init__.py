"""The tables of the message catalogue :data:`kb.messages.MESSAGES`, one module per area.

Data only (no imports above this package): :mod:`kb.messages` merges these into its one
table, so every message is looked up, rendered and tested the same way
(:func:`kb.messages.msg`, ``KB_LANG``). A key belongs to one table only.
"""

from __future__ import annotations

from kb.message_tables.cli import CLI
from kb.message_tables.desk import DESK
from kb.message_tables.files import FILES
from kb.message_tables.ingest import INGEST
from kb.message_tables.lifecycle import LIFECYCLE
from kb.message_tables.limits import LIMITS
from kb.message_tables.ops import OPS
from kb.message_tables.reports import REPORTS
from kb.message_tables.scale import SCALE
from kb.message_tables.search import SEARCH
from kb.message_tables.security import SECURITY

TABLES: tuple[dict[str, tuple[str, str]], ...] = (
    CLI,
    DESK,
    FILES,
    INGEST,
    LIFECYCLE,
    LIMITS,
    OPS,
    REPORTS,
    SCALE,
    SEARCH,
    SECURITY,
)
"""Every area's table."""

__all__ = ["TABLES"]
