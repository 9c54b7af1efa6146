"""`bench soak`: its report (RSS slope and recovery, leaks, p95 by minute) and its RESULTS.md section."""

from __future__ import annotations

import json

from notestream_bench.report import results_markdown
from notestream_bench.soak_bench import analyse, p95_by_minute
from notestream_bench.soak_probes import ServerSample
from notestream_bench.stream_bench import StreamReport
from tests.benchmarks.test_bench_command import bench_names


def sample(t: float, rss: float, live: int = 0, fds: int = 20, threads: int = 8) -> ServerSample:
    return ServerSample(t, rss, fds, threads, live, 0, 0, 0, 1.0)


def test_soak_is_registered_under_bench():
    assert "soak" in bench_names()


def test_report_gives_the_rss_slope_after_the_first_minute_and_the_recovery_against_idle():
    samples = [sample(0, 400), sample(5, 400)] + [sample(10 + 60 * m, 500 + 2 * m, live=16) for m in range(1, 11)]
    samples.append(sample(800, 420))
    reports = [StreamReport(latencies=[0.1, 0.2], latency_times=[20.0, 100.0], sent_seconds=600, final_seconds=600)]
    report = analyse(samples, reports, {"bad_json": [3, 3]}, load_start=10.0, load_end=700.0)
    assert report["rss_idle_mb"] == 400 and report["rss_after_1_min_mb"] == 503  # median of the 2nd minute: 502, 504
    assert abs(report["rss_slope_mb_per_min"] - 2.0) < 1e-6
    assert report["rss_growth_after_1_min_pct"] == round(100 * (520 - 503) / 503, 2)
    assert report["rss_after_idle_vs_idle_pct"] == 5.0
    assert report["rss_samples"][0] == [-10.0, 400] and report["rss_samples"][-1] == [790.0, 420]  # the whole curve
    assert report["leaks"]["live_sessions"] == 0 and report["hostile"] == {"bad_json": {"sent": 3, "as_documented": 3}}
    assert report["all_audio_accounted"] is True


def test_rss_levels_are_medians_so_one_rounds_transient_peak_is_no_growth():
    swing = [0, 60, 0, -10]  # a round's transient maps come and go within seconds
    during = [sample(10 + t, 500 + swing[i % 4], live=16) for i, t in enumerate(range(60, 610, 5))]
    samples = [sample(0, 400), sample(5, 400), *during, sample(640, 430), sample(650, 480), sample(655, 430)]
    report = analyse(samples, [StreamReport(latencies=[0.1], latency_times=[20.0])], {}, load_start=10.0, load_end=620.0)
    assert report["rss_after_1_min_mb"] == 500 and report["rss_end_of_load_mb"] == 500
    assert report["rss_growth_after_1_min_pct"] == 0.0
    assert report["rss_after_idle_mb"] == 430 and report["rss_max_mb"] == 560


def test_p95_is_reported_minute_by_minute():
    reports = [StreamReport(latencies=[0.1] * 10 + [0.3] * 10, latency_times=[10.0] * 10 + [70.0] * 10)]
    assert p95_by_minute(reports, load_start=0.0) == [100.0, 300.0]


def test_results_md_has_a_soak_section(tmp_path):
    samples = [sample(0, 400), sample(5, 400)] + [sample(10 + 60 * m, 500) for m in range(1, 4)] + [sample(300, 410)]
    report = analyse(samples, [StreamReport(latencies=[0.1], latency_times=[20.0])], {}, load_start=10.0, load_end=250.0)
    report["targets"] = {"no_dropped_audio": True, "rss_growth_under_5_pct": True, "rss_back_within_10_pct": True,
                         "no_leaks": True, "no_tracebacks": True}
    (tmp_path / "soak.json").write_text(json.dumps(report))
    section = results_markdown(tmp_path).split("## Soak")[1].split("\n## ")[0]
    assert "| RSS growth after the first minute; slope | 0.0 %;" in section and "| 0 | True |" in section


def test_server_cpu_is_reported_per_minute_of_stream_audio():
    samples = [ServerSample(0, 400, 20, 8, 0, 0, 0, 0, 1.0, 10.0), ServerSample(5, 400, 20, 8, 0, 0, 0, 0, 1.0, 12.0),
               ServerSample(130, 500, 20, 8, 16, 0, 0, 0, 1.0, 72.0), ServerSample(200, 400, 20, 8, 0, 0, 0, 0, 1.0, 80.0)]
    reports = [StreamReport(latencies=[0.1], latency_times=[20.0], sent_seconds=120, final_seconds=120)] * 2
    report = analyse(samples, reports, {}, load_start=10.0, load_end=140.0)
    assert report["server_cpu_seconds_per_stream_minute"] == 15.0  # 60 s of CPU for 4 minutes of audio
