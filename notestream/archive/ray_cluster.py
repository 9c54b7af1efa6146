"""Archive work on a Ray cluster (`notestream transcribe --ray ADDRESS`): the optional `ray` extra.

Each file is one Ray task on one CPU (or a batch of files on one GPU, sharing its network passes). Ray
reuses a worker process for the next task, and the process keeps its model (`work.worker_transcriber`),
so a model loads once per worker. Ray reruns a task whose worker or node died, and a rerun skips a file
whose outputs are already complete: a file is lost or done twice by no failure. Every node must see the
input and output paths (a shared file system) and have notestream installed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

from .executors import MAX_ATTEMPTS, Progress
from .work import ArchiveItem, FileOutcome, ModelSpec, transcribe_items

GPU_BATCH_FILES = 8  # files one GPU task transcribes together (one batched network pass per round)


def _remote_transcribe(spec: ModelSpec, formats: list[str], items: list[ArchiveItem]) -> list[FileOutcome]:
    """The task body on a Ray worker: this worker's model, with torch limited to the CPUs Ray gave the task."""
    import ray

    cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)) or 1
    threaded = replace(spec, threads=spec.threads or cpus)
    return transcribe_items(threaded, formats, items)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast, naming the address, when nothing listens there (Ray itself retries for minutes)."""
    if address == "auto" or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout).close()
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"could not join the Ray cluster at {address} ({exc}); "
                           "start one with `ray start --head` or give its HOST:PORT") from exc


class RayExecutor:
    """Files as Ray tasks on the cluster at `address` ('auto': the one `ray start` made on this machine)."""

    def __init__(self, spec: ModelSpec, formats: list[str], address: str):
        try:
            import ray
        except ImportError as exc:
            raise RuntimeError("--ray needs the ray package: pip install 'notestream[ray]'") from exc
        self._ray = ray
        check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, logging_level="WARNING", configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise RuntimeError(f"could not join the Ray cluster at {address} ({exc}); start one with `ray start --head`") from exc
        resources = ray.cluster_resources()
        self.gpus = int(resources.get("GPU", 0)) if spec.device in ("auto", "cuda") else 0
        self.workers = self.gpus or max(1, int(resources.get("CPU", 1)))
        self.spec, self.formats = spec, formats
        options = {"num_gpus": 1, "num_cpus": 1} if self.gpus else {"num_cpus": 1}
        self._task = ray.remote(max_retries=MAX_ATTEMPTS - 1, **options)(_remote_transcribe)

    def outcomes(self, items: list[ArchiveItem], progress: Progress | None = None) -> Iterator[FileOutcome]:
        ray = self._ray
        size = GPU_BATCH_FILES if self.gpus else 1
        batches = [items[i:i + size] for i in range(0, len(items), size)][::-1]  # popped from the end
        running: dict = {}
        try:
            while batches or running:
                while batches and len(running) < 2 * self.workers:
                    batch = batches.pop()
                    running[self._task.remote(self.spec, self.formats, batch)] = batch
                done, _ = ray.wait(list(running), num_returns=1)
                batch = running.pop(done[0])
                try:
                    yield from ray.get(done[0])
                except ray.exceptions.RayError as exc:
                    reason = f"its Ray task failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
                    yield from (FileOutcome(item.audio, error=reason) for item in batch)
        finally:
            for ref in running:
                ray.cancel(ref, force=True)
            ray.shutdown()
