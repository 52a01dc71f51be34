"""Who am I: lets a page check a key at login and show the caller's name and role."""

from __future__ import annotations

from fastapi import APIRouter

from kb.api.access_schemas import MeOut
from kb.api.deps import StaffDep

router = APIRouter(prefix="/api/v1", tags=["account"])


@router.get("/me", response_model=MeOut)
def me(principal: StaffDep) -> MeOut:
    """The name and role of the key sent in ``Authorization: Bearer``; 401 without one."""
    return MeOut(name=principal.name, role=principal.role, roles=sorted(principal.roles))
