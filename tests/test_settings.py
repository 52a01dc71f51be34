"""Thread settings: one model thread per served query, the cores (at most 4) for a lone one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.settings import Settings


def test_auto_threads_give_a_lone_query_every_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    auto = Settings(data_dir=tmp_path, threads=0)
    assert auto.query_threads == 1
    assert auto.solo_query_threads == 2
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert Settings(data_dir=tmp_path, threads=0).solo_query_threads == 4


def test_worker_processes_share_the_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each worker counts only its own queries, so two workers on two cores get one thread each.
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert Settings(data_dir=tmp_path, threads=0, workers=2).solo_query_threads == 1
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert Settings(data_dir=tmp_path, threads=0, workers=2).solo_query_threads == 2
    monkeypatch.setenv("KB_WORKERS", "3")
    assert Settings(data_dir=tmp_path, threads=0).workers == 3


def test_a_fixed_thread_count_fixes_both(tmp_path: Path) -> None:
    fixed = Settings(data_dir=tmp_path, threads=3)
    assert fixed.query_threads == 3
    assert fixed.solo_query_threads == 3
