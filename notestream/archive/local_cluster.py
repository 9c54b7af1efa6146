"""A Ray cluster of `ray start` nodes on this machine, started and stopped from Python: for the tests and
benchmarks of `notestream transcribe --ray` (a real cluster, as an operator would start it)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

NODE_OPTIONS = ("--object-store-memory", str(100 * 2**20), "--block", "--disable-usage-stats")


def _free_port() -> int:
    """A port nothing listens on now (for the head's GCS)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalRayCluster:
    """A head node, then worker nodes added one by one, each with `cpus` CPUs; `address` joins it."""

    def __init__(self, logs: Path, cpus: int = 1):
        self.logs, self.cpus = Path(logs), cpus
        self.address = ""
        self.nodes: list[subprocess.Popen] = []

    def __enter__(self) -> LocalRayCluster:
        self.logs.mkdir(parents=True, exist_ok=True)
        self._start_node(head=True)
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def add_worker_node(self) -> None:
        self._start_node(head=False)

    def _start_node(self, head: bool, attempts: int = 3) -> None:
        """`ray start ... --block`: the node lives as long as that process (SIGTERM stops it and its children).
        Ray gives a node 30 s to register, which a busy machine can miss: a node that gives up is started again."""
        ray = Path(sys.executable).with_name("ray")
        for attempt in range(1, attempts + 1):
            if head:
                self.address = f"127.0.0.1:{_free_port()}"
                where = ["--head", "--port", self.address.split(":")[1], "--include-dashboard", "false"]
            else:
                where = ["--address", self.address]
            log = self.logs / f"node{len(self.nodes)}-try{attempt}.log"
            with open(log, "w") as output:
                node = subprocess.Popen([str(ray), "start", *where, "--num-cpus", str(self.cpus), *NODE_OPTIONS],
                                        stdout=output, stderr=subprocess.STDOUT)
            self.nodes.append(node)
            try:
                self.wait_for_nodes(len(self.nodes))
                return
            except RuntimeError:
                if attempt == attempts or node.poll() is None:
                    raise
                self.nodes.pop()

    def wait_for_nodes(self, count: int, timeout: float = 180.0) -> None:
        """Return once `count` nodes are alive in the cluster."""
        import ray

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(node.poll() is not None for node in self.nodes):
                raise RuntimeError(f"a Ray node exited during start-up; see the logs in {self.logs}")
            try:
                ray.init(address=self.address, log_to_driver=False, logging_level="ERROR")
                alive = sum(1 for node in ray.nodes() if node["Alive"])
                ray.shutdown()
                if alive >= count:
                    return
            except ConnectionError:
                pass
            time.sleep(1.0)
        raise RuntimeError(f"the Ray cluster at {self.address} did not reach {count} node(s) within {timeout:g} s")

    def stop(self) -> None:
        """Stop the worker nodes, then the head."""
        for node in reversed(self.nodes):
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
                try:
                    node.wait(60)
                except subprocess.TimeoutExpired:
                    node.kill()
                    node.wait()
        self.nodes.clear()
