"""A local Ray cluster of two nodes for the scale-out tests (loopback only, bounded, torn down).

Both nodes run on this machine (``ray.cluster_utils.Cluster``), each with two logical CPUs and a
100 MiB object store, no dashboard and no usage statistics. The tests deploy and build on it
with the fake embedder; the demo corpus is ingested once per session.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.settings import Settings

REPO = Path(__file__).resolve().parents[2]
NODE_CPUS = 2
"""Logical CPUs per node: two replicas (one each) and two embedding workers fit at once."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """The address of a running two-node cluster this process is connected to."""
    from kb.scale.cluster import prepare_environment, temp_dir

    prepare_environment(loopback=True)
    import ray
    from ray.cluster_utils import Cluster

    node = {
        "num_cpus": NODE_CPUS,
        "object_store_memory": 100 * 2**20,
        "node_ip_address": "127.0.0.1",
    }
    cluster = Cluster(
        initialize_head=True,
        head_node_args={**node, "include_dashboard": False, "temp_dir": str(temp_dir())},
    )
    try:
        cluster.add_node(**node)
        ray.init(address=cluster.address, logging_level=logging.WARNING)
        alive = [n for n in ray.nodes() if n["Alive"]]
        assert len(alive) == 2, alive
        yield cluster.address
    finally:
        if ray.is_initialized():
            from ray import serve

            serve.shutdown()
            ray.shutdown()
        cluster.shutdown()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kb.sqlite`` of the demo corpus (``corpus/``), ingested once."""
    from kb.ingest.pipeline import ingest
    from kb.store import Store

    path = tmp_path_factory.mktemp("demo-store") / "kb.sqlite"
    store = Store(path)
    try:
        assert ingest([REPO / "corpus"], store).ok
    finally:
        store.close()
    return path


def data_dir_with(store_file: Path, folder: Path) -> Settings:
    """A data folder holding a copy of ``store_file``, with the fake model (64 dimensions)."""
    folder.mkdir(parents=True)
    assert not store_file.with_name(store_file.name + "-wal").exists()  # closed: one file
    (folder / "kb.sqlite").write_bytes(store_file.read_bytes())
    return Settings(data_dir=folder, model="fake")


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kb.sqlite`` of the tests' small sample city (``tests/sample.py``)."""
    from kb.store import Store
    from kb.text.mecab import MeCabTokenizer
    from tests.conftest import fill_store

    path = tmp_path_factory.mktemp("sample-store") / "kb.sqlite"
    store = Store(path)
    try:
        fill_store(store, MeCabTokenizer())
    finally:
        store.close()
    return path
