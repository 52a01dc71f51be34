"""The API under the writer lock: 409 while another process writes, private uploads, start-up."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.index.lock import writer_lock
from kb.settings import Settings
from tests.api.conftest import MakeClient
from tests.api.test_trainer_api import copy_of_demo

FAQ = """id,question,answer,department,category,published
W1,犬の登録はどこでできますか。,生活環境課で登録します。,生活環境課,ペット,true
"""


def settings_of(client: TestClient) -> Settings:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings


def upload(client: TestClient, *files: tuple[str, bytes], **params: Any) -> Any:
    return client.post(
        "/api/v1/admin/ingest",
        params=params,
        files=[("files", (name, data, "text/csv")) for name, data in files],
    )


def _assert_busy(response: Any, what: str) -> None:
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "別の取り込み・索引作成が実行中です" in detail
    assert "another ingest or build is running" in detail
    assert f"pid {os.getpid()}, ingest, since" in detail  # the holder (here: the test)
    assert f"retry the {what}" in detail


def test_build_and_upload_get_409_while_another_process_writes(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    settings = settings_of(client)
    with writer_lock(settings, "ingest"):
        _assert_busy(client.post("/api/v1/admin/build"), "build")
        _assert_busy(upload(client, ("faq.csv", FAQ.encode())), "ingest")
        # Refused before the body was read: nothing reached the disk.
        assert not any(settings.uploads_dir.rglob("*.csv"))
    assert client.post("/api/v1/admin/build").status_code == 200
    r = upload(client, ("faq.csv", FAQ.encode()))
    assert r.status_code == 200, r.text
    assert r.json()["build"]["chunks"] > 0


def test_uploads_are_written_privately_and_removed(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kb.index.update

    client = make_client(role="admin")
    real = kb.index.update.ingest_and_build
    seen: dict[str, int] = {}

    def inspecting(settings: Settings, paths: list[Path], **kwargs: Any) -> Any:
        for path in paths:
            seen[path.name] = stat.S_IMODE(path.stat().st_mode)
            seen["folder"] = stat.S_IMODE(path.parent.stat().st_mode)
        seen["uploads"] = stat.S_IMODE(settings.uploads_dir.stat().st_mode)
        return real(settings, paths, **kwargs)

    monkeypatch.setattr(kb.index.update, "ingest_and_build", inspecting)
    old_umask = os.umask(0o002)
    try:
        r = upload(client, ("faq.csv", FAQ.encode()), build="false")
    finally:
        os.umask(old_umask)
    assert r.status_code == 200, r.text
    assert seen == {"faq.csv": 0o600, "folder": 0o700, "uploads": 0o700}
    uploads = settings_of(client).uploads_dir
    assert [p.name for p in uploads.iterdir()] == [".lock"]


def test_a_failed_ingest_still_removes_the_upload(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kb.index.update

    def crash(settings: Settings, paths: list[Path], **kwargs: Any) -> Any:
        raise OSError("disk full")

    client = make_client(role="admin")
    monkeypatch.setattr(kb.index.update, "ingest_and_build", crash)
    # The test client re-raises what the server would answer with a bare 500.
    with pytest.raises(OSError, match="disk full"):
        upload(client, ("faq.csv", FAQ.encode()))
    settings = settings_of(client)
    assert [p.name for p in settings.uploads_dir.iterdir()] == [".lock"]
    # The writer lock was let go too.
    with writer_lock(settings, "build"):
        pass


def test_start_up_removes_what_a_killed_server_left(
    index_root: Path, make_client: MakeClient
) -> None:
    data = index_root.parent
    upload_left = data / "uploads" / "00112233aabbccdd"
    upload_left.mkdir(parents=True)
    (upload_left / "cases.csv").write_text("相談者 山田太郎 090-1234-5678", encoding="utf-8")
    build_left = index_root / ".building-20260101T000000000000-abcdef"
    build_left.mkdir()
    (build_left / "vectors.npy").write_bytes(b"\0" * 64)
    client = make_client(index_root, role="staff")
    assert client.get("/api/v1/search", params={"q": "住民票"}).status_code == 200
    assert not upload_left.exists()
    assert not build_left.exists()


def test_start_up_leaves_a_running_writers_build_alone(
    index_root: Path, make_client: MakeClient
) -> None:
    settings = Settings(data_dir=index_root.parent)
    building = index_root / ".building-20260101T000000000000-abcdef"
    with writer_lock(settings, "ingest"):
        building.mkdir()
        make_client(index_root, role="staff")
        assert building.exists()


def test_approval_gets_409_while_another_process_writes(
    make_client: MakeClient, demo_index: Path, tmp_path: Path
) -> None:
    root = copy_of_demo(demo_index, tmp_path / "data")
    client = make_client(root, role="trainer")
    gaps = client.get("/api/v1/trainer/gaps").json()
    topic_id = gaps["topics"][0]["topic_id"] if gaps["topics"] else "all-01"
    assert client.post("/api/v1/trainer/candidates", json={"topic_id": topic_id}).status_code == 201
    with writer_lock(settings_of(client), "ingest"):
        _assert_busy(client.post("/api/v1/trainer/candidates/FC0001/approve"), "approve")
    listed = client.get("/api/v1/trainer/candidates").json()["candidates"]
    assert [(c["id"], c["status"]) for c in listed] == [("FC0001", "draft")]
    approved = client.post("/api/v1/trainer/candidates/FC0001/approve")
    assert approved.status_code == 200
    assert approved.json()["candidate"]["status"] == "approved"
