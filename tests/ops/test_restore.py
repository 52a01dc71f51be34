"""``kb restore``: it checks everything before it writes anything, and replaces a data folder
all at once (kb.ops.restore)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.errors import BackupError, BusyError
from kb.index.lock import writer_lock
from kb.ops.backup import create_backup
from kb.ops.layout import MANIFEST_NAME
from kb.ops.restore import restore_backup
from kb.security.audit import AuditLog
from tests.ops.conftest import keyed, settings_for

HOLD_OPEN = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
print("open", flush=True)
time.sleep(60)
"""


@pytest.fixture
def backup(data: Path, tmp_path: Path) -> Path:
    return create_backup(settings_for(data), tmp_path / "backup").path


def _nothing_written(target: Path) -> None:
    assert not target.exists()
    if target.parent.exists():
        assert not [p for p in target.parent.iterdir() if ".restore-" in p.name]


def test_a_damaged_file_is_named_and_nothing_is_written(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    store = backup / "data" / "kb.sqlite"
    body = bytearray(store.read_bytes())
    body[len(body) // 2] ^= 0xFF
    store.write_bytes(bytes(body))
    (backup / "data" / "synonyms.tsv").unlink()
    target = tmp_path / "new" / "data"
    target.parent.mkdir()
    with pytest.raises(BackupError) as caught:
        restore_backup(keyed(target, data), backup)
    message = str(caught.value)
    assert "data/kb.sqlite: SHA-256 がマニフェストと一致しません" in message
    assert "data/synonyms.tsv: ありません" in message
    assert "何も書き込んでいません" in message
    _nothing_written(target)


def test_a_damaged_or_foreign_manifest_is_refused(data: Path, backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "new" / "data"
    with pytest.raises(BackupError, match="kb のバックアップではありません"):
        restore_backup(keyed(target, data), tmp_path / "live")
    manifest = json.loads((backup / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest["files"][0]["path"] = "data/../../escape"
    (backup / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BackupError, match="SHA256SUMS"):
        restore_backup(keyed(target, data), backup)
    (backup / "SHA256SUMS").unlink()  # without the sums, the path itself is refused
    with pytest.raises(BackupError, match="escape"):
        restore_backup(keyed(target, data), backup)
    manifest["format"] = 99
    (backup / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BackupError, match="新しい kb"):
        restore_backup(keyed(target, data), backup)
    assert not target.exists()


@pytest.mark.parametrize(
    ("where", "value", "named"),
    [
        # An outside tester's hand-edited manifests: an IndexError and a TypeError traceback.
        ("path", "", "path ''"),
        ("path", 5, "path: int"),
        ("size", "12", "size: str"),
        ("sha256", None, "sha256: NoneType"),
        ("index_generation", True, "index_generation: bool"),
        ("audit", {"events": "x", "head": "", "key_id": ""}, "events: str"),
        # An outside tester: "data//<absolute path>" passed the check and the restore wrote
        # that absolute path.
        ("path", "data//tmp/kb-restore-escape", "path 'data//tmp/kb-restore-escape'"),
        ("path", "data/./kb.sqlite", "path 'data/./kb.sqlite'"),
        ("format", float("inf"), "manifest.json"),
    ],
)
def test_a_manifest_with_a_value_of_the_wrong_type_is_refused_by_name(
    data: Path, backup: Path, tmp_path: Path, where: str, value: object, named: str
) -> None:
    target = tmp_path / "new" / "data"
    manifest = json.loads((backup / MANIFEST_NAME).read_text(encoding="utf-8"))
    if where == "path" and value == "data//tmp/kb-restore-escape":
        # The file is there too, its sums right: only the path's form can refuse it.
        body = (backup / manifest["files"][0]["path"]).read_bytes()
        (backup / "data/tmp").mkdir()
        (backup / "data/tmp/kb-restore-escape").write_bytes(body)
    if where in manifest["files"][0]:
        manifest["files"][0][where] = value
    else:
        manifest[where] = value
    (backup / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    (backup / "SHA256SUMS").unlink()  # as an editor who knew to drop the sums would
    with pytest.raises(BackupError, match=r"manifest\.json") as caught:
        restore_backup(keyed(target, data), backup)
    assert named in str(caught.value)
    assert not target.exists()
    assert not Path("/tmp/kb-restore-escape").exists()


def test_a_manifest_that_lists_a_file_twice_is_refused(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "data"
    manifest = json.loads((backup / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest["files"].append(manifest["files"][0])
    (backup / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    (backup / "SHA256SUMS").unlink()
    with pytest.raises(BackupError, match="twice"):
        restore_backup(keyed(target, data), backup)
    assert not target.exists()


def test_a_truncated_database_with_rewritten_sums_is_refused(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    # An outside tester: the restore succeeded, then every command failed on a malformed store.
    import hashlib

    target = tmp_path / "new" / "data"
    store = backup / "data" / "kb.sqlite"
    store.write_bytes(store.read_bytes()[: store.stat().st_size // 2])
    manifest = json.loads((backup / MANIFEST_NAME).read_text(encoding="utf-8"))
    entry = next(f for f in manifest["files"] if f["path"] == "data/kb.sqlite")
    entry["size"] = store.stat().st_size
    entry["sha256"] = hashlib.sha256(store.read_bytes()).hexdigest()
    (backup / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    (backup / "SHA256SUMS").unlink()
    with pytest.raises(BackupError, match=r"data/kb\.sqlite") as caught:
        restore_backup(keyed(target, data), backup)
    assert "何も書き込んでいません" in str(caught.value)
    assert not target.exists()


def test_a_target_inside_the_backup_is_refused(data: Path, backup: Path, tmp_path: Path) -> None:
    # An outside tester restored into the backup's own data/ with --force: its sums broke.
    before = (backup / MANIFEST_NAME).read_bytes()
    with pytest.raises(BackupError, match="バックアップの外の場所を指定して"):
        restore_backup(keyed(backup / "data", data), backup, force=True)
    assert (backup / MANIFEST_NAME).read_bytes() == before
    assert not list(backup.glob("data.before-restore-*"))


def test_a_backup_of_another_model_is_refused_unless_allowed(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "data"
    other = keyed(target, data).model_copy(update={"model": "fake:32"})
    with pytest.raises(BackupError, match="--allow-model-change"):
        restore_backup(other, backup)
    assert not target.exists()
    report = restore_backup(other, backup, allow_model_change=True)
    assert report.model_changed
    assert (target / "kb.sqlite").is_file()


def test_a_changed_local_model_is_told_by_its_content(tmp_path: Path, data: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    (model / "model.safetensors").write_bytes(b"weights v1")
    settings = settings_for(data).model_copy(update={"model": str(model)})
    report = create_backup(settings, tmp_path / "backup")
    assert report.manifest.model_hash.startswith("sha256:")
    (model / "model.safetensors").write_bytes(b"weights v2")
    target = tmp_path / "new" / "data"
    restoring = keyed(target, data).model_copy(update={"model": str(model)})
    with pytest.raises(BackupError, match="モデル"):
        restore_backup(restoring, report.path)
    assert not target.exists()


def test_the_audit_key_must_be_there_and_be_the_right_one(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "data"
    with pytest.raises(BackupError, match=r"監査ログの鍵.*が使えません"):
        restore_backup(settings_for(target), backup)  # no key at <target>-audit/audit.key
    _nothing_written(target)
    wrong = tmp_path / "wrong.key"
    wrong.write_text("x" * 64, encoding="utf-8")
    wrong.chmod(0o600)
    with pytest.raises(BackupError, match="ではありません"):
        restore_backup(settings_for(target, audit_key_file=wrong), backup)
    _nothing_written(target)
    report = restore_backup(keyed(target, data), backup)
    assert report.audit is not None
    assert report.audit.problems == ()


def test_a_drill_beside_the_live_folder_never_moves_the_live_anchor(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    # An outside probe ran the restore drill with kb.env's KB_AUDIT_ANCHOR (the live one):
    # the restore moved the live anchor aside and the live log failed `kb audit verify`.
    live = settings_for(data)
    live_anchor = live.audit_anchor_path
    assert live_anchor.exists()
    before = live_anchor.read_bytes()
    drill = tmp_path / "drill" / "data"
    shared = keyed(drill, data).model_copy(update={"audit_anchor": live_anchor})
    with pytest.raises(BackupError, match="KB_AUDIT_ANCHOR") as caught:
        restore_backup(shared, backup)
    assert "何も書き込んでいません" in str(caught.value)
    _nothing_written(drill)
    assert live_anchor.read_bytes() == before
    # With its own anchor the drill restores and verifies.
    own = shared.model_copy(update={"audit_anchor": tmp_path / "drill" / "anchor"})
    report = restore_backup(own, backup)
    assert report.audit is not None
    assert report.audit.problems == ()
    assert live_anchor.read_bytes() == before
    # The next drill, into the folder the last one filled, with the live anchor again (the
    # live service has gone on): --force replaces the folder, but the anchor is not that
    # folder's log's.
    log = AuditLog.from_settings(live)
    log.append("search", actor="desk-1", role="staff", query="住民票")
    log.close()
    before = live_anchor.read_bytes()
    with pytest.raises(BackupError, match="KB_AUDIT_ANCHOR"):
        restore_backup(shared, backup, force=True)
    assert live_anchor.read_bytes() == before
    # The data folder lost, its anchor kept: --force says the anchor is this folder's.
    lost = tmp_path / "lost" / "data"
    recovered = restore_backup(shared.model_copy(update={"data_dir": lost}), backup, force=True)
    assert recovered.audit is not None


def test_a_killed_restores_staging_copy_goes_with_the_next_restore(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    # An outside probe killed `kb restore` four times: four staging copies with case text
    # stayed beside the data folder through later restores, backups and ingests.
    target = tmp_path / "new" / "data"
    target.parent.mkdir()
    stale = target.parent / ".data.restore-killed"
    (stale / "indexes").mkdir(parents=True)
    (stale / "kb.sqlite").write_text("相談者は30代男性", encoding="utf-8")
    running = target.parent / ".data.restore-running"
    running.mkdir()
    fd = os.open(running, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another restore writing it now
    try:
        restore_backup(keyed(target, data), backup)
    finally:
        os.close(fd)
    assert not stale.exists()
    assert running.is_dir()
    assert [p.name for p in target.parent.iterdir() if ".restore-" in p.name] == [running.name]


def test_a_live_data_folder_needs_force(data: Path, backup: Path) -> None:
    settings = settings_for(data)
    before = sorted(p.name for p in data.iterdir())
    with pytest.raises(BackupError, match="--force"):
        restore_backup(settings, backup)
    assert sorted(p.name for p in data.iterdir()) == before


def test_force_still_refuses_while_a_writer_runs(data: Path, backup: Path) -> None:
    settings = settings_for(data)
    with writer_lock(settings, "ingest"), pytest.raises(BusyError):
        restore_backup(settings, backup, force=True)
    assert not [p for p in data.parent.iterdir() if "restore" in p.name]


def test_force_still_refuses_while_a_service_has_it_open(data: Path, backup: Path) -> None:
    settings = settings_for(data)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(data / "feedback.sqlite")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(BackupError, match=r"feedback\.sqlite を別のプロセスが開いています"):
            restore_backup(settings, backup, force=True)
    finally:
        holder.kill()
        holder.wait()
    assert not [p for p in data.parent.iterdir() if "restore" in p.name]


def test_an_anchor_that_cannot_be_moved_aside_leaves_the_data_folder_in_place(
    data: Path, backup: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An outside tester made the anchor append-only (chattr +a): the data folder was already
    # replaced when moving the anchor failed, and the message said nothing had changed.
    settings = settings_for(data)
    (data / "after-backup.txt").write_text("written after the backup", encoding="utf-8")
    anchor = settings.audit_anchor_path
    anchor_before = anchor.read_bytes()
    rename = os.rename

    def refusing(src: object, dst: object) -> None:
        if Path(str(src)) == anchor:
            raise PermissionError(1, "Operation not permitted", str(src))
        rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", refusing)
    with pytest.raises(PermissionError):
        restore_backup(settings, backup, force=True)
    monkeypatch.undo()
    assert (data / "after-backup.txt").is_file()  # the folder as it was
    assert anchor.read_bytes() == anchor_before
    assert not list(data.parent.glob("data.before-restore-*"))
    assert not list(data.parent.glob(".data.restore-*"))


def test_force_replaces_the_folder_and_keeps_the_previous_one(
    data: Path, backup: Path, tmp_path: Path
) -> None:
    settings = settings_for(data)
    models = data / "models" / "built-model"
    models.mkdir(parents=True)
    (models / "model.onnx").write_bytes(b"exported once")
    (data / "after-backup.txt").write_text("written after the backup", encoding="utf-8")
    anchor_before = settings.audit_anchor_path.read_text(encoding="utf-8")
    report = restore_backup(settings, backup, force=True)
    assert report.previous is not None
    assert report.previous.name.startswith("data.before-restore-")
    assert (report.previous / "after-backup.txt").is_file()
    assert not (data / "after-backup.txt").exists()
    # The model cache moved into the restored folder: nothing is rebuilt.
    assert report.models == "kept"
    assert (data / "models" / "built-model" / "model.onnx").read_bytes() == b"exported once"
    # The anchor is the backup's; the previous one is kept as evidence.
    assert report.previous_anchor is not None
    assert report.previous_anchor.read_text(encoding="utf-8") == anchor_before
    assert report.audit is not None
    assert report.audit.problems == ()
    # The restore itself is in the restored log, which verifies against the restored anchor.
    log = AuditLog.from_settings(settings, masker=lambda query: query)
    try:
        events = list(log.events())
        assert events[-1].action == "restore"
        assert str(backup) in events[-1].detail
        verification = log.verify()
        assert verification.problems == ()
    finally:
        log.close()
    assert report.recorded == ""


def test_the_backup_cannot_lie_inside_the_target(data: Path, tmp_path: Path) -> None:
    settings = settings_for(data)
    inside = create_backup(settings, tmp_path / "backup").path.rename(data.parent / "moved")
    with pytest.raises(BackupError, match="の中にあります"):
        restore_backup(settings_for(data.parent), inside)


def test_a_restore_names_what_it_brings_back_that_was_deleted_since(
    data: Path, backup: Path
) -> None:
    # An outside probe restored a backup taken before a case was erased: the case came back
    # without a word, and the deletion's event left the live log with the replaced folder.
    from kb.index.remove import remove_documents
    from kb.ops.restore import describe
    from kb.store import Store

    settings = settings_for(data)
    store = Store(settings.store_path, read_only=True)
    try:
        case = next(iter(store.document_ids("case")))
    finally:
        store.close()
    remove_documents(settings, [case], None, actor="test")
    report = restore_backup(settings, backup, force=True)
    assert report.undeleted == (case,)
    assert any(case in line and "kb delete" in line for line in describe(report))
    log = AuditLog.from_settings(settings, masker=lambda query: query)
    try:
        assert case in list(log.events())[-1].detail
    finally:
        log.close()
