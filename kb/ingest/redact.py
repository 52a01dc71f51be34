"""Mask personal data in parsed documents before they are chunked, stored or indexed.

Case records get every rule of :mod:`kb.text.masking`; FAQ entries and manuals, written for
publication, only the rules for data that never belongs there (ID numbers, dates of birth,
mobile numbers, names with an honorific); the department directory is public and untouched.
Department phone numbers, and the landline numbers printed in published FAQ entries (代表電話,
夜間窓口), are kept everywhere; department names and aliases are never taken for people's
names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from kb.text.masking import FULL, PUBLISHED, Masker, MaskProfile, phone_numbers
from kb.text.mecab import MeCabTokenizer
from kb.types import Department, Document

PROFILES: dict[str, MaskProfile | None] = {
    "case": FULL,
    "faq": PUBLISHED,
    "manual": PUBLISHED,
    "department": None,
}
"""Masking rules per document kind (``None``: not masked)."""


def masker_for(
    departments: Iterable[Department],
    tokenizer: MeCabTokenizer | None = None,
    keep_words: Iterable[str] = (),
    keep_phones: Iterable[str] = (),
) -> Masker:
    """A masker that keeps the directory's phone numbers and names intact.

    Args:
        departments: The department directory.
        tokenizer: Shared MeCab tokenizer.
        keep_words: More words never masked as names (the city's place names).
        keep_phones: More public numbers (see :func:`public_phones`).
    """
    depts = list(departments)
    words = [d.name for d in depts] + [a for d in depts for a in d.aliases] + list(keep_words)
    phones = [d.phone for d in depts if d.phone] + list(keep_phones)
    return Masker(tokenizer, keep_phones=phones, keep_words=words)


def public_phones(documents: Iterable[Document]) -> set[str]:
    """Landline numbers printed in published FAQ entries: the city's own public numbers."""
    return phones_in(
        text
        for doc in documents
        if doc.kind == "faq" and doc.published
        for text in (doc.title, doc.body)
    )


def phones_in(texts: Iterable[str]) -> set[str]:
    """Landline numbers in ``texts`` (the question and answer texts of published FAQ)."""
    found: set[str] = set()
    for text in texts:
        found.update(phone_numbers(text))
    return found


def redact_document(doc: Document, masker: Masker) -> Document:
    """``doc`` with personal data in its free-text fields replaced by placeholders."""
    profile = PROFILES.get(doc.kind)
    if profile is None:
        return doc
    title = masker.mask(doc.title, profile)
    body = masker.mask(doc.body, profile)
    if doc.kind == "manual":
        heading_path = tuple(masker.mask(h, profile) for h in doc.heading_path)
    else:
        heading_path = doc.heading_path
    if (title, body, heading_path) == (doc.title, doc.body, doc.heading_path):
        return doc
    return dataclasses.replace(doc, title=title, body=body, heading_path=heading_path)
