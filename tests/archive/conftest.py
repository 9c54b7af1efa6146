"""A real local Ray cluster for the archive tests: a head node and a worker node, one CPU each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notestream.archive.local_cluster import LocalRayCluster


@pytest.fixture(scope="package")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a running two-node cluster (`ray start --head` plus a worker node on this machine)."""
    with LocalRayCluster(tmp_path_factory.mktemp("ray")) as cluster:
        cluster.add_worker_node()
        yield cluster.address
