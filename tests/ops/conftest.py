"""A data folder of the demo corpus (fake embedder) to back up, restore and search in."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kb.index.update import ingest_and_build
from kb.search.service import SearchService
from kb.security.audit import AuditLog
from kb.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def demo_queries(n: int | None = None) -> list[str]:
    """The demo set's desk queries (``eval/datasets/demo/queries.jsonl``)."""
    lines = (REPO / "eval/datasets/demo/queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line)["text"] for line in lines if line.strip()]
    return queries if n is None else queries[:n]


def settings_for(data: Path, **overrides: Any) -> Settings:
    """Settings of a test data folder: the fake embedder, no SudachiDict (fast)."""
    return Settings(**{"data_dir": data, "model": "fake", "synonym_dictionary": None, **overrides})


def keyed(data: Path, source: Path) -> Settings:
    """Settings of ``data`` that use the audit key of the data folder ``source``
    (``KB_AUDIT_KEY_FILE``: the key kept apart from the backups)."""
    return settings_for(data, audit_key_file=source.with_name(f"{source.name}-audit") / "audit.key")


def answers(settings: Settings, queries: list[str]) -> list[dict[str, Any]]:
    """What the service answers, everything but the time taken (ids, scores, panes)."""
    service = SearchService.from_settings(settings)
    searcher = service.searcher()
    try:
        out = []
        for query in queries:
            result = dataclasses.asdict(searcher.search(query, k=5))
            result.pop("took_ms")
            out.append(result)
        return out
    finally:
        searcher.close()
        if service.feedback_store is not None:
            service.feedback_store.close()


def copy_data(source: Path, target: Path) -> Path:
    """Copy a data folder (closed) and its audit folder."""
    shutil.copytree(source, target)
    audit = source.with_name(f"{source.name}-audit")
    if audit.is_dir():
        shutil.copytree(audit, target.with_name(f"{target.name}-audit"))
    return target


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus ingested and built once, with a few audit events and the city's
    synonyms: never written to by the tests (they copy it)."""
    data = tmp_path_factory.mktemp("demo") / "data"
    settings = settings_for(data)
    report = ingest_and_build(settings, [REPO / "corpus"])
    assert report.ingest.ok, report.ingest.errors
    (data / "synonyms.tsv").write_text("転入\t引っ越し\n", encoding="utf-8")
    log = AuditLog.from_settings(settings, masker=lambda query: query)
    try:
        for i in range(3):
            log.append("search", actor="staff-1", role="staff", query=f"住民票 {i}")
    finally:
        log.close()
    return data


@pytest.fixture
def data(demo_data: Path, tmp_path: Path) -> Path:
    """A private copy of the demo data folder (``tmp_path/live/data``)."""
    return copy_data(demo_data, tmp_path / "live" / "data")
