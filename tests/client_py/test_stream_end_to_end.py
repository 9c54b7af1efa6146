"""End to end against a real `notestream serve`: the library client and the `notestream stream` command."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
import textwrap
import time

import numpy as np
import pytest

from notestream.audio import write_wav
from notestream.cli import main
from notestream.client.client import StreamClient
from notestream.client.events import LiveEvent, StreamFinal
from notestream.client.live import run_live
from notestream.client.sources import FileSource
from notestream.midi import read_midi
from notestream.model.transcriber import Transcriber
from notestream.notes import events_to_performance


@pytest.fixture(scope="module")
def piano_transcription(piano_wav):
    """The offline transcription of `piano_wav`: what streaming the same audio must reproduce."""
    return Transcriber.from_checkpoint(device="cpu").transcribe(piano_wav)


def note_rows(notes, digits: int = 4) -> list[tuple]:
    return sorted((round(n.onset, digits), round(n.offset, digits), n.pitch, n.velocity) for n in notes)


async def stream_file(url: str, path, realtime: bool = False) -> tuple[list[LiveEvent], StreamFinal]:
    source = FileSource(path, realtime=realtime)
    async with StreamClient(url, source.format) as client:
        events: list[LiveEvent] = []

        class Collect:
            def handle(self, event):
                if isinstance(event, LiveEvent):
                    events.append(event)

            def close(self, final):
                pass

        final = await run_live(client, source, [Collect()])
    return events, final


def test_streamed_notes_equal_the_offline_transcription(notestream_server, piano_wav, piano_transcription):
    events, final = asyncio.run(stream_file(notestream_server.url, piano_wav))
    assert events, "the model decided no events at all"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    performance = events_to_performance(events, final.duration)
    assert note_rows(performance.notes) == note_rows(piano_transcription.notes)
    assert final.notes == len(piano_transcription.notes)
    assert final.duration == pytest.approx(piano_transcription.duration, abs=1e-3)


def test_real_time_pacing_reports_each_notes_latency(notestream_server, piano_audio, tmp_path):
    path = tmp_path / "short.wav"
    write_wav(path, piano_audio[: int(1.2 * 16000)], 16000)
    started = time.monotonic()
    events, final = asyncio.run(stream_file(notestream_server.url, path, realtime=True))
    assert time.monotonic() - started >= 1.1  # the file was played, not dumped
    ons = [e for e in events if e.kind == "note_on"]
    assert ons, "the model decided no notes"
    assert all(e.latency is not None and 0.0 <= e.latency < 5.0 for e in ons)


def test_cli_prints_json_lines_and_saves_the_midi_file(notestream_server, piano_wav, piano_transcription, tmp_path, capsys):
    saved = tmp_path / "take.mid"
    code = main(["stream", str(piano_wav), "--server", notestream_server.url, "--fast", "--json", "--save", str(saved)])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["type"] == "final" and lines[-1]["notes"] == len(piano_transcription.notes)
    assert sum(line["type"] == "note_on" for line in lines) == len(piano_transcription.notes)
    midi_notes = read_midi(saved).notes
    expected = piano_transcription.notes
    assert [(n.pitch, n.velocity) for n in sorted(midi_notes)] == [(n.pitch, n.velocity) for n in sorted(expected)]
    assert np.allclose([n.onset for n in sorted(midi_notes)], [n.onset for n in sorted(expected)], atol=3e-3)


def test_cli_streams_raw_stereo_pcm_from_stdin(notestream_server, piano_audio, monkeypatch, capsys):
    rate = 48000
    mono = np.interp(np.arange(int(len(piano_audio) * 3)) / 3, np.arange(len(piano_audio)), piano_audio)
    pcm = (np.stack([mono, mono], axis=1) * 32767).astype("<i2").tobytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pcm)))
    code = main(["stream", "-", "--rate", str(rate), "--channels", "2", "--encoding", "pcm_s16le",
                 "--server", notestream_server.url, "--json"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    final = lines[-1]
    assert final["type"] == "final"
    assert final["duration"] == pytest.approx(len(mono) / rate, abs=0.01)
    assert sum(line["type"] == "note_on" for line in lines) == final["notes"]


def test_terminal_view_shows_names_velocity_and_latency(notestream_server, piano_wav, capsys):
    assert main(["stream", str(piano_wav), "--server", notestream_server.url, "--fast"]) == 0
    out = capsys.readouterr().out.splitlines()
    notes = [line for line in out if " vel " in line]
    assert notes and all("latency" in line for line in notes)
    assert out[-1].startswith("done: ") and f"{len(notes)} notes" in out[-1]


def test_the_documented_example_runs(notestream_server, piano_wav, capsys):
    """The example in StreamClient's docstring, run as written (with this server and file)."""
    example = textwrap.dedent(StreamClient.__doc__.split("Example::")[1].split("Dropped connections")[0])
    example = example.replace("ws://localhost:8000", notestream_server.url).replace("piano.flac", str(piano_wav))
    exec(compile(example, "StreamClient.__doc__", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(re.fullmatch(r"[A-G]#?-?\d \d+ latency \d+\.\d{3} s", line) for line in printed)
