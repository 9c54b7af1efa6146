"""Every way `notestream stream` can fail ends in one line that names the problem."""

from __future__ import annotations

import io
import sys

import pytest

from notestream.cli import main
from notestream.server.process import free_port


def run_failing(capsys, *argv: str) -> str:
    code = main(["stream", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    return err


def test_an_unreachable_server(piano_wav, capsys):
    port = free_port()
    err = run_failing(capsys, str(piano_wav), "--server", f"ws://127.0.0.1:{port}")
    assert err == (f"notestream stream: error: cannot reach the server at 127.0.0.1:{port}: connection refused; "
                   "is `notestream serve` running?")


def test_an_address_that_is_not_a_stream_endpoint(notestream_server, piano_wav, capsys):
    err = run_failing(capsys, str(piano_wav), "--server", f"http://127.0.0.1:{notestream_server.port}/v1/nothing")
    assert "is not a notestream stream endpoint (HTTP 404)" in err


def test_the_server_refusing_the_stream(notestream_server, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x00\x00" * 1000)))
    err = run_failing(capsys, "-", "--rate", "12345", "--server", notestream_server.url)
    assert err.startswith("notestream stream: error: the server refused the stream (unsupported_rate): ")
    assert "12345" in err


def test_a_missing_input_device(capsys):
    err = run_failing(capsys, "mic", "--input-device", "no-such-microphone")
    assert err == "notestream stream: error: no audio input device named 'no-such-microphone'; see --list-devices"


def test_a_file_that_is_not_audio(notestream_server, tmp_path, capsys):
    bogus = tmp_path / "notes.wav"
    bogus.write_text("these are not samples")
    err = run_failing(capsys, str(bogus), "--server", notestream_server.url, "--fast")
    assert err.startswith(f"notestream stream: error: {bogus}: ")


@pytest.mark.parametrize("argv, message", [
    (["missing.flac"], "missing.flac: no such audio file"),
    (["-"], "raw PCM on stdin needs --rate"),
    ([], "give a SOURCE"),
])
def test_bad_arguments(argv, message, capsys):
    assert message in run_failing(capsys, *argv)
