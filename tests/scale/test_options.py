"""The ``--ray`` options and settings, without starting Ray (fast)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr

from kb.cli import build_parser, main
from kb.errors import ClusterError
from kb.scale.cluster import is_loopback, prepare_environment, temp_dir
from kb.scale.data import _check_model, texts_to_embed, worker_settings
from kb.scale.serve import ServeOptions, replica_settings
from kb.settings import Settings


def test_replica_counts_are_checked() -> None:
    ServeOptions(replicas=2).check()
    ServeOptions(replicas=2, max_replicas=4).check()
    for bad in (ServeOptions(replicas=0), ServeOptions(replicas=3, max_replicas=2)):
        with pytest.raises(ClusterError, match="--replicas"):
            bad.check()


def test_fixed_replicas_or_autoscaling() -> None:
    fixed = ServeOptions(replicas=3).deployment_options()
    assert fixed["num_replicas"] == 3
    assert "autoscaling_config" not in fixed
    options = ServeOptions(replicas=2, max_replicas=6, target_ongoing_requests=4)
    scaled = options.deployment_options()
    assert "num_replicas" not in scaled
    assert scaled["autoscaling_config"] == {
        "min_replicas": 2,
        "initial_replicas": 2,
        "max_replicas": 6,
        "target_ongoing_requests": 4,
    }
    assert scaled["ray_actor_options"] == {"num_cpus": 1.0}


def test_replica_settings_have_absolute_paths_and_share_the_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path("data"), model="fake", model_cache_dir=Path("models"))
    options = ServeOptions(replicas=2, host="127.0.0.1", port=8123)
    replica = replica_settings(settings, options, same_machine=True)
    assert replica.data_dir == tmp_path / "data"
    assert replica.models_dir == tmp_path / "models"
    assert replica.workers == 2  # two replicas on this machine: each takes half the cores
    assert (replica.host, replica.port) == ("127.0.0.1", 8123)
    assert replica_settings(settings, options, same_machine=False).workers == 1
    # Queries on one thread whose pool never spins (no all-core session), unless set.
    assert replica.threads == 1
    assert replica.solo_query_threads == 1
    assert replica.query_threads == 1
    chosen = settings.model_copy(update={"threads": 2})
    assert replica_settings(chosen, options, same_machine=True).threads == 2


def test_the_audit_key_is_not_shipped_to_a_remote_cluster(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, audit_key=SecretStr("k" * 40))
    options = ServeOptions()
    assert replica_settings(settings, options, same_machine=True).audit_key is not None
    with pytest.raises(ClusterError, match="KB_AUDIT_KEY_FILE"):
        replica_settings(settings, options, same_machine=False)
    assert worker_settings(settings).audit_key is None  # embedding workers never need it


def test_texts_to_embed_are_contents_then_titles() -> None:
    rows = [("本文1", "題名1"), ("本文2", "")]
    assert texts_to_embed(rows) == ["本文1", "題名1", "本文2", "本文2"]


def test_a_worker_with_another_model_is_refused() -> None:
    _check_model(np.array(["m", "m"], dtype=object), "m")
    with pytest.raises(ClusterError, match="other"):
        _check_model(np.array(["m", "other"], dtype=object), "m")


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1:6379", True), ("localhost:6379", True), ("10.1.2.3:6379", False)],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_a_local_instance_keeps_ray_defaults_in_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ray.cluster_utils.Cluster writes its address under <RAY_TMPDIR>/ray whatever its folder;
    # on a machine where Ray never ran, /tmp/ray is missing and the start failed.
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    # Recorded first, so that what prepare_environment sets is undone after the test.
    monkeypatch.setenv("RAY_TMPDIR", "")
    monkeypatch.delenv("RAY_TMPDIR")
    prepare_environment(loopback=True)
    assert os.environ["RAY_TMPDIR"] == str(temp_dir())
    assert temp_dir().parent == tmp_path
    assert (temp_dir() / "ray").is_dir()
    # A folder the operator chose is kept (and made ready).
    chosen = tmp_path / "chosen"
    monkeypatch.setenv("RAY_TMPDIR", str(chosen))
    prepare_environment(loopback=True)
    assert os.environ["RAY_TMPDIR"] == str(chosen)
    assert (chosen / "ray").is_dir()


def test_cli_options() -> None:
    parser = build_parser()
    args = parser.parse_args(["serve", "--ray", "--replicas", "3", "--max-replicas", "5"])
    assert (args.ray, args.replicas, args.max_replicas) == ("", 3, 5)
    args = parser.parse_args(["serve", "--ray", "10.1.2.3:6379"])
    assert args.ray == "10.1.2.3:6379"
    assert parser.parse_args(["serve"]).ray is None
    args = parser.parse_args(["build", "--ray", "--ray-workers", "4"])
    assert (args.ray, args.ray_workers) == ("", 4)
    assert parser.parse_args(["build"]).ray is None


def test_workers_and_ray_do_not_mix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--data-dir", str(tmp_path), "--model", "fake", "serve", "--ray", "--workers", "2"]
    assert main(argv) == 2
    assert "--replicas" in capsys.readouterr().err


def test_kb_does_not_import_ray_unless_asked() -> None:
    code = (
        "import sys, kb.cli, kb.scale, kb.scale.commands; kb.cli.build_parser(); "
        "print('ray' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"
