"""Which role each URL needs, enforced before routing; the key store and audit log of the app.

Deny by default: a path is public only if it is listed here; any other path needs at least
``staff``, so a route someone adds tomorrow without a role dependency is still closed.

========================================  =========
path                                      role
========================================  =========
``/public/*``, ``/static/*``              public
``/healthz``, ``/readyz``                 public
``/docs``, ``/redoc``, ``/openapi.json``  public
``/staff``, ``/trainer``, ``/admin``      public (page shells: HTML and JS, no data)
``/briefs`` (day view of bookings)        public (page shell)
``/api/v1/admin/*``, ``/admin/*``         admin
``/api/v1/trainer/*``, ``/trainer/*``     trainer
``/metrics``                              admin, or none from ``KB_METRICS_ALLOW_IPS``
everything else (``/api/v1/*``...)        staff
========================================  =========

The page shells hold no data: they show a login form, keep the key in ``sessionStorage`` and
fetch everything through ``/api/v1`` with ``Authorization: Bearer`` (``/static/auth.js``). A
browser cannot send that header when it navigates, so a page that needs a key to load could
never be opened; pages put their data behind the API instead.

The check runs in :class:`AccessMiddleware`, before FastAPI reads a request body, so an
anonymous client cannot make the server parse or spool uploads. Route dependencies
(:func:`kb.api.auth.require_role`) check again and hand the caller to the route.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from kb.api.proxies import TrustedProxies, client_key, peer_host
from kb.api.ratelimit import RateLimiter
from kb.api.state import opened_once
from kb.security.audit import AuditLog
from kb.security.keys import KeyStore
from kb.security.roles import Role, holds, implied_roles
from kb.settings import Settings

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset(
    {
        "/",
        "/favicon.ico",
        "/healthz",
        "/readyz",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
        "/staff",
        "/staff/",
        "/trainer",
        "/trainer/",
        "/admin",
        "/admin/",
        "/briefs",
    }
)
PUBLIC_PREFIXES = ("/public/", "/static/")
ADMIN_PREFIXES = ("/api/v1/admin/", "/admin/")
METRICS_PATH = "/metrics"
"""Admin-only, except from the scrapers in ``KB_METRICS_ALLOW_IPS`` (:mod:`kb.api.metrics`)."""
TRAINER_PREFIXES = ("/api/v1/trainer/", "/trainer/")
REALM = 'Bearer realm="kb"'


def required_role(path: str) -> Role | None:
    """The role ``path`` needs; ``None`` for a public path."""
    segments = path.split("/")
    if "." in segments or ".." in segments:
        # "/public/../api/v1/search" must not pass as public, whatever routing makes of it.
        return "staff"
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    if path.startswith(ADMIN_PREFIXES) or path in ("/api/v1/admin", METRICS_PATH):
        return "admin"
    if path.startswith(TRAINER_PREFIXES) or path == "/api/v1/trainer":
        return "trainer"
    return "staff"


@dataclass(frozen=True)
class Principal:
    """The caller of a request: the key's name and role."""

    name: str
    role: str
    key_id: str = ""

    @property
    def roles(self) -> frozenset[str]:
        """Every role this caller holds (admin ⊇ trainer ⊇ staff)."""
        return implied_roles(self.role)

    @property
    def anonymous(self) -> bool:
        return self.role == "public"


PUBLIC = Principal(name="public", role="public")


FAILED_KEYS_BURST = 20
FAILED_KEYS_PER_MINUTE = 10.0
"""Invalid keys one client address may present before it gets 429s instead (see
:func:`authenticate`): keys cannot be guessed, but each failure is an audit event, and a
flood of them must not fill the disk. Valid keys from the same address keep working. The
address is the socket's peer; ``X-Forwarded-For`` counts only from a trusted proxy
(:mod:`kb.api.proxies`), so a client cannot escape by writing a new one per request."""
DENIED_EVENTS_BURST = 120
DENIED_EVENTS_PER_MINUTE = 60.0
"""Invalid-key events the audit log takes per minute from all addresses together. Past it the
rest are counted, not listed, and the next event listed says how many: addresses are cheap
(an IPv6 /64 each), and the audit log is never pruned, so it must not grow at an attacker's
pace."""


