"""The audit chain itself: event records, how an event is hashed, and walking the chain.

Kept apart from :mod:`kb.security.audit` (the SQLite log, its key and its anchor) so that each
stays one idea: this module knows nothing of files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from kb.security.audit_anchor import ranges
from kb.security.audit_key import AuditKey

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event."""

CHAIN_SHA256 = "sha256"
"""Events of logs written before the key: plain SHA-256 (verifiable, but not keyed)."""
CHAIN_HMAC = "hmac-sha256"
"""Events signed with the audit key."""

START_LINK = re.compile(r"\(start: event (\d+)\)$")
"""How a result event names its intent event (:mod:`kb.security.audit_actions`)."""


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log."""

    action: str
    """``search``, ``open``, ``keys.create``, ``keys.revoke``, ``ingest.start``, ``ingest``,
    ``ingest.failed``, ``build...``, ``approve...``, ``audit.read``, ``auth.denied``..."""
    actor: str
    """The key's name (``cli:<user>`` for commands run on the server)."""
    role: str
    query: str = ""
    """The search text, masked."""
    ids: tuple[str, ...] = ()
    """Doc ids returned or opened (``case:C0012``...), or the names an admin action touched."""
    detail: str = ""
    created_at: str = ""
    id: int = 0
    prev_hash: str = ""
    hash: str = ""
    chain: str = CHAIN_HMAC
    """How ``hash`` was computed: :data:`CHAIN_HMAC`, or :data:`CHAIN_SHA256` (old logs)."""

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["ids"] = list(self.ids)
        return data


@dataclass(frozen=True)
class Verification:
    """What ``kb audit verify`` found."""

    events: int
    head: str
    """Hash of the last event (``GENESIS`` when empty)."""
    problems: tuple[str, ...] = field(default=())
    keyed: int = 0
    """Events signed with the key (the rest are from before the key: plain SHA-256)."""
    key_id: str = ""
    anchor: str = ""
    """The anchor file compared with (``""``: none configured)."""
    anchored: int = 0
    """The last event the anchor file records."""
    unfinished: tuple[str, ...] = ()
    """Intent events (``ingest.start``...) without a result: the process stopped during them,
    or they are still running. Not a problem of the log itself."""

    @property
    def ok(self) -> bool:
        return not self.problems


def payload(event: AuditEvent, prev_hash: str) -> bytes:
    """What an event's hash covers: every field but the hash, and the previous event's hash."""
    return json.dumps(
        [
            event.id,
            event.created_at,
            event.actor,
            event.role,
            event.action,
            event.query,
            list(event.ids),
            event.detail,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def plain_hash(payload: bytes) -> str:
    """The hash of an event of an old log (no key): SHA-256 of :func:`payload`."""
    return hashlib.sha256(payload).hexdigest()


def walk(events: Sequence[AuditEvent], key: AuditKey | None) -> list[str]:
    """Problems of the chain itself: numbering, links, hashes, keyed and unkeyed events.

    Args:
        events: The whole log, in order.
        key: The audit key (``None`` only for a log without keyed events).

    Returns:
        One line per problem, naming the event.
    """
    problems: list[str] = []
    rechained: list[int] = []
    prev = GENESIS
    expected_id = 1
    keyed_seen = False
    for event in events:
        if event.id != expected_id:
            problems.append(f"event {event.id}: expected event {expected_id} here (events missing)")
        if event.prev_hash != prev:
            problems.append(f"event {event.id}: does not link to the event before it")
        content = payload(event, event.prev_hash)
        if event.chain == CHAIN_HMAC:
            keyed_seen = True
            if key is None:
                problems.append(f"event {event.id}: signed with a key, but no key was given")
            elif key.sign(content) != event.hash:
                problems.append(f"event {event.id}: content does not match its hash (altered)")
                if plain_hash(content) == event.hash:
                    rechained.append(event.id)
        elif event.chain == CHAIN_SHA256:
            if keyed_seen:
                problems.append(
                    f"event {event.id}: not signed with the key although events before it are "
                    "(written or rewritten without the key)"
                )
            if plain_hash(content) != event.hash:
                problems.append(f"event {event.id}: content does not match its hash (altered)")
        else:
            problems.append(f"event {event.id}: unknown chain {event.chain!r}")
        prev = event.hash
        expected_id = event.id + 1
    if rechained:
        problems.append(
            f"event(s) {ranges(rechained)}: the hash is a plain SHA-256 of the content: the log "
            "was re-chained by someone without the audit key"
        )
    return problems


def unfinished(events: Sequence[AuditEvent]) -> tuple[str, ...]:
    """Intent events (``*.start``) that no result event names (``(start: event N)``)."""
    started = {e.id: e for e in events if e.action.endswith(".start")}
    for event in events:
        link = START_LINK.search(event.detail)
        if link is not None:
            started.pop(int(link[1]), None)
    return tuple(
        f"event {e.id}: {e.action} by {e.actor} at {e.created_at} has no result event"
        for e in started.values()
    )
