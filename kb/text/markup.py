"""HTML in a text field → plain text: the adapter to ``lxml.html``.

A city's FAQ often comes out of its web CMS with the answer as HTML (``<p>``, ``<br>``, links,
``&nbsp;``). Stored as written, the tags and entities would be shown to citizens, read as words
by the lexical index (``br``, ``nbsp``) and embedded as noise. Text without a tag or an entity is
returned as it is (the usual case: no parser runs); text with entities only is unescaped;
text with tags is parsed by lxml and its text kept, with a line break after each block element
(a paragraph, a list item, a table row, ``<br>``) and nothing of scripts, styles or comments.
A link keeps its target when it is a web address the reader can open (``http(s)://``) and its
text does not already show it: 「申請書（https://www.city.example.jp/form.pdf）」. A relative
link (``/kurashi/``) or a script address is left out: it means nothing outside the CMS.
"""

from __future__ import annotations

import html
import re
from typing import Any

_TAG_RE = re.compile(
    r"</?(?:p|br|div|span|a|li|ul|ol|table|tbody|thead|tr|td|th|strong|b|i|em|u|font|img|hr"
    r"|h[1-6]|dl|dt|dd|blockquote|pre|section|article|small|sup|sub|script|style)\b[^<>]{0,2000}>",
    re.IGNORECASE,
)
_ENTITY_RE = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,30}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_BLOCKS = frozenset(
    {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "table"}
    | {"ul", "ol", "blockquote", "pre", "hr", "section", "article"}
)
_CELLS = frozenset({"td", "th"})
_DROPPED = ("script", "style")
_LINK_TARGET_RE = re.compile(r"https?://[\x21-\x7e]{1,2000}", re.IGNORECASE)
# Both start at the first blank of a run only: tried from every blank of a long run that no
# line break ends, they took square time.
_LINE_END_RE = re.compile(r"(?<![ \t\u3000])[ \t\u3000]+\n")
_BLANK_LINES_RE = re.compile(r"(?<![ \t\u3000])[ \t\u3000]*\n(?:[ \t\u3000]*\n)+")


def looks_like_html(text: str) -> bool:
    """Whether ``text`` holds an HTML tag or a character entity."""
    return bool(_TAG_RE.search(text) or _ENTITY_RE.search(text))


def html_to_text(text: str) -> str:
    """``text`` without its HTML markup (see the module docstring); other text unchanged."""
    if not _TAG_RE.search(text):
        return html.unescape(text) if _ENTITY_RE.search(text) else text
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]
    from lxml import html as lxml_html  # type: ignore[import-untyped, unused-ignore]

    try:
        root = lxml_html.fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError):
        return html.unescape(_TAG_RE.sub(" ", text))
    # Scripts, styles and comments go, the text after them stays.
    etree.strip_elements(root, *_DROPPED, etree.Comment, with_tail=False)
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
        elif tag in _CELLS:
            element.tail = " " + (element.tail or "")
        elif tag == "a":
            _keep_link_target(element)
    out = _LINE_END_RE.sub("\n", str(root.text_content()).replace("\xa0", " "))
    return _BLANK_LINES_RE.sub("\n", out).strip()


def _keep_link_target(link: Any) -> None:
    """Write a link's web address after its text (full-width brackets, as Japanese text does)."""
    href = str(link.get("href") or "").strip()
    if not _LINK_TARGET_RE.fullmatch(href):
        return
    shown = str(link.text_content())
    if href in shown or href.rstrip("/") in shown:
        return
    link.tail = "\uff08" + href + "\uff09" + (link.tail or "")
