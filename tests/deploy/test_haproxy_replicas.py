"""deploy/haproxy.cfg for real: two `notestream serve` replicas behind HAProxy on loopback, real-time
streams spread over both (busy -> next), one replica SIGKILLed mid-session and restarted."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from notestream.client import AudioFormat, StreamClient
from notestream.client.errors import ServerBusy
from notestream.model.transcriber import Transcriber
from notestream_bench.replicas_bench import replica_cluster, run_with_crash, session_report
from tests.conftest import random_phrase, render_piano

STREAMS, SECONDS = 4, 8.0


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def test_sessions_survive_a_killed_replica_and_the_others_never_notice(tmp_path: Path) -> None:
    audios = [render_piano(random_phrase(seed, SECONDS), seconds=SECONDS) for seed in range(STREAMS)]
    offline = Transcriber.from_checkpoint(device="cpu")
    references = [offline.transcribe(audio).notes for audio in audios]

    with replica_cluster(tmp_path, max_sessions=STREAMS // 2) as (balancer, replicas):
        async def both_replicas_full() -> None:  # a fifth stream finds no room on either replica
            with pytest.raises(ServerBusy):
                async with StreamClient(f"{balancer.url}/v1/stream", AudioFormat(16000), timeout=30):
                    pass

        runs = asyncio.run(run_with_crash(f"{balancer.url}/v1/stream", audios, replicas["r1"], kill_after=1.5,
                                          when_all_ready=both_replicas_full))
        reports = [session_report(run, ref) for run, ref in zip(runs, references, strict=True)]
        results = [get_json(f"{balancer.http}/v1/sessions/{run.session}?token={run.token}") for run in runs]
        health = {name: get_json(f"{server.http}/healthz")["replica"] for name, server in replicas.items()}

    assert health == {"r1": "r1", "r2": "r2"}
    assert sorted(r["replica"] for r in reports) == ["r1", "r1", "r2", "r2"]  # busy -> next
    for report in reports:
        assert report["finished"] and report["lost_or_repeated"] == 0 and report["notes"] > 0, report
        assert report["note_f1"] >= 0.99, report
        assert (report["reconnects"] > 0) == (report["replica"] == "r1"), report  # r2's sessions never noticed
    assert [r["status"] for r in results] == ["final"] * STREAMS  # results reach the replica holding them
    assert [r["session"] for r in results] == [run.session for run in runs]
