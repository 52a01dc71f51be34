"""Who is calling: the slot where staff and trainer keys plug in (security issue).

Every staff page and staff API route depends on :func:`require_role`. Today it lets everyone
in as an anonymous principal; when keys exist, only this module changes: read the
``Authorization`` header (the console already sends one when it has a key), look the key up,
and raise 401/403. The routes and pages stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request

Role = Literal["staff", "trainer"]


@dataclass(frozen=True)
class Principal:
    """The caller of a request."""

    name: str
    roles: frozenset[str]
    anonymous: bool = True


ANONYMOUS = Principal(name="anonymous", roles=frozenset({"staff", "trainer"}))


def require_role(role: Role) -> Callable[[Request], Principal]:
    """A dependency that admits callers holding ``role``.

    Args:
        role: ``"staff"`` for the console and its API, ``"trainer"`` for training pages.

    Returns:
        A FastAPI dependency returning the :class:`Principal`. Until keys are configured it
        admits everyone as :data:`ANONYMOUS`.
    """

    def dependency(request: Request) -> Principal:
        # No keys yet: everyone is the anonymous principal, who holds every role.
        principal = ANONYMOUS
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency
