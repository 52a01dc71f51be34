"""Which masking rules apply to which text: records get every rule, published text a few."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kb.text.masking.placeholders import (
    ACCOUNT,
    ADDRESS,
    AFFILIATION,
    BIRTH_DATE,
    EMAIL,
    ID_NUMBER,
    MY_NUMBER,
    NAME,
    PHONE,
)

DEFAULT_PUBLIC_EMAIL_DOMAINS = ("lg.jp", "go.jp")
"""Local and central government domains: addresses there are offices, not people."""


@dataclass(frozen=True)
class MaskProfile:
    """Which rules apply: cases get all of them; published text (FAQ, manuals) a few."""

    emails: bool = True
    accounts: bool = True
    """SNS and messaging ids (LINE ID, @handles)."""
    ids: bool = True
    birth_dates: bool = True
    old_full_dates: bool = True
    """A compact whole date of the Shōwa era or before (S30.5.3) is a date of birth: in records
    only (a published text may date a law or an event so)."""
    addresses: bool = True
    phones: bool = True
    mobile_phones_only: bool = False
    """Mask only mobile numbers (060/070/080/090): landlines in FAQ are offices."""
    names: bool = True
    honorific_names_only: bool = False
    """Mask only names followed by 様/さん/氏: bare surnames in manuals are authors, places."""


FULL = MaskProfile()
"""Every rule: case records and queries."""
PUBLISHED = MaskProfile(
    emails=False,
    accounts=False,
    addresses=False,
    mobile_phones_only=True,
    honorific_names_only=True,
    old_full_dates=False,
)
"""FAQ entries and manuals, written for publication: their phone numbers, e-mail addresses, SNS
accounts and addresses are offices'. Only ID numbers, dates of birth, mobile numbers and names
with an honorific (a private person's data pasted in by mistake) are masked."""


EDITED = MaskProfile(addresses=False, mobile_phones_only=True)
"""What a trainer types into an FAQ entry before it is published: every rule of records but the
two a public answer needs (facility addresses, office landlines). A name without an honorific,
an e-mail address outside a public body's domain, an SNS account or a date of birth never
belongs in the widget's answer; an FAQ file's text, written for publication, is masked with
:data:`PUBLISHED` instead."""


@lru_cache(maxsize=8)
def column_placeholders(profile: MaskProfile) -> frozenset[str]:
    """The placeholders a profile lets the table and labelled-cell rules write (one set per
    profile)."""
    allowed: set[str] = set()
    if profile.birth_dates:
        allowed.add(BIRTH_DATE)
    if profile.names and not profile.honorific_names_only:
        allowed.update((NAME, AFFILIATION))
    if profile.emails:
        allowed.add(EMAIL)
    if profile.accounts:
        allowed.add(ACCOUNT)
    if profile.phones and not profile.mobile_phones_only:
        allowed.add(PHONE)
    if profile.addresses:
        allowed.add(ADDRESS)
    if profile.ids:
        allowed.update((MY_NUMBER, ID_NUMBER))
    return frozenset(allowed)
