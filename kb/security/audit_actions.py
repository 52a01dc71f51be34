"""Intent and result events around work that changes what kb holds or serves.

An ingest, a build, an approval or a deletion writes ``<action>.start`` *before* it begins and
``<action>`` (with its counts) or ``<action>.failed`` (with the error) after it ends; the
result names its start (``(start: event 41)``). A process killed midway leaves the start
recorded, and ``kb audit verify`` lists starts without a result. Every caller -- the admin
routes, the trainer's approval, the CLI -- goes through :func:`audited`::

    with audited(audit, "delete", actor=name, role=role, ids=doc_ids) as outcome:
        removed = store.delete(doc_ids)
        outcome.detail = f"{removed} document(s) deleted"
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from kb.errors import KBError
from kb.security.audit import AuditLog

MAX_ERROR_CHARS = 500
"""Longest error text written to a ``.failed`` event."""


class Outcome:
    """What the audited work reports for its result event (set inside the ``with`` block)."""

    __slots__ = ("detail", "ids", "start_id")

    def __init__(self, start_id: int) -> None:
        self.start_id = start_id
        """The sequence number of the ``.start`` event."""
        self.detail = ""
        """Counts and names for the result event."""
        self.ids: tuple[str, ...] | None = None
        """Ids for the result event (default: those of the start event)."""


def error_text(exc: BaseException) -> str:
    """An error as one line for the log: kb's own messages as they are, others with their type."""
    if isinstance(exc, KBError):
        text = str(exc)
    elif isinstance(exc, KeyboardInterrupt):
        text = "interrupted"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _masked(text: str) -> str:
    """``text`` with personal data masked, its wording kept (an error may quote a bad row)."""
    from kb.text.masking import Masker

    return Masker().mask(text)


@contextmanager
def audited(
    audit: AuditLog,
    action: str,
    *,
    actor: str,
    role: str,
    ids: Sequence[str] = (),
    detail: str = "",
) -> Iterator[Outcome]:
    """Record ``action.start`` now, then ``action`` or ``action.failed`` when the block ends.

    Args:
        audit: The audit log.
        action: ``ingest``, ``build``, ``approve``, ``delete``...
        actor: Key name, or ``cli:<os user>``.
        role: The key's role, or ``cli``.
        ids: What the action touches (file names, doc ids).
        detail: What was asked (options), for the start event.

    Raises:
        AuditError: The start event cannot be written: the work does not run.
    """
    start = audit.append(f"{action}.start", actor=actor, role=role, ids=ids, detail=detail)
    outcome = Outcome(start.id)
    link = f"(start: event {start.id})"
    try:
        yield outcome
    except BaseException as exc:
        message = _masked(error_text(exc))
        audit.append(
            f"{action}.failed", actor=actor, role=role, ids=ids, detail=f"{message} {link}"
        )
        raise
    result_ids = ids if outcome.ids is None else outcome.ids
    summary = f"{outcome.detail} {link}" if outcome.detail else link
    audit.append(action, actor=actor, role=role, ids=result_ids, detail=summary)