class Denied(Exception):
    """Why a request may not go on: its HTTP status, message and headers."""

    def __init__(
        self, status: int, detail: str, error: str = "", retry_after: str = "", hold: float = 0.0
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.hold = hold
        """Seconds to hold the answer (a 429: see ``Settings.reject_delay``)."""
        if status == 429:
            self.headers = {"Retry-After": retry_after or "60"}
        else:
            challenge = f'{REALM}, error="{error}"' if error else REALM
            self.headers = {"WWW-Authenticate": challenge}


def key_store(app: Any) -> KeyStore:
    """The app's key store (``DATA_DIR/keys.sqlite``), opened on first use."""
    settings: Settings = app.state.settings
    return opened_once(app, "keys", lambda: KeyStore(settings.keys_path))


def audit_log(app: Any) -> AuditLog:
    """The app's audit log (``DATA_DIR/audit.sqlite``), opened on first use."""
    settings: Settings = app.state.settings
    return opened_once(app, "audit", lambda: AuditLog.from_settings(settings))


def _failure_limiter(app: Any) -> RateLimiter:
    return opened_once(
        app, "failed_keys", lambda: RateLimiter(FAILED_KEYS_PER_MINUTE, FAILED_KEYS_BURST)
    )


@dataclass
class _DeniedEvents:
    """The audit log's budget of invalid-key events, and how many went unlisted."""

    budget: RateLimiter
    unlisted: int = 0


def _denied_events(app: Any) -> _DeniedEvents:
    return opened_once(
        app,
        "denied_key_events",
        lambda: _DeniedEvents(RateLimiter(DENIED_EVENTS_PER_MINUTE, DENIED_EVENTS_BURST)),
    )


def audited_path(app: Any, path: str) -> str:
    """The route ``path`` asks for, as the audit log records it: the route's template
    (``/api/v1/faq/{faq_id}``, from the app's OpenAPI paths), never the path as sent, which
    anyone can fill with text (a name and a phone number) that the never-pruned audit log
    would keep."""
    if path == METRICS_PATH:
        return path
    templates = opened_once(app, "audited_routes", lambda: _route_templates(app))
    for template, regex in templates:
        if regex.match(path):
            return template
    return "(no such route)"


def _route_templates(app: Any) -> list[tuple[str, re.Pattern[str]]]:
    paths = app.openapi().get("paths", {})
    return [(template, compile_path(template)[0]) for template in sorted(paths)]


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; ``None`` when absent."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(
    app: Any, authorization: str, needed: Role, path: str, client: str = ""
) -> Principal:
    """The caller holding the key in ``authorization``, if it may use ``path``.

    Raises:
        Denied: 401 without a valid key, 403 when the key's role is too low. Presented keys
            that fail are written to the audit log (by public id, never the secret); past
            :data:`FAILED_KEYS_BURST` of them from one ``client`` address, 429 instead.
    """
    keys = key_store(app)
    token = bearer_token(authorization)
    if token is None:
        if authorization.strip():
            raise Denied(401, "use the header Authorization: Bearer <key>", "invalid_request")
        detail = "an API key is required: send Authorization: Bearer <key>"
        if not keys.has_active():
            detail += (
                "; no API keys exist yet: an administrator creates one on the server with "
                "`kb keys create --role staff --name NAME`"
            )
        raise Denied(401, detail)
    checked = keys.check(token)
    if checked.key is None:
        wait = _failure_limiter(app).hit(client_key(client))
        if wait > 0:
            settings: Settings = app.state.settings
            hold = min(wait, settings.reject_delay)
            raise Denied(
                429,
                "too many invalid API keys from this address; retry later",
                retry_after=RateLimiter.retry_after(wait - hold),
                hold=hold,
            )
        events = _denied_events(app)
        if events.budget.hit("all") > 0:
            events.unlisted += 1
        else:
            unlisted, events.unlisted = events.unlisted, 0
            more = f" ({unlisted} more before this one not listed)" if unlisted else ""
            # A key id names the actor only when its secret matched (a revoked or expired
            # key): ids are public (kb keys list, the audit log), so anyone could otherwise
            # make failed tries look like a colleague's.
            proven = checked.verdict in ("revoked", "expired")
            claimed = (
                f" (id {checked.key_id} as presented)" if checked.key_id and not proven else ""
            )
            audit_log(app).append(
                "auth.denied",
                actor=f"key:{checked.key_id}" if proven else "unknown",
                role="public",
                detail=f"{checked.verdict} key{claimed} on {audited_path(app, path)}{more}",
            )
        raise Denied(
            401, "the API key is not valid, or was revoked or has expired", "invalid_token"
        )
    principal = Principal(name=checked.key.name, role=checked.key.role, key_id=checked.key_id)
    if not holds(principal.role, needed):
        audit_log(app).append(
            "auth.denied",
            actor=principal.name,
            role=principal.role,
            detail=f"role {principal.role} on {audited_path(app, path)} (needs {needed})",
        )
        raise Denied(
            403,
            f"the key {principal.name!r} has the role {principal.role}; {path} needs {needed}",
            "insufficient_scope",
        )
    return principal


class AccessMiddleware:
    """Checks the role of every HTTP request against :func:`required_role` before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        needed = required_role(path)
        principal = PUBLIC
        if path == METRICS_PATH and _allowed_scraper(scope):
            needed = None
        if needed is not None:
            header = ""
            for name, value in scope.get("headers", ()):
                if name == b"authorization":
                    header = value.decode("latin-1")
                    break
            try:
                # SQLite reads (and, on failure, an audit append) stay off the event loop.
                principal = await anyio.to_thread.run_sync(
                    authenticate, scope["app"], header, needed, path, peer_host(scope)
                )
            except Denied as denied:
                if denied.hold > 0:
                    await anyio.sleep(denied.hold)
                await _send_json(send, denied.status, {"detail": denied.detail}, denied.headers)
                return
        scope.setdefault("state", {})["principal"] = principal
        if needed == "trainer":
            # Trainer tools show case content in bulk (topics with representative cases,
            # manual drafts): who used which one goes to the audit log.
            await anyio.to_thread.run_sync(
                _record_access,
                scope["app"],
                principal,
                f"{scope.get('method', '')} {audited_path(scope['app'], path)}",
            )
        await self.app(scope, receive, send)


def _allowed_scraper(scope: Scope) -> bool:
    """Whether the client may read ``/metrics`` without a key (``KB_METRICS_ALLOW_IPS``)."""
    settings: Settings = scope["app"].state.settings
    return bool(settings.metrics_allow_ips) and TrustedProxies(settings.metrics_allow_ips).trusts(
        peer_host(scope)
    )


def _record_access(app: Any, principal: Principal, what: str) -> None:
    audit_log(app).append("trainer.access", actor=principal.name, role=principal.role, detail=what)


async def _send_json(
    send: Send, status: int, body: dict[str, str], headers: dict[str, str]
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
