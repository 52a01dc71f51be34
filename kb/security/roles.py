"""The four roles and how they nest: public < staff < trainer < admin.

* ``public``: no key. Published FAQ entries and department contacts (the citizen widget).
* ``staff``: the desk. Everything search shows: FAQ, closed cases, manuals, the directory.
* ``trainer``: staff + trainer tools (topics, gaps, feedback, FAQ candidates).
* ``admin``: trainer + ingest, index builds, key management and reading the audit log.
"""

from __future__ import annotations

from typing import Literal

from kb.errors import AccessError
from kb.messages import msg

Role = Literal["staff", "trainer", "admin"]
"""A role a key can hold (``public`` is the absence of a key)."""

ROLES: tuple[Role, ...] = ("staff", "trainer", "admin")
"""Key roles, weakest first."""

_LEVEL = {"public": 0, "staff": 1, "trainer": 2, "admin": 3}


def parse_role(text: str) -> Role:
    """``text`` as a :data:`Role`, or :class:`AccessError` naming the allowed ones."""
    if text not in ROLES:
        raise AccessError(msg("keys.bad_role", role=text[:40], roles=", ".join(ROLES)))
    return text


def holds(role: str, needed: str) -> bool:
    """Whether a key of ``role`` may do what ``needed`` allows (admin ⊇ trainer ⊇ staff)."""
    return _LEVEL.get(role, -1) >= _LEVEL[needed]


def implied_roles(role: str) -> frozenset[str]:
    """Every role ``role`` includes, itself too: ``admin`` → {staff, trainer, admin}."""
    return frozenset(r for r in ROLES if holds(role, r))
