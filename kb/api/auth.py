"""Who is calling: the role dependency of every staff, trainer and admin route.

:class:`kb.api.access.AccessMiddleware` has already checked the ``Authorization: Bearer`` key
against the path's role before the route runs and left the caller in ``request.state``;
:func:`require_role` checks the route's own role on top (a route may ask for more than its
path) and hands the :class:`Principal` to the route, e.g. for the audit log.

Pages (``/staff``, ``/trainer``) are public shells: they load ``/static/auth.js``, which shows
a login form, keeps the key in ``sessionStorage`` and sends it from ``kbAuth.api()``; the data
they show comes from ``/api/v1/...`` routes that depend on :func:`require_role`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from kb.api.access import PUBLIC, Denied, Principal, authenticate
from kb.security.roles import Role, holds

__all__ = ["BEARER", "Principal", "Role", "require_role"]

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key from `kb keys create`, sent as `Authorization: Bearer <key>`.",
)
"""Declares the scheme in the OpenAPI document (the "Authorize" button of /docs); the check
itself is :func:`kb.api.access.authenticate`."""


def require_role(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits callers whose key holds ``role`` (admin ⊇ trainer ⊇ staff).

    Args:
        role: ``"staff"`` for the console and its API, ``"trainer"`` for trainer tools,
            ``"admin"`` for ingest, builds, keys and the audit log.

    Returns:
        A FastAPI dependency returning the :class:`Principal`; it raises 401 (no valid key,
        with ``WWW-Authenticate``) or 403 (role too low), both with a JSON ``detail``.
    """

    async def dependency(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    ) -> Principal:
        principal: Principal = getattr(request.state, "principal", PUBLIC)
        if not holds(principal.role, role):
            try:
                principal = await run_in_threadpool(
                    authenticate,
                    request.app,
                    request.headers.get("authorization", ""),
                    role,
                    request.url.path,
                    request.client.host if request.client else "",
                )
            except Denied as denied:
                raise HTTPException(
                    denied.status, detail=denied.detail, headers=denied.headers
                ) from None
            request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{role}"
    dependency.kb_role = role  # type: ignore[attr-defined]  # read by the route-access test
    return dependency
