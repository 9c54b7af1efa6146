"""Where archive work runs on one machine: in this process, or in N worker processes of their own."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from .work import ArchiveItem, FileOutcome, ModelSpec, transcribe_items, worker_transcriber

# What an executor is given: the files, and a callback for audio seconds done in this process (inline only).
Progress = Callable[[float], None]
MAX_ATTEMPTS = 3  # a file whose worker dies this often is reported as failed, not retried again


class InlineExecutor:
    """Every file in this process, one after another (the model loads once, here)."""

    workers = 1

    def __init__(self, spec: ModelSpec, formats: list[str]):
        self.spec, self.formats = spec, formats

    def outcomes(self, items: list[ArchiveItem], progress: Progress | None = None) -> Iterator[FileOutcome]:
        for item in items:
            yield from transcribe_items(self.spec, self.formats, [item], progress)


class ProcessExecutor:
    """`jobs` worker processes on this machine, each with its own model (loaded once) and its share of the
    cores. A worker that dies fails only the files it held; the pool is rebuilt and the rest go on."""

    def __init__(self, spec: ModelSpec, formats: list[str], jobs: int):
        if jobs < 1:
            raise ValueError("--jobs must be at least 1")
        threads = spec.threads or max(1, (os.cpu_count() or 1) // jobs)
        self.spec = replace(spec, threads=threads)
        self.formats, self.workers = formats, jobs

    def _pool(self) -> ProcessPoolExecutor:
        # spawned, not forked: the parent may already run threads (torch's, tqdm's)
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=worker_transcriber, initargs=(self.spec,))

    def outcomes(self, items: list[ArchiveItem], progress: Progress | None = None) -> Iterator[FileOutcome]:
        queue = [(item, 1) for item in reversed(items)]
        pool = self._pool()
        running: dict[Future, tuple[ArchiveItem, int]] = {}
        try:
            while queue or running:
                while queue and len(running) < 2 * self.workers:  # a little ahead, so no worker waits
                    item, attempt = queue.pop()
                    running[pool.submit(transcribe_items, self.spec, self.formats, [item])] = (item, attempt)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    item, attempt = running.pop(future)
                    if not isinstance(future.exception(), BrokenProcessPool):
                        yield from future.result()
                    elif attempt < MAX_ATTEMPTS:
                        broken = True
                        queue.append((item, attempt + 1))
                    else:
                        yield FileOutcome(item.audio, error=f"its worker process died {attempt} times")
                if broken:  # every file the dead pool held goes again
                    queue.extend(running.values())
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
