"""Spreadsheet cells that stay text: the guard against CSV (formula) injection.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) is
run as a formula when a CSV file is opened in a spreadsheet. Japanese Excel also takes the
full-width forms (``＝HYPERLINK(…)``, ``－1＋1``) for the ASCII ones, so the first character
is compared after NFKC. Such a cell gets a leading ``'``, which the spreadsheet shows as text.
"""

from __future__ import annotations

import unicodedata

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(cell: str) -> str:
    """``cell``, with a leading ``'`` if a spreadsheet would run it as a formula."""
    first = unicodedata.normalize("NFKC", cell[:1])
    return "'" + cell if first.startswith(FORMULA_START) else cell
