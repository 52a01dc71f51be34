"""``kb backup``: what a backup holds, how it is written, and that a restored copy answers
exactly as the original (kb.ops.backup, kb.ops.datafiles, kb.ops.layout)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from kb.errors import BackupError
from kb.index.folder import IndexRoot
from kb.ops import backup as backup_module
from kb.ops import datafiles
from kb.ops.backup import create_backup
from kb.ops.layout import BackupManifest
from kb.ops.restore import restore_backup
from kb.security.audit import AuditLog
from kb.store.backup import integrity_check
from tests.ops.conftest import answers, demo_queries, keyed, settings_for


def test_a_restored_copy_answers_exactly_as_the_original(data: Path, tmp_path: Path) -> None:
    settings = settings_for(data)
    report = create_backup(settings, tmp_path / "backup")
    target = tmp_path / "elsewhere" / "data"
    restore_backup(keyed(target, data), report.path)
    queries = demo_queries()
    assert len(queries) == 220
    original = answers(settings, queries)
    restored = answers(keyed(target, data), queries)
    assert restored == original  # ids, scores, panes, confidence of every query
    assert any(a["faqs"] for a in original)


def test_the_manifest_names_and_checks_every_file(data: Path, tmp_path: Path) -> None:
    settings = settings_for(data)
    report = create_backup(settings, tmp_path / "backup")
    manifest = BackupManifest.read(report.path)
    paths = {f.path for f in manifest.files}
    serving = IndexRoot(data / "indexes").current()
    assert manifest.index == serving.name
    assert f"data/indexes/{serving.name}/manifest.json" in paths
    assert "data/indexes/CURRENT" in paths
    for name in ("kb.sqlite", "embeddings.sqlite", "audit.sqlite", "synonyms.tsv"):
        assert f"data/{name}" in paths
    assert "audit/audit.anchor" in paths
    assert manifest.model == "fake"
    assert manifest.model_hash == ""
    assert manifest.store_generation >= manifest.index_generation >= 1
    assert manifest.audit is not None
    assert manifest.audit.events == 3
    assert manifest.audit.anchored == 3
    assert len(manifest.audit.key_id) == 16
    for entry in manifest.files:
        body = (report.path / entry.path).read_bytes()
        assert len(body) == entry.size
        assert hashlib.sha256(body).hexdigest() == entry.sha256
    # SHA256SUMS checks with the system's own tool, manifest.json included.
    check = subprocess.run(
        ["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=report.path, capture_output=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    sums = (report.path / "SHA256SUMS").read_text(encoding="utf-8")
    assert "  manifest.json\n" in sums
    # Private: the backup holds what the data folder holds.
    assert report.path.stat().st_mode & 0o077 == 0
    assert all((report.path / f.path).stat().st_mode & 0o077 == 0 for f in manifest.files)
    # The audit key is never in a backup.
    key = (data.with_name("data-audit") / "audit.key").read_bytes().strip()
    for entry in manifest.files:
        assert key not in (report.path / entry.path).read_bytes()


def test_every_database_is_found_and_copied_online(data: Path, tmp_path: Path) -> None:
    # A database kb does not know yet (a later feature's), in a subfolder, with commits still
    # in its WAL while the backup runs: found by its header, copied with the online backup.
    (data / "records").mkdir()
    extra = sqlite3.connect(data / "records" / "desk.sqlite")
    extra.execute("PRAGMA journal_mode=WAL")
    extra.execute("PRAGMA wal_autocheckpoint=0")
    extra.execute("CREATE TABLE r (text TEXT)")
    extra.execute("INSERT INTO r VALUES ('相談記録')")
    extra.commit()
    (data / "notes.txt").write_text("メモ", encoding="utf-8")
    try:
        report = create_backup(settings_for(data), tmp_path / "backup")
    finally:
        extra.close()
    kinds = {f.path: f.kind for f in report.manifest.files}
    assert kinds["data/records/desk.sqlite"] == "database"
    assert kinds["data/notes.txt"] == "file"
    copy = report.path / "data/records/desk.sqlite"
    assert integrity_check(copy) == "ok"
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT text FROM r").fetchall() == [("相談記録",)]
    conn.close()


def test_what_a_backup_leaves_out(data: Path, tmp_path: Path) -> None:
    settings = settings_for(data)
    (data / "models" / "some-model").mkdir(parents=True)
    (data / "models" / "some-model" / "model.safetensors").write_bytes(b"weights")
    (data / "uploads" / "abc").mkdir(parents=True)
    (data / "uploads" / "abc" / "cases.csv").write_text("unmasked", encoding="utf-8")
    (data / "kb.sqlite-wal").write_bytes(b"")
    (data / "write.lock").write_text("", encoding="utf-8")
    os.symlink("/etc/passwd", data / "link.txt")
    old_build = data / "indexes" / "20200101T000000000000-aaaaaa"
    old_build.mkdir()
    (old_build / "manifest.json").write_text("{}", encoding="utf-8")
    report = create_backup(settings, tmp_path / "backup")
    paths = {f.path for f in report.manifest.files}
    assert not [p for p in paths if "/models/" in p or p.startswith("models/")]
    assert not [p for p in paths if "uploads" in p or p.endswith(("-wal", ".lock"))]
    assert not [p for p in paths if "20200101T" in p]
    assert "data/link.txt" not in paths
    assert any("link.txt" in s for s in report.skipped)
    shared = tmp_path / "shared-models" / "linked-model"
    shared.mkdir(parents=True)
    (shared / "model.onnx").write_bytes(b"graph")
    os.symlink(shared, data / "models" / "linked-model")  # models kept elsewhere, linked
    with_models = create_backup(settings, tmp_path / "backup2", with_models=True)
    models = {f.path for f in with_models.manifest.files}
    assert "models/some-model/model.safetensors" in models
    assert "models/linked-model/model.onnx" in models  # an outside probe got 103 bytes
    assert with_models.manifest.with_models


def test_the_destination_must_be_new_and_outside(data: Path, tmp_path: Path) -> None:
    settings = settings_for(data)
    with pytest.raises(BackupError, match="の中です"):
        create_backup(settings, data / "backups" / "b1")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("keep", encoding="utf-8")
    with pytest.raises(BackupError, match="空ではありません"):
        create_backup(settings, taken)
    assert (taken / "x").read_text(encoding="utf-8") == "keep"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert create_backup(settings, empty).path == empty
    with pytest.raises(BackupError, match="データフォルダーがありません"):
        create_backup(settings_for(tmp_path / "nothing"), tmp_path / "b2")


def test_an_interrupted_backup_leaves_nothing(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = datafiles.backup_database
    calls: list[Path] = []

    def failing(source: Path, target: Path) -> None:
        calls.append(source)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.setattr(datafiles, "backup_database", failing)
    with pytest.raises(BackupError, match="No space left"):
        create_backup(settings_for(data), tmp_path / "backup")
    assert list(tmp_path.iterdir()) == [tmp_path / "live"]  # no backup, no .partial folder


def test_a_partial_copy_a_killed_backup_left_is_removed_by_the_next_one(
    data: Path, tmp_path: Path
) -> None:
    # An outside probe killed `kb backup` mid-copy: its hidden `.DEST.partial-*` folder, a copy
    # of the data folder, stayed, and rotation by name (`kb-*`) never finds it.
    import fcntl

    backups = tmp_path / "backups"
    backups.mkdir()
    left = backups / ".kb-1.partial-abcd1234"
    (left / "data").mkdir(parents=True)
    (left / "data" / "kb.sqlite").write_bytes(b"personal data")
    busy = backups / ".kb-2.partial-efgh5678"  # a backup writing right now holds its lock
    busy.mkdir()
    fd = os.open(busy, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        report = create_backup(settings_for(data), backups / "kb-3")
    finally:
        os.close(fd)
    assert not left.exists()
    assert busy.is_dir()
    assert sorted(p.name for p in backups.iterdir()) == [".kb-2.partial-efgh5678", "kb-3"]
    # Every folder of a backup is its owner's only, whatever the umask.
    modes = {oct(p.stat().st_mode & 0o777) for p in report.path.rglob("*") if p.is_dir()}
    assert modes == {oct(0o700)}
    assert report.path.stat().st_mode & 0o777 == 0o700


def test_a_destination_that_cannot_be_made_is_a_clear_error(data: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(BackupError, match="バックアップを作れません"):
        create_backup(settings_for(data), blocker / "sub" / "kb-1")


def test_a_build_published_while_the_index_is_copied(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A build switches CURRENT and prunes the build being copied, midway: the backup copies
    # the new serving build instead.
    root = IndexRoot(data / "indexes")
    old = root.current()
    newer = data / "indexes" / "29991231T000000000000-bbbbbb"
    import shutil

    shutil.copytree(old.path, newer)
    real = datafiles.copy_hashed
    switched: list[bool] = []

    def switching(source: Path, target: Path) -> tuple[int, str]:
        if not switched and old.name in str(source):
            switched.append(True)
            (data / "indexes" / "CURRENT").write_text(newer.name + "\n", encoding="utf-8")
            shutil.rmtree(old.path)
        return real(source, target)

    monkeypatch.setattr(datafiles, "copy_hashed", switching)
    report = create_backup(settings_for(data), tmp_path / "backup")
    assert switched
    assert report.manifest.index == newer.name
    assert not (report.path / "data" / "indexes" / old.name).exists()
    pointer = (report.path / "data" / "indexes" / "CURRENT").read_text(encoding="utf-8")
    assert pointer.strip() == newer.name


def test_the_anchor_is_cut_at_the_copied_log(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Searches go on while the backup runs: events appended after audit.sqlite was copied
    # are anchored in the live anchor, but must not be in the backup's.
    settings = settings_for(data)
    real = backup_module.audit_head

    def appending(database: Path):  # type: ignore[no-untyped-def]
        log = AuditLog.from_settings(settings, masker=lambda query: query)
        try:
            log.append("search", actor="staff-2", role="staff", query="後から")
        finally:
            log.close()
        return real(database)

    monkeypatch.setattr(backup_module, "audit_head", appending)
    report = create_backup(settings, tmp_path / "backup")
    assert report.manifest.audit is not None
    assert report.manifest.audit.anchored == 3
    live = settings.audit_anchor_path.read_text(encoding="utf-8")
    assert live.splitlines()[-1].startswith("4 ")
    copied = (report.path / "audit" / "audit.anchor").read_text(encoding="utf-8")
    assert copied.splitlines()[-1].startswith("3 ")
    assert copied.startswith("# kb audit anchor")
    target = tmp_path / "restored" / "data"
    key_dir = target.with_name("data-audit")
    key_dir.mkdir(parents=True, mode=0o700)
    (key_dir / "audit.key").write_bytes(settings.audit_key_path.read_bytes())
    (key_dir / "audit.key").chmod(0o600)
    restored = restore_backup(settings_for(target), report.path)
    assert restored.audit is not None
    assert restored.audit.problems == ()
    assert restored.audit.events == 3
