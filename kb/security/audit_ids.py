"""What a client wrote that reaches the audit log, masked: an id from a request's path and a
withdrawal's reason.

The log is never pruned and an id a client typed lands in it before anything checks that the
document exists (``PATCH /api/v1/records/09012345678``). The ids kb stores never change here:
an id with personal data is refused at ingest, a record number is no phone number, and a
manual's file name keeps the staff surnames its ingest kept. A staff search's event names about
twenty ids, so a plain id skips the masker and a masked one is remembered.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_ID_CHARS = 200
"""Longest id an event keeps (a path's id may be any length)."""
_NOT_A_CARD_OR_ADDRESS = (
    r"(?![A-Za-z]{2}[0-9]{8}[A-Za-z]{2}$)"  # no residence card number
    r"(?![0-9]{1,3}(?:\.[0-9]{1,3}){3}$)"  # no IPv4 address
)
_NOT_A_NUMBER = (
    r"(?!(?:[^0-9]*[0-9]){11})"  # ten digits at most: no phone, My Number or card number
    + _NOT_A_CARD_OR_ADDRESS
)
_PLAIN_ID_RE = re.compile(rf"(?=.*[A-Za-z])(?=.*[0-9]){_NOT_A_NUMBER}[A-Za-z0-9._#-]{{1,40}}")
"""An id of letters and digits (F0001, C2024-0012, desk-R000006) with ten digits at most (no
phone number, My Number or card number), not a residence card's number, and nothing but ._#-
besides: no name can be in it."""
_ID_SHAPED_RE = re.compile(rf"{_NOT_A_CARD_OR_ADDRESS}[A-Za-z0-9._#-]{{1,40}}")
"""What a city's own id may look like (2024040001, R000173, C-2024-000123456): the masker's
[番号] in it is the id itself, not a number of a person's (but see :func:`_card_number`)."""


def _card_number(text: str) -> bool:
    """Whether ``text`` holds a payment card's number: 15 or 16 digits that pass Luhn's check
    (4111-1111-1111-1111; a city's long case number passes it one time in ten)."""
    from kb.text.masking.phones import luhn

    digits = "".join(c for c in text if c.isdigit())
    return len(digits) in (15, 16) and luhn(digits)


_PATH_SEGMENT_RE = re.compile(rf"{_NOT_A_NUMBER}[A-Za-z0-9._~:#-]{{1,60}}")
_EIGHT_DIGITS_RE = re.compile(r"[0-9]{8}")


def plain_path(path: str) -> str:
    """``path`` (as sent, percent-encoded) with each segment that could hold personal data
    replaced by ``[…]``: anything but letters, digits and ``._~:#-``, or a number's shape (for
    the access log, which keeps paths as clients wrote them)."""
    segments = path.split("/")
    if all(not s or _plain_segment(s) for s in segments):
        return path
    return "/".join(s if not s or _plain_segment(s) else "[…]" for s in segments)


def _plain_segment(segment: str) -> bool:
    """Whether a path segment can be logged as sent: an id's characters, and no phone number
    (03-1234-5678, 0312345678) or date (19800101) in it."""
    from kb.text.masking.patterns import DATE_DIGITS

    if not _PATH_SEGMENT_RE.fullmatch(segment):
        return False
    digits = "".join(c for c in segment if c.isdigit())
    if digits.startswith("0") and 10 <= len(digits) <= 11:
        return False
    return not any(re.fullmatch(DATE_DIGITS, run) for run in _EIGHT_DIGITS_RE.findall(segment))


_ID_KINDS = frozenset({"faq", "case", "manual", "department", "procedure"})
_MASKED_IDS_KEPT = 4096


class ClientText:
    """Masks what a client wrote for the audit log, its wording kept (a query is normalized
    by the log's own masker)."""

    def __init__(self) -> None:
        self._masker: Callable[[str], str] | None = None
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def text(self, text: str) -> str:
        """``text`` with personal data masked, its wording kept."""
        if not text:
            return ""
        with self._lock:
            if self._masker is None:
                from kb.text.masking import Masker

                self._masker = Masker().mask
        return self._masker(text)

    def doc_id(self, doc_id: str) -> str:
        """``doc_id`` cut at :data:`MAX_ID_CHARS`, masked when it holds personal data (an id
        whose prefix is no kind of document, ``hanako@gmail.com:x``, is masked whole)."""
        doc_id = doc_id[:MAX_ID_CHARS]
        kind, sep, local = doc_id.partition(":")
        if not sep or kind not in _ID_KINDS:
            kind, sep, local = "", "", doc_id
        if not doc_id or _PLAIN_ID_RE.fullmatch(local):
            return doc_id
        found = self._ids.get(doc_id)
        if found is not None:
            return found
        from kb.text.masking.placeholders import ID_NUMBER, NAME, PLACEHOLDERS

        # A record number reads as [番号] (2024040001); a manual's file name keeps its staff
        # surnames (手順_鈴木.md) as its ingest did, and its [番号] in a Japanese name.
        allowed = {ID_NUMBER, NAME} if kind == "manual" else set()
        if _ID_SHAPED_RE.fullmatch(local) and not _card_number(local):
            allowed.add(ID_NUMBER)  # a card number or 口座1234567 stays masked
        masked = self.text(local)
        added = any(masked.count(p) > local.count(p) for p in PLACEHOLDERS if p not in allowed)
        found = f"{kind}{sep}{masked}" if added else doc_id
        if len(self._ids) < _MASKED_IDS_KEPT:
            self._ids[doc_id] = found
        return found
