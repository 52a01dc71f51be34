"""The HTTP service: address, request limits, the public widget's budget, proxies, contacts."""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_settings import NoDecode


class ServiceSettings(BaseModel):
    """What ``kb serve`` listens on and what each request may cost."""

    host: str = Field(
        default="127.0.0.1",
        description=(
            "Address `kb serve` listens on (--host overrides it); 127.0.0.1 behind a reverse "
            "proxy on the same server, 0.0.0.0 for all interfaces."
        ),
    )
    port: int = Field(
        default=8000, ge=1, le=65535, description="Port `kb serve` listens on (--port)."
    )
    max_query_chars: int = Field(
        default=500,
        ge=1,
        description="Longest staff search in characters (API and `kb search`); longer: 422.",
    )
    default_k: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Results per pane by default (not read yet: the API and `kb search` use 5).",
    )
    max_k: int = Field(
        default=50, ge=1, description="Most results per pane a staff search may ask for (k)."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="Largest request body in bytes (413 above it); uploads use max_upload_bytes.",
    )
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1,
        description=(
            "Largest admin upload in bytes (POST /api/v1/admin/ingest, all files together); "
            "413 above it."
        ),
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description=(
            "Other origins (https://host) whose pages may call the staff API (/api/v1) from a "
            "browser; empty: only kb's own pages."
        ),
    )
    public_cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (city web pages) allowed to call /public/v1 from a browser.",
    )
    public_rate_per_minute: float = Field(
        default=120.0,
        gt=0,
        description=(
            "Public API tokens a client address gains per minute. A suggestion or feedback "
            "costs 0.25, a search 1 plus 1 per 40 characters (10 characters: 1.25, 200: 6), "
            "roughly the CPU each takes (see kb.api.ratelimit)."
        ),
    )
    public_rate_burst: int = Field(
        default=30, ge=1, description="Public API tokens a client address may spend at once."
    )
    reject_delay: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description=(
            "Seconds a request refused for a limit (public rate limit, busy public search, "
            "invalid-key lockout) is held before its 429/503, never longer than the client "
            "must wait anyway: a flood that retries at once gets about one answer a second per "
            "connection. 0 = answer at once."
        ),
    )
    public_max_query_chars: int = Field(
        default=200,
        ge=1,
        description=(
            "Longest public FAQ search in characters: a longer one is cut at its last sentence "
            "end within the limit, or refused with 422 when that would drop more than half."
        ),
    )
    public_search_concurrency: int = Field(
        default=1,
        ge=1,
        description=(
            "Public searches that run at once per worker process; the other search threads "
            "and cores stay free for staff searches."
        ),
    )
    public_search_queue: int = Field(
        default=8,
        ge=0,
        description="Public searches that may wait for a turn; beyond that, 503 (retry).",
    )
    public_search_budget_per_minute: float = Field(
        default=600.0,
        gt=0,
        description=(
            "Tokens (the prices of public_rate_per_minute) that the public searches of all "
            "clients together may spend per minute and worker: 8 short searches a second, "
            "about a sixth of a core; beyond it, 503 (retry). Keeps a crowd of addresses from "
            "the staff's cores."
        ),
    )
    public_feedback_per_minute: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Widget answers (「役に立ちましたか」) that all clients together may record per "
            "minute and worker (half of it at once); beyond it, 503 (retry). Each is a row the "
            "trainer's dashboard reads, and per address alone a crowd could write millions a "
            "day. One client address (an IPv6 one by its /48) may record a tenth of it (429 "
            "beyond), so that it cannot take the whole budget from the other citizens."
        ),
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Reverse proxies (IP addresses or networks, comma-separated) whose "
            "X-Forwarded-For header gives the client address for rate limits, the invalid-key "
            "lockout and logs. Empty (the default): the header is ignored."
        ),
    )
    root_path: str = Field(
        default="",
        description=(
            "The sub-path a reverse proxy serves kb under (/faq for "
            "https://www.city.example.jp/faq/); empty: the site root. The pages work under any "
            "sub-path without it (their links are relative); set it so that /docs calls the "
            "API through the proxy, and so that a proxy that does not strip the prefix works."
        ),
    )
    metrics_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Addresses or networks (comma-separated) that may read /metrics without a key "
            "(the Prometheus server); everyone else needs an admin key. Empty (the default): "
            "an admin key always."
        ),
    )
    public_max_results: int = Field(
        default=5, ge=1, le=20, description="Most FAQ entries a public search returns."
    )
    suggest_max: int = Field(
        default=8, ge=1, le=20, description="Most suggestions the widget shows while typing."
    )
    query_cache_size: int = Field(
        default=1024,
        ge=0,
        le=1_000_000,
        description=(
            "Recent queries whose vector and answer each search process keeps in memory, so "
            "that a query asked again is neither embedded nor searched again (never written to "
            "disk; dropped when the model or the index changes). 0 turns the caches off."
        ),
    )
    contact_name: str = Field(
        default="市役所 総合相談窓口",
        max_length=100,
        description=(
            "The city's general contact, offered when the search finds no answer (the widget's "
            "「見つかりませんでした」 and the console's department pane): its name."
        ),
    )
    contact_phone: str = Field(default="", max_length=50, description="Its phone number.")
    contact_hours: str = Field(
        default="", max_length=100, description="Its opening hours (平日 8:30～17:15)."
    )
    contact_url: str = Field(
        default="", max_length=500, description="Its page on the city's site (https://...)."
    )
    contact_form_url: str = Field(
        default="",
        max_length=500,
        description="The city's contact form (https://...); the widget links to it if set.",
    )

    @field_validator("contact_url", "contact_form_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        """Empty, or an http(s) address: the widget shows it to citizens as a link."""
        value = value.strip()
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not a web address (https://...)")
        return value

    @field_validator("forwarded_allow_ips", "metrics_allow_ips", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object, info: ValidationInfo) -> object:
        """``10.0.0.5,10.0.1.0/24`` (or a JSON list) as normalized networks; no ``*``."""
        if isinstance(value, str):
            text = value.strip()
            try:
                value = json.loads(text) if text.startswith("[") else text.split(",")
            except json.JSONDecodeError:
                raise ValueError(
                    "write the addresses comma-separated (10.0.0.5,10.0.0.6) or as a JSON list"
                ) from None
        if not isinstance(value, list | tuple):
            return value
        networks = []
        for item in value:
            entry = str(item).strip()
            if not entry:
                continue
            if entry == "*" and info.field_name == "metrics_allow_ips":
                raise ValueError(
                    "'*' would show the metrics to every client: list the Prometheus "
                    "server's address instead"
                )
            if entry == "*":
                raise ValueError(
                    "'*' would trust X-Forwarded-For from every client, so any client could "
                    "pose as any address: list the reverse proxies' addresses instead"
                )
            try:
                networks.append(str(ipaddress.ip_network(entry)))
            except ValueError as exc:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or "
                    f"10.0.0.0/24): {exc}"
                ) from None
        return networks

    @field_validator("root_path")
    @classmethod
    def _sub_path(cls, value: str) -> str:
        """``faq``, ``/faq/`` or ``/faq`` as ``/faq``; empty or ``/`` as empty (no sub-path)."""
        text = value.strip()
        if text in ("", "/"):
            return ""
        if "://" in text or any(c in text for c in "?#\\ ") or not text.isprintable():
            raise ValueError(
                f"{value!r} is not a path: write only the sub-path the reverse proxy serves kb "
                "under (e.g. /faq), without https:// or a host"
            )
        segments = [part for part in text.split("/") if part]
        if any(part in (".", "..") for part in segments):
            raise ValueError(f"{value!r} is not a plain path (e.g. /faq or /soudan/faq)")
        return "/" + "/".join(segments)
