"""The client's address: the socket peer, or what a trusted reverse proxy says it forwarded.

The public rate limit and the invalid-key lockout count per client address. Behind a reverse
proxy every request arrives from the proxy, so the address must come from the proxy's
``X-Forwarded-For``, but only from the proxies listed in ``KB_FORWARDED_ALLOW_IPS``: from
anyone else that header is whatever the client chose to write, and a new value per request
would give it a fresh bucket each time. The list is empty by default, and then the header is
ignored altogether.

:class:`ForwardedForMiddleware` sets ``scope["client"]`` once, outside everything that reads
it (the access check and its lockout, the rate limits, uvicorn's access log), so that every
part of a request sees the same address. ``kb serve`` gives uvicorn the same list, and uvicorn
does the same rewrite (and ``X-Forwarded-Proto``) before the app; this second pass then sees the
real client, which is not a proxy, and changes nothing. An app served some other way is safe
as long as that server does not trust forwarded headers itself (uvicorn's own default trusts
them from 127.0.0.1: run it with ``--no-proxy-headers``, or use ``kb serve``).

Limits count per :func:`client_key`: an IPv6 client usually holds a whole /64, so its
addresses share one bucket.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

IPV6_CLIENT_PREFIX = 64
IPV6_SITE_PREFIX = 48
"""What one customer or one site is usually given: a limit that must hold against one party,
not one device (the public feedback share), counts an IPv6 address by its /48."""
"""An IPv6 client is counted by its /64: one subscriber line gets at least that many
addresses, and could otherwise pick a new one for every request."""


def parse_address(value: str) -> Address | None:
    """The IP address in an ``X-Forwarded-For`` hop or a peer address; ``None`` if there is none.

    Accepts ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1`` and ``[2001:db8::1]:443``.
    """
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_key(host: str, ipv6_prefix: int = IPV6_CLIENT_PREFIX) -> str:
    """The rate-limit bucket of a client address: the address itself, an IPv6 one's network
    (/64 by default: one household's or one server's)."""
    address = parse_address(host)
    if address is None:
        return host or "unknown"
    if isinstance(address, IPv6Address):
        return str(IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed.

    Args:
        networks: Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``, ``::1``), as strings
            or parsed already (the setting ``forwarded_allow_ips`` is validated on load).
    """

    def __init__(self, networks: Iterable[str | Network]) -> None:
        self.networks: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str) -> bool:
        """Whether ``host`` is one of the proxies."""
        address = parse_address(host)
        return address is not None and any(address in net for net in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client of a request that ``peer`` sent with these ``X-Forwarded-For`` values.

        From anyone but a trusted proxy, ``peer`` itself. From a proxy, the hops are read from
        the right (each proxy appends the address it received the request from) up to the
        first address that is not a proxy: what lies left of it was written by the client and
        is ignored. A hop that is not an IP address ends the walk at the last trusted one.
        """
        if not self.trusts(peer):
            return peer
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        client = peer
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break
            client = str(address)
            if not any(address in net for net in self.networks):
                break
        return client


class ForwardedForMiddleware:
    """Puts the client's real address in ``scope["client"]`` for requests from a trusted proxy.

    With no trusted proxies it changes nothing: ``X-Forwarded-For`` is never read.
    """

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if peer and self.trusted.trusts(peer[0]):
                values = [
                    value.decode("latin-1")
                    for name, value in scope.get("headers", ())
                    if name == b"x-forwarded-for"
                ]
                if values:
                    host = self.trusted.client(peer[0], values)
                    if host != peer[0]:
                        scope["client"] = (host, 0)
        await self.app(scope, receive, send)


def peer_host(scope: Scope) -> str:
    """The client address of a request (after :class:`ForwardedForMiddleware`)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def uvicorn_proxy_options(networks: Sequence[str]) -> dict[str, Any]:
    """uvicorn's proxy-header options for ``kb serve``: on for these proxies only.

    uvicorn's own default trusts ``X-Forwarded-For`` from 127.0.0.1, so that anything on the
    server itself (or any client of a proxy on it that passes the header through) could pick
    its address; with no proxies configured, kb turns the header off altogether.
    """
    if not networks:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(networks)}
