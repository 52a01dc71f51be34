"""Phone numbers and other long numbers: which runs of digits the masker replaces, and with what.

Runs come from :data:`~kb.text.masking.patterns.DIGIT_RUN_RE` on the folded view of a text. A
run is a phone number when it has 10-11 digits starting with 0, a ``+81`` prefix, or a
phone label before it (電話, TEL, 携帯...); the directory's numbers, free dial and navi dial
numbers and an office's landline written with separators stay. Any other run of 10 digits or
more is an ID number (My Number when it has 12). A run can hold several numbers
(``090-1234-5678 / 080-1111-2222``, a date before a number): they are split where spaces,
slashes and parentheses separate them.
"""

from __future__ import annotations

import re
from collections.abc import Set

from kb.text.masking.fold import fold
from kb.text.masking.patterns import (
    DATE_DIGITS,
    DATE_RUN_RE,
    DIGIT_RUN_RE,
    MOBILE_RE,
    OFFICE_BEFORE_RE,
    PHONE_LABEL_RE,
    PUBLIC_PHONE_RE,
)
from kb.text.masking.placeholders import ID_NUMBER, MY_NUMBER, PHONE

Edit = tuple[int, int, str]
"""``(start, end, placeholder)`` on the folded view."""

# Between two numbers written one after the other (090-1234-5678 / 080-1111-2222).
_WIDE_SEPARATOR_RE = re.compile(r"\s*[ /()・]\s*")
_SKIP_SEPARATORS_RE = re.compile(r"[- ()・./]*")
_NOT_DIGIT_RE = re.compile(r"[^0-9]")


def digits_of(text: str) -> str:
    """The ASCII digits of ``text``, in order."""
    return _NOT_DIGIT_RE.sub("", text)


def number_edits(
    folded: str, start: int, end: int, *, keep: Set[str], mobile_only: bool
) -> list[Edit]:
    """The placeholder for the run of digits ``folded[start:end]``, if it needs one.

    Args:
        folded: The folded text the run was found in.
        start: Where the run starts.
        end: Where it ends.
        keep: Public numbers (digits only) never masked: the department directory.
        mobile_only: Mask only mobile numbers (published text, whose landlines are offices').

    Returns:
        Edits on ``folded``; several when the run holds several numbers.
    """
    run = folded[start:end]
    # Parentheses only count when they wrap an area code: "(099)555-1101".
    while run.startswith(("(", " ")) and ")" not in run[1:5]:
        run, start = run[1:], start + 1
    while run.endswith((")", " ")) and "(" not in run[-6:-1]:
        run, end = run[:-1], end - 1
    date = DATE_RUN_RE.match(run)
    if date:
        # A date is no number to mask, and neither is a time after it: what follows may be.
        rest = _SKIP_SEPARATORS_RE.match(folded, start + date.end(), end)
        after = rest.end() if rest else end
        if after >= end:
            return []
        return number_edits(folded, after, end, keep=keep, mobile_only=mobile_only)
    digits = digits_of(run)
    if not digits:
        return []
    international = run.lstrip("(").startswith("+")
    if international and digits.startswith("81"):
        digits = "0" + digits[2:]
    if digits in keep:
        return []
    before = folded[max(0, start - 16) : start]
    labelled = bool(PHONE_LABEL_RE.search(before)) and 6 <= len(digits) <= 11
    phone = labelled or (digits.startswith("0") and 10 <= len(digits) <= 11)
    if international and 10 <= len(digits) <= 11:
        phone = True
    if phone:
        if mobile_only and not MOBILE_RE.match(digits):
            return []
        if len(digits) < len(run) and _public_number(digits, before):
            return []
        return [(start, end, PHONE)]
    pieces = _pieces(folded, start, end)
    if len(pieces) > 1:
        shaped = any(_phone_shaped(folded, p) for p in pieces)
        edits: list[Edit] = []
        if shaped or len(digits) > 19:
            for p_start, p_end in pieces:
                edits += number_edits(folded, p_start, p_end, keep=keep, mobile_only=mobile_only)
        if shaped or edits:
            return edits
    # In published text too: twelve digits as a card prints them, with a valid check digit,
    # and not a time stamp (202404010930: one in eleven passes the check).
    if (
        len(digits) == 12
        and _MY_NUMBER_SHAPE_RE.fullmatch(run)
        and not _STAMP_RE.match(digits)
        and is_my_number(digits)
    ):
        return [(start, end, MY_NUMBER)]
    if mobile_only or len(digits) < 10:
        return []
    # No run of 10 digits or more survives: My Number, pension, licence and card numbers.
    return [(start, end, MY_NUMBER if len(digits) == 12 else ID_NUMBER)]


