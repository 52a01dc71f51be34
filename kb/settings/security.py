"""The audit log's key and anchor (outside the data folder by default)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from kb.settings.data import DataSettings, default_audit_dir


class SecuritySettings(DataSettings):
    """Where the audit log's HMAC key and its append-only anchor live."""

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
