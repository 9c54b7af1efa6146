"""Fixtures: rendered piano audio, the shipped model, and a real server on a free port in a thread."""

from __future__ import annotations

import asyncio
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web
from scipy.io import wavfile

from notestream.model.transcriber import Transcriber
from notestream.server.app import create_app
from notestream.server.state import STATE_KEY, ServerConfig, ServerState
from tests.conftest import random_phrase, render_piano

CLIP_SECONDS = 3.0


def piano_clip(sample_rate: int, seconds: float = CLIP_SECONDS, seed: int = 0) -> np.ndarray:
    """A few seconds of random chords and runs (tests.conftest.random_phrase) on the training piano, mono float32."""
    return render_piano(random_phrase(seed, seconds), sample_rate, seconds=seconds)


def write_pcm16(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Mono (n,) or interleaved-ready (n, channels) float audio as a 16-bit WAV."""
    wavfile.write(str(path), sample_rate, (np.clip(audio, -1, 1) * 32767).astype(np.int16))
    return path


@pytest.fixture(scope="session")
def piano_16k(tmp_path_factory) -> Path:
    return write_pcm16(tmp_path_factory.mktemp("audio") / "piano16k.wav", piano_clip(16000), 16000)


@pytest.fixture(scope="session")
def piano_44k_stereo(tmp_path_factory) -> Path:
    mono = piano_clip(44100, seed=1)
    stereo = np.stack([mono, 0.5 * mono], axis=1)
    return write_pcm16(tmp_path_factory.mktemp("audio") / "piano44k.wav", stereo, 44100)


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    return Transcriber.from_checkpoint(device="cpu")


@dataclass
class RunningServer:
    """An application served on 127.0.0.1 by a background thread's event loop."""

    port: int
    state: ServerState
    loop: asyncio.AbstractEventLoop
    runner: web.AppRunner
    thread: threading.Thread

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    def task_stacks(self, timeout: float = 5.0) -> str:
        """Where each of the server loop's tasks is waiting: what a stalled test needs to be diagnosed."""

        async def dump() -> str:
            out = io.StringIO()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.print_stack(file=out)
            return out.getvalue()

        try:
            return asyncio.run_coroutine_threadsafe(dump(), self.loop).result(timeout)
        except TimeoutError:
            return f"the server loop did not answer within {timeout:g} s: it is busy or blocked, not waiting"

    def stop(self) -> None:
        """Graceful shutdown, as on SIGTERM: open sessions are finalised."""
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def start_server(config: ServerConfig, transcriber: Transcriber) -> RunningServer:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def serve() -> tuple[web.AppRunner, int]:
        app = create_app(config, transcriber)
        runner = web.AppRunner(app, shutdown_timeout=10)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, runner.addresses[0][1]

    runner, port = asyncio.run_coroutine_threadsafe(serve(), loop).result(30)
    return RunningServer(port, runner.app[STATE_KEY], loop, runner, thread)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed server test's report also shows where every task of its servers' loops was waiting."""
    report = yield
    if report.when == "call" and report.failed:
        for server in getattr(item.funcargs.get("server_factory"), "started", []):
            if server.thread.is_alive():
                report.sections.append((f"server on port {server.port}: its tasks", server.task_stacks()))
    return report


@pytest.fixture
def server_factory(tmp_path, transcriber):
    """Start servers with config overrides; all are stopped at the end of the test."""
    started: list[RunningServer] = []

    def start(**overrides) -> RunningServer:
        config = ServerConfig(data_dir=tmp_path / "data", port=0, status_interval=0.2, **overrides)
        started.append(start_server(config, transcriber))
        return started[-1]

    start.started = started  # read by the failure report above
    yield start
    for server in started:
        if server.thread.is_alive():
            server.stop()


@pytest.fixture
def server(server_factory) -> RunningServer:
    return server_factory()
