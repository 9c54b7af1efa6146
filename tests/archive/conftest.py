"""A real local Ray cluster for the archive tests: a head node and a worker node, one CPU each."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from notestream.server.process import free_port

RAY = Path(sys.executable).with_name("ray")
NODE_OPTIONS = ["--num-cpus", "1", "--object-store-memory", str(100 * 2**20), "--block", "--disable-usage-stats"]


def start_node(log: Path, *args: str) -> subprocess.Popen:
    """`ray start ... --block`: the node lives as long as this process (SIGTERM stops it and its children)."""
    with open(log, "w") as output:
        return subprocess.Popen([str(RAY), "start", *args, *NODE_OPTIONS], stdout=output, stderr=subprocess.STDOUT)


def wait_for_nodes(address: str, count: int, timeout: float = 120.0) -> None:
    import ray

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
            alive = sum(1 for node in ray.nodes() if node["Alive"])
            ray.shutdown()
            if alive >= count:
                return
        except ConnectionError:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"the Ray cluster at {address} did not reach {count} nodes within {timeout:g} s")


@pytest.fixture(scope="package")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a running two-node cluster (`ray start --head` plus a worker node on this machine)."""
    logs = tmp_path_factory.mktemp("ray")
    address = f"127.0.0.1:{free_port()}"
    head = start_node(logs / "head.log", "--head", "--port", address.split(":")[1], "--include-dashboard", "false")
    nodes = [head]
    try:
        wait_for_nodes(address, 1)
        nodes.append(start_node(logs / "worker.log", "--address", address))
        wait_for_nodes(address, 2)
        yield address
    finally:
        for node in reversed(nodes):
            node.send_signal(signal.SIGTERM)
            try:
                node.wait(60)
            except subprocess.TimeoutExpired:
                node.kill()
