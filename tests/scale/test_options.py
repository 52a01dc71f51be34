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
from kb.scale.cluster import (
    haproxy_binary,
    haproxy_folder,
    is_loopback,
    prepare_environment,
    prepare_serve_environment,
    temp_dir,
)
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


HAPROXY_SETTINGS = (
    "RAY_SERVE_ENABLE_HA_PROXY",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS",
    "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC",
    "RAY_SERVE_HAPROXY_SOCKET_PATH",
    "RAY_SERVE_HAPROXY_SERVER_STATE_BASE",
    "RAY_SERVE_HAPROXY_SERVER_STATE_FILE",
    "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH",
    "RAY_SERVE_HAPROXY_LOG_TARGET",
    "RAY_SERVE_HAPROXY_METRICS_ENABLED",
    "RAY_SERVE_HAPROXY_STATS_PORT",
    "RAY_SERVE_HAPROXY_METRICS_PORT",
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S",
)


@pytest.fixture
def clean_serve_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Serve ingress setting in the environment; whatever the test sets is undone."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    for name in HAPROXY_SETTINGS:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_serve_environment")
def test_haproxy_keeps_its_files_private_and_logs_no_request() -> None:
    assert haproxy_binary() is not None  # installed with ray[serve] by scripts/setup.sh
    prepare_serve_environment("haproxy")
    env = os.environ
    folder = haproxy_folder()
    assert folder.parent == temp_dir()
    assert folder.stat().st_mode & 0o777 == 0o700  # Ray opens its admin socket to every user
    assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
    for name in HAPROXY_SETTINGS[2:8]:
        assert Path(env[name]).is_relative_to(folder), name
    # The access log (every URL, a staff search's words) goes to a socket nobody listens on.
    assert not Path(env["RAY_SERVE_HAPROXY_LOG_TARGET"]).exists()
    assert env["RAY_SERVE_HAPROXY_METRICS_ENABLED"] == "0"
    stats, metrics = (
        int(env["RAY_SERVE_HAPROXY_STATS_PORT"]),
        int(env["RAY_SERVE_HAPROXY_METRICS_PORT"]),
    )
    assert stats != metrics
    assert 8404 not in (stats, metrics)
    assert float(env["RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"]) < 30


@pytest.mark.usefixtures("clean_serve_environment")
def test_an_operators_haproxy_setting_is_kept_and_proxy_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAY_SERVE_HAPROXY_STATS_PORT", "18404")
    prepare_serve_environment("haproxy")
    assert os.environ["RAY_SERVE_HAPROXY_STATS_PORT"] == "18404"
    prepare_serve_environment("proxy")
    assert os.environ["RAY_SERVE_ENABLE_HA_PROXY"] == "0"
    assert os.environ["RAY_SERVE_ENABLE_DIRECT_INGRESS"] == "0"


@pytest.mark.usefixtures("clean_serve_environment")
def test_haproxy_without_a_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kb.scale.cluster.haproxy_binary", lambda: None)
    with pytest.raises(ClusterError, match="--ray-ingress proxy"):
        prepare_serve_environment("haproxy")
    assert "RAY_SERVE_ENABLE_HA_PROXY" not in os.environ


def test_cli_options() -> None:
    parser = build_parser()
    args = parser.parse_args(["serve", "--ray", "--replicas", "3", "--max-replicas", "5"])
    assert (args.ray, args.replicas, args.max_replicas) == ("", 3, 5)
    assert args.ray_ingress == "proxy"
    args = parser.parse_args(["serve", "--ray", "--ray-ingress", "haproxy"])
    assert args.ray_ingress == "haproxy"
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
