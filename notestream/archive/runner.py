"""`run_archive`: the files not yet done, through an executor, under one progress bar, into a summary."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from notestream.audio import audio_duration

from .work import ArchiveItem, FileOutcome, outputs_complete


class Executor(Protocol):
    """Runs items somewhere and yields one FileOutcome per item, in the order they finish."""

    workers: int

    def outcomes(self, items: list[ArchiveItem], progress=None): ...


@dataclass(frozen=True)
class FailedFile:
    audio: str
    reason: str


@dataclass
class ArchiveSummary:
    """What a run did: files done now, skipped as already complete, failed (with reasons); audio and speed."""

    files: int = 0
    done: int = 0
    skipped: int = 0
    failed: list[FailedFile] = field(default_factory=list)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    workers: int = 1
    done_files: list[str] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # when each of done_files was done (s from the start)
    done_audio: list[float] = field(default_factory=list)  # and its length (s)

    @property
    def real_time_factor(self) -> float:
        """Seconds of audio transcribed per second of the run (from `started`: model loads included)."""
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def steady_real_time_factor(self) -> float | None:
        """Audio per second between the first file done and the last: the pace once workers have started and
        loaded their models, which a long archive runs at. None with fewer than two files done."""
        if len(self.done_at) < 2 or self.done_at[-1] <= self.done_at[0]:
            return None
        return sum(self.done_audio[1:]) / (self.done_at[-1] - self.done_at[0])

    def text(self) -> str:
        lines = [f"{self.files} file(s): {self.done} transcribed, {self.skipped} already done, {len(self.failed)} failed; "
                 f"{self.audio_seconds / 3600:.2f} h of audio in {self.wall_seconds:.1f} s on {self.workers} worker(s) "
                 f"= {self.real_time_factor:.1f}x real time"]
        lines += [f"  failed: {f.audio}: {f.reason}" for f in self.failed]
        return "\n".join(lines)

    def write_json(self, path: Path) -> None:
        steady = self.steady_real_time_factor
        record = asdict(self) | {"real_time_factor": round(self.real_time_factor, 2),
                                 "steady_real_time_factor": None if steady is None else round(steady, 2)}
        path.write_text(json.dumps(record, indent=1) + "\n")


def run_archive(items: list[ArchiveItem], formats: list[str], executor: Executor, show_progress: bool = True,
                started: float | None = None) -> ArchiveSummary:
    """Transcribe every item whose outputs are not all there yet; `started` (perf_counter) is when the
    whole run began, so that the real-time factor counts process start-up too."""
    from tqdm import tqdm

    started = time.perf_counter() if started is None else started
    todo = [item for item in items if item.replace or not outputs_complete(item.stem, formats)]
    summary = ArchiveSummary(files=len(items), skipped=len(items) - len(todo), workers=executor.workers)
    durations = {item.audio: audio_duration(item.audio) for item in todo}
    total = sum(durations.values()) if all(durations.values()) else None
    bar_format = "{l_bar}{bar}| {n:.0f}/{total:.0f} s of audio [{elapsed}<{remaining}]{postfix}" if total else None
    with tqdm(total=total, unit="s", desc="transcribing", disable=None if show_progress else True,
              bar_format=bar_format, file=sys.stderr) as bar:
        credited = 0.0  # audio seconds the bar already shows for the file in progress (inline executor only)

        def advance(seconds: float) -> None:
            nonlocal credited
            bar.update(seconds - credited)
            credited = seconds

        for outcome in executor.outcomes(todo, advance):
            bar.update((outcome.duration or durations.get(outcome.audio) or 0.0) - credited)
            credited = 0.0
            _record(summary, outcome, bar, started)
    summary.wall_seconds = time.perf_counter() - started
    return summary


def _record(summary: ArchiveSummary, outcome: FileOutcome, bar, started: float) -> None:
    if outcome.error is not None:
        summary.failed.append(FailedFile(str(outcome.audio), outcome.error))
        bar.write(f"error: {outcome.audio}: {outcome.error}", file=sys.stderr)
        return
    if not outcome.written:  # its outputs appeared meanwhile (a retried file whose first worker finished it)
        summary.skipped += 1
        return
    summary.done += 1
    summary.audio_seconds += outcome.duration
    summary.done_files.append(str(outcome.audio))
    summary.done_at.append(round(time.perf_counter() - started, 3))
    summary.done_audio.append(outcome.duration)
    speed = outcome.duration / max(outcome.seconds, 1e-9)
    bar.write(f"{outcome.audio} -> {', '.join(str(p) for p in outcome.written)} ({speed:.0f}x real time)", file=sys.stderr)
