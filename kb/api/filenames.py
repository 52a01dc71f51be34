"""Checks on the names of uploaded files, before any is used as a path.

A multipart upload names its file freely. The admin upload keeps only the base name (an old
browser in Internet Explorer mode sends ``C:\\Users\\...\\faq.csv``; ``../../x.csv`` cannot
leave the upload folder either), and refuses with 422 a name that no file system or log should
hold: control characters (a NUL byte makes ``open()`` raise, a line break forges log lines),
invisible formatting characters (a right-to-left override shows ``faq[U+202E]vsc.exe`` as
``faqexe.csv``) and names longer than a file system allows (255 bytes).
"""

from __future__ import annotations

import unicodedata

MAX_NAME_BYTES = 255
"""The longest file name (in UTF-8 bytes) ext4, XFS and NTFS-on-Linux accept."""

_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control, format (direction marks, zero-width), surrogate, line and paragraph separators."""


def base_name(filename: str) -> str:
    """The last component of a client's file name, with ``/`` or ``\\`` as separator."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1]


def upload_name_problem(filename: str) -> str | None:
    """Why an uploaded file's name cannot be used, or ``None`` when it can.

    Args:
        filename: The name as the client sent it (directories included).

    Returns:
        A message for the person uploading, naming what is wrong and how to fix it.
    """
    bad = sorted({f"U+{ord(ch):04X}" for ch in filename if _is_bad(ch)})
    if bad:
        shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        return (
            f"it contains control or invisible characters ({shown}: NUL, line breaks, "
            "direction marks...); rename the file"
        )
    size = len(base_name(filename).encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return (
            f"it is {size:,} bytes long, more than the {MAX_NAME_BYTES} bytes a file name may "
            "have (about 85 Japanese characters); shorten it"
        )
    return None


def printable_name(filename: str, max_chars: int = 60) -> str:
    """``filename`` as a message may show it: bad characters as ``?``, cut to ``max_chars``."""
    text = "".join("?" if _is_bad(ch) else ch for ch in filename)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _is_bad(ch: str) -> bool:
    return unicodedata.category(ch) in _BAD_CATEGORIES
