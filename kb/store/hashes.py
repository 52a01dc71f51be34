"""The content hashes of the store: a document's (what is searchable or shown) and a text's
(the key of a chunk and of its cached embedding)."""

from __future__ import annotations

import hashlib
import json

from kb.types import Document


def document_hash(doc: Document) -> str:
    """A hash of everything searchable or shown about ``doc`` (not where it was read from)."""
    faq = [doc.owner, doc.updated, doc.expires]
    payload = json.dumps(
        [
            doc.kind,
            doc.title,
            doc.body,
            list(doc.departments),
            doc.category,
            doc.date,
            doc.published,
            doc.url,
            doc.channel,
            doc.status,
            doc.doc_title,
            list(doc.heading_path),
            # Only when set, so documents stored before these fields existed keep their hash.
            *([faq] if any(faq) else []),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def text_hash(text: str) -> str:
    """A hash of ``text``: the key of a chunk's content (and of its cached embedding)."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]