def spoken_number_edits(match: re.Match[str], *, keep: Set[str], mobile_only: bool) -> list[Edit]:
    """The edit for a number read aloud with の (〇七〇の九八七六の五四三二), if it is a phone's."""
    digits = digits_of(match.group(0))
    if not 10 <= len(digits) <= 11 or digits in keep:
        return []
    if mobile_only and not MOBILE_RE.match(digits):
        return []
    return [(match.start(), match.end(), PHONE)]


def _public_number(digits: str, before: str) -> bool:
    """Whether a number written with separators is a business's or an office's.

    Free dial and navi dial numbers (0120, 0570) are helplines and businesses; a landline
    right after an office's name (福祉課 0296-55-1234) is the office's. Run together without
    separators they are masked all the same, so that no 10-digit run survives.
    """
    if PUBLIC_PHONE_RE.match(digits):
        return True
    return not MOBILE_RE.match(digits) and bool(OFFICE_BEFORE_RE.search(before))


def _pieces(folded: str, start: int, end: int) -> list[tuple[int, int]]:
    """The numbers between the wide separators of ``folded[start:end]``.

    Consecutive pieces that make a phone number together (``080 1111 2222``) are one.
    """
    pieces: list[tuple[int, int]] = []
    pos = start
    for sep in _WIDE_SEPARATOR_RE.finditer(folded, start, end):
        if sep.start() > pos:
            pieces.append((pos, sep.start()))
        pos = sep.end()
    if pos < end:
        pieces.append((pos, end))
    counts = [sum(ch.isdigit() for ch in folded[a:b]) for a, b in pieces]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j = i
        if folded[pieces[i][0] : pieces[i][1]].lstrip("+(").startswith("0"):
            # A phone number has at most 11 digits: only the next few pieces can join it.
            total = counts[i]
            for k in range(i + 1, len(pieces)):
                total += counts[k]
                if total > 11:
                    break
                if total >= 10 and (pieces[i][0], pieces[k][1]) != (start, end):
                    j = k
        out.append((pieces[i][0], pieces[j][1]))
        i = j + 1
    return out


def _phone_shaped(folded: str, span: tuple[int, int]) -> bool:
    digits = digits_of(folded[span[0] : span[1]])
    return digits.startswith("0") and 10 <= len(digits) <= 11


def phone_numbers(text: str) -> list[str]:
    """The landline and free-dial numbers in ``text`` (digits only; mobile numbers excluded).

    Used to learn the public numbers a city prints in its published FAQ (代表電話, 夜間窓口),
    which are then kept when case records mention them.
    """
    found: list[str] = []
    for match in DIGIT_RUN_RE.finditer(fold(text).text):
        digits = digits_of(match.group(0))
        if digits.startswith("0") and 10 <= len(digits) <= 11 and not MOBILE_RE.match(digits):
            found.append(digits)
    return found


_MY_NUMBER_SHAPE_RE = re.compile(r"[0-9]{12}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}")
"""A My Number as written: twelve digits, or three groups of four (not digits that a run of
numbers separated by ・ or . happens to add up to: 16・26・36 代, 10.0.19045.3000)."""
_STAMP_RE = re.compile(DATE_DIGITS)
"""Twelve digits that start with a date (受付番号 202404010001, 更新日時 202401010930)."""


def is_my_number(digits: str) -> bool:
    """Whether 12 digits are a valid 個人番号: the last is the check digit of the other 11
    (weights 2-7 then 2-6 from the right, modulo 11; a remainder of 0 or 1 gives 0)."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(d) for d in reversed(digits[:11])]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(body, start=1))
    remainder = total % 11
    return int(digits[11]) == (0 if remainder <= 1 else 11 - remainder)


def luhn(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check of payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
