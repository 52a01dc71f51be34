"""Normalize → chunk → tokenize: turn a Document into the Chunks that are indexed.

FAQ entries and cases are usually one chunk (title = question / summary, text = answer /
resolution). Long bodies are split at sentence boundaries into parts of at most
:data:`MAX_CHARS` characters, each repeating the title, so every part is retrievable on its own
and still fits the embedding model's window (512 tokens ≈ 600 Japanese characters).
"""

from __future__ import annotations

import re

from kb.text.masking import strip_placeholders
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize
from kb.types import Chunk, Department, DocId, Document

MAX_CHARS = 400
_SENTENCE_RE = re.compile(r"(?<=[。!?！？\n])")


def split_sentences(text: str) -> list[str]:
    """Split after Japanese sentence ends and line breaks, keeping the punctuation."""
    return [s for s in (part.strip() for part in _SENTENCE_RE.split(text)) if s]


def split_text(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Pack sentences into parts of at most ``max_chars`` (a longer sentence is cut)."""
    parts: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        while len(sentence) > max_chars:
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if current and len(current) + 1 + len(sentence) > max_chars:
            parts.append(current)
            current = sentence
        else:
            current = f"{current}\n{sentence}" if current else sentence
    if current:
        parts.append(current)
    return parts


def chunk_title(doc: Document) -> str:
    """The title field of a document's chunks: a manual section carries its heading path."""
    if doc.kind == "manual":
        return " > ".join(p for p in (doc.doc_title, *doc.heading_path) if p) or doc.title
    return doc.title


def chunk_document(
    doc: Document, tokenizer: MeCabTokenizer, max_chars: int = MAX_CHARS
) -> list[Chunk]:
    """Normalize, split and tokenize one document."""
    title = normalize(chunk_title(doc))
    body = normalize(doc.body, keep_newlines=True)
    # Placeholders of masked personal data ([電話番号], [氏名]) are no search terms: a query
    # about 電話番号 must not match every case where a phone number was masked.
    title_tokens = tokenizer.lemmas(strip_placeholders(title))
    parts = split_text(body, max_chars) if body else [""]
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}#{i}",
            doc_id=doc.doc_id,
            kind=doc.kind,
            ordinal=i,
            title=title,
            text=part,
            title_tokens=title_tokens,
            text_tokens=tokenizer.lemmas(strip_placeholders(part)),
        )
        for i, part in enumerate(parts)
    ]


def department_document(dept: Department) -> Document:
    """The searchable form of a directory entry: its name, other names and duties."""
    aliases = "、".join(dept.aliases)
    body = f"{dept.duties}\n別名: {aliases}" if aliases else dept.duties
    return Document(
        doc_id=DocId.of("department", dept.name),
        kind="department",
        title=dept.name,
        body=body,
        departments=(dept.name,),
        published=True,
        source=dept.source,
    )
