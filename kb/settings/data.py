"""Where kb keeps its data, the language it speaks to staff in, and how long a writer waits.

The paths of every database and folder under ``DATA_DIR`` are derived here, in one place."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


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


class DataSettings(BaseModel):
    """``DATA_DIR`` and the files under it; the staff language; the writer lock's patience."""

    data_dir: Path = Field(default=Path("data"), description="Store, indexes and model cache.")
    lang: Literal["ja", "en"] = Field(
        default="ja",
        description=(
            "Language of the messages for staff: ingest reports and progress, command-line "
            "output and errors, upload responses, desk and trainer refusals ('ja' Japanese, "
            "'en' English)."
        ),
    )
    writer_lock_wait: float = Field(
        default=1800.0,
        ge=0,
        description=(
            "Seconds a command-line ingest, build or approval waits for another one to finish "
            "(the writer lock, DATA_DIR/write.lock) before giving up; 0 = do not wait. The API "
            "answers 409 at once, except for deletions and FAQ withdrawals (api_writer_wait)."
        ),
    )
    api_writer_wait: float = Field(
        default=30.0,
        ge=0,
        description=(
            "Seconds a deletion (erasure) or an FAQ withdrawal or republication through the "
            "API waits for another writer before 409. While a deletion waits, no other writer "
            "takes the lock, so a stream of other writes cannot keep it out."
        ),
    )

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
