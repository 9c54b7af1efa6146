"""Prometheus text-format metrics: counters, a latency histogram, and gauges read at scrape time."""

from __future__ import annotations

import bisect
from collections.abc import Callable

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)


class Counter:
    """A monotonically increasing value, optionally split by one label."""

    def __init__(self, name: str, help_text: str, label: str | None = None):
        self.name, self.help, self.label = name, help_text, label
        self.values: dict[str, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = labels.get(self.label, "") if self.label else ""
        self.values[key] = self.values.get(key, 0.0) + amount

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        if not self.values and not self.label:
            return lines + [f"{self.name} 0"]
        for key, value in sorted(self.values.items()):
            suffix = f'{{{self.label}="{key}"}}' if self.label else ""
            lines.append(f"{self.name}{suffix} {value:g}")
        return lines


class Histogram:
    """Observations in cumulative buckets (constant memory however long the server runs)."""

    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...] = LATENCY_BUCKETS):
        self.name, self.help, self.buckets = name, help_text, buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            cumulative += count
            lines.append(f'{self.name}_bucket{{le="{bound:g}"}} {cumulative}')
        cumulative += self.counts[-1]
        lines += [f'{self.name}_bucket{{le="+Inf"}} {cumulative}', f"{self.name}_sum {self.total:g}", f"{self.name}_count {cumulative}"]
        return lines


class Metrics:
    """The service's metrics; `render` produces the /metrics page."""

    def __init__(self):
        self.sessions_started = Counter("notestream_sessions_started_total", "Streaming sessions started or restored.")
        self.audio_seconds = Counter("notestream_audio_seconds_total", "Seconds of streamed audio transcribed.")
        self.inference_seconds = Counter("notestream_inference_seconds_total", "Wall seconds spent in model calls for streams.")
        self.refusals = Counter("notestream_refusals_total", "Requests or sessions refused, by reason.", label="reason")
        self.jobs = Counter("notestream_jobs_total", "Upload jobs by final status.", label="status")
        self.event_latency = Histogram(
            "notestream_event_latency_seconds",
            "note_on processing latency: sent time minus arrival of the audio at event time + lookahead.",
        )
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.gauges[name] = (help_text, read)

    def render(self) -> str:
        lines: list[str] = []
        for name, (help_text, read) in self.gauges.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {read():g}"]
        for metric in (self.sessions_started, self.audio_seconds, self.inference_seconds, self.refusals, self.jobs,
                       self.event_latency):
            lines += metric.render()
        return "\n".join(lines) + "\n"
