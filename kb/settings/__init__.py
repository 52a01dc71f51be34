"""Configuration, read from keyword arguments, environment variables (``KB_*``) or defaults.

Nothing is read or built at import time: call :func:`Settings` (or ``Settings(data_dir=...)``).
One class, :class:`Settings`, made of one part per concern (a module each): the data folder
(:mod:`kb.settings.data`), the model (:mod:`kb.settings.model`), the HTTP service
(:mod:`kb.settings.service`), ingest (:mod:`kb.settings.ingest`), search and the trainer
(:mod:`kb.settings.search`) and the audit log (:mod:`kb.settings.security`).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from kb.settings.data import DataSettings, default_audit_dir, default_synonym_dictionary
from kb.settings.ingest import IngestSettings
from kb.settings.model import DEFAULT_MODEL, ModelSettings
from kb.settings.search import SearchSettings
from kb.settings.security import SecuritySettings
from kb.settings.service import ServiceSettings

__all__ = [
    "DEFAULT_MODEL",
    "DataSettings",
    "Settings",
    "default_audit_dir",
    "default_synonym_dictionary",
]


class Settings(
    ModelSettings,
    ServiceSettings,
    IngestSettings,
    SearchSettings,
    SecuritySettings,
    BaseSettings,
):
    """Runtime settings of kb (CLI, service, evaluation)."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")
