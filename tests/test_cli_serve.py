"""``kb serve --bootstrap`` (the README's main job) serves whatever the data folder holds: it
builds the index on the first run, and rebuilds it when the index no longer fits the model kb
runs (``KB_MODEL`` changed, or the adapted model it was built with is gone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.cli import main
from kb.embed.adapt import ACTIVE_NAME
from kb.index.folder import IndexRoot
from kb.settings import Settings
from tests.test_cli import FAQ_CSV


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    import uvicorn

    apps: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    return apps


def _corpus(tmp_path: Path) -> Path:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "faq.csv").write_text(FAQ_CSV, encoding="utf-8")
    return src


def _serving(data: Path) -> tuple[str, str]:
    current = IndexRoot(Settings(data_dir=data).index_root).current()
    return current.name, current.manifest().model


def test_the_first_run_builds_and_the_next_serves_the_same_index(
    tmp_path: Path, served: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    data, src = tmp_path / "data", _corpus(tmp_path)
    args = ["--data-dir", str(data), "--model", "fake", "serve", "--bootstrap", str(src)]
    assert main(args) == 0
    first = _serving(data)
    assert first[1] == "fake-hash-64"
    assert main(args) == 0
    assert _serving(data) == first  # nothing rebuilt: it fits
    assert len(served) == 2


def test_an_index_of_another_model_is_rebuilt_before_serving(
    tmp_path: Path, served: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    data, src = tmp_path / "data", _corpus(tmp_path)
    assert main(["--data-dir", str(data), "--model", "fake:32", "ingest", str(src)]) == 0
    before = _serving(data)
    assert before[1] == "fake-hash-32"
    capsys.readouterr()

    args = ["--data-dir", str(data), "--model", "fake", "serve", "--bootstrap", str(src)]
    assert main(args) == 0

    name, model = _serving(data)
    assert (model, name != before[0]) == ("fake-hash-64", True)
    said = capsys.readouterr()
    assert "索引はモデル fake-hash-32 で作られています" in said.out + said.err
    assert served  # and then it serves


def test_an_index_of_an_adapted_model_that_is_gone_is_rebuilt_with_the_base(
    tmp_path: Path, served: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, src = tmp_path / "data", _corpus(tmp_path)
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)]) == 0
    # As a detached adaptation left it when its model folder went away: the record names a
    # folder that is not there, and the serving index says it was built with that model.
    gone = "adapted-fake-0123456789"
    record = {"base_model": "fake", "folder": gone, "adopted_at": "2026-12-07T13:53:56+00:00"}
    (data / "models").mkdir(exist_ok=True)
    (data / "models" / ACTIVE_NAME).write_text(json.dumps(record), encoding="utf-8")
    current = IndexRoot(Settings(data_dir=data).index_root).current().path
    manifest = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    (current / "manifest.json").write_text(
        json.dumps({**manifest, "model": f"adapted:{gone}"}), encoding="utf-8"
    )
    monkeypatch.setenv("KB_ADAPT", "true")

    args = ["--data-dir", str(data), "--model", "fake", "serve", "--bootstrap", str(src)]
    assert main(args) == 0

    name, model = _serving(data)
    assert (model, name != current.name) == ("fake-hash-64", True)


def test_without_bootstrap_nothing_is_rebuilt(tmp_path: Path, served: list[object]) -> None:
    data, src = tmp_path / "data", _corpus(tmp_path)
    assert main(["--data-dir", str(data), "--model", "fake:32", "ingest", str(src)]) == 0
    before = _serving(data)
    assert main(["--data-dir", str(data), "--model", "fake", "serve"]) == 0
    assert _serving(data) == before  # the operator decides: /readyz says to run `kb build`


def test_a_busy_data_folder_is_served_as_it_is_and_said(
    tmp_path: Path,
    served: list[object],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kb.index.lock import writer_lock

    data, src = tmp_path / "data", _corpus(tmp_path)
    assert main(["--data-dir", str(data), "--model", "fake:32", "ingest", str(src)]) == 0
    before = _serving(data)
    capsys.readouterr()
    monkeypatch.setenv("KB_WRITER_LOCK_WAIT", "0")

    args = ["--data-dir", str(data), "--model", "fake", "serve", "--bootstrap", str(src)]
    with writer_lock(Settings(data_dir=data), "ingest"):  # a long ingest elsewhere
        assert main(args) == 0

    assert _serving(data) == before  # not rebuilt: /readyz says why
    assert served
    out = capsys.readouterr().out
    assert "索引を作り直せませんでした" in out
    assert "fake-hash-64" in out  # the ids compared are the index's own
