"""Request and response schemas of the account and admin routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kb.security.roles import Role


class MeOut(BaseModel):
    """The caller, as the key they sent identifies them."""

    name: str
    role: str
    roles: list[str] = Field(description="Every role this key includes (admin ⊇ trainer ⊇ staff).")


class KeyIn(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=64,
        description="Who or what holds the key (at most 64 characters).",
    )
    role: Role = Field(description="staff, trainer or admin.")
    expires_days: int | None = Field(
        default=None, ge=1, le=3650, description="Days until the key stops working (none: never)."
    )


class KeyOut(BaseModel):
    name: str
    role: str
    key_id: str = Field(description="The public part of the key (kb_<key_id>_...).")
    created_at: str
    revoked_at: str = ""
    expires_at: str = ""
    active: bool


class KeyCreatedOut(KeyOut):
    key: str = Field(description="The secret key. It is shown this once and stored only hashed.")


class KeyListOut(BaseModel):
    keys: list[KeyOut]


class RowErrorOut(BaseModel):
    source: str
    line: int
    field: str
    message: str


class BuildOut(BaseModel):
    index: str
    chunks: int
    embedded: int
    cached: int
    seconds: float


class IngestOut(BaseModel):
    upload_id: str = Field(
        description="The upload's id: stored records name their file upload:<id>/<file name>."
    )
    files: list[str] = Field(description="The uploaded files' names, personal data masked.")
    documents: int
    departments: int
    chunks: int
    added: int
    updated: int
    unchanged: int
    errors: list[RowErrorOut] = Field(
        description="Rows and files not stored, each with file, line, field and message."
    )
    build: BuildOut | None = Field(
        default=None, description="The index build that followed, unless build=false."
    )
    stored: int = Field(default=0, description="Documents written (added or updated).")
    warnings: list[RowErrorOut] = Field(
        default_factory=list,
        description="Rows stored with a problem (an unknown channel kept as written...).",
    )
    messages: list[str] = Field(
        default_factory=list,
        description="The result in words for staff, in the service's language (KB_LANG).",
    )


class AuditEventOut(BaseModel):
    id: int
    created_at: str
    actor: str
    role: str
    action: str
    query: str
    ids: list[str]
    detail: str
    hash: str


class AuditOut(BaseModel):
    events: list[AuditEventOut]
