"""Search quality and the trainer's thresholds: query log, feedback, synonyms, FAQ approval."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from kb.settings.data import default_synonym_dictionary


class SearchSettings(BaseModel):
    """What search learns from (feedback, synonyms, the query log) and the trainer's thresholds."""

    query_log: bool = Field(
        default=True, description="Log searches (masked) to DATA_DIR/querylog.sqlite."
    )
    feedback_weight: float = Field(
        default=1.0,
        ge=0.0,
        description=(
            "Weight of the kNN vote of past 「正しい担当課」 feedback in department ranking."
        ),
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

    @field_validator("synonym_dictionary", mode="before")
    @classmethod
    def _no_dictionary(cls, value: object) -> object:
        """``none`` (or an empty value) turns the base dictionary off."""
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off"):
            return None
        return value

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
