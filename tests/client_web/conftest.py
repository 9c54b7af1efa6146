"""Fixtures for the browser tests: a rendered piano WAV, the real server, Chromium hearing the WAV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from playwright.sync_api import BrowserContext, Playwright
from scipy.io import wavfile

from notestream.model.transcriber import Transcriber, Transcription
from notestream.server.process import ServerProcess
from notestream_bench.chromium import chromium_context, playwright_driver
from tests.client_web.chromium import BrowserPage, tracked_page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "client_web"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
MIC_RATE = 48000
# C4 E4 G4 C5, one after another, then a C major chord: what the fake microphone plays.
PHRASE = [(60, 0.40, 0.80), (64, 0.85, 1.25), (67, 1.30, 1.70), (72, 1.75, 2.15)]
PHRASE += [(p, 2.30, 2.90) for p in (60, 64, 67)]
WAV_SECONDS = 3.0


def render_phrase(sample_rate: int) -> np.ndarray:
    """`PHRASE` played by FluidSynth's General MIDI piano, mono float32 peaking at 0.6."""
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(96, pitch, start, end) for pitch, start, end in PHRASE]
    midi.instruments.append(piano)
    audio = midi.fluidsynth(fs=sample_rate, synthesizer=SOUNDFONT)
    audio = np.pad(audio, (0, max(0, int(WAV_SECONDS * sample_rate) - audio.size)))[: int(WAV_SECONDS * sample_rate)]
    return (0.6 * audio / max(1e-6, float(np.abs(audio).max()))).astype(np.float32)


@pytest.fixture(scope="session")
def microphone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The phrase as a mono 16-bit 48 kHz WAV: Chromium's fake microphone plays it."""
    path = tmp_path_factory.mktemp("mic") / "piano48k.wav"
    wavfile.write(str(path), MIC_RATE, (render_phrase(MIC_RATE) * 32767).astype(np.int16))
    return path


@pytest.fixture(scope="session")
def wav_seconds() -> float:
    """How long `microphone_wav` plays."""
    return WAV_SECONDS


@pytest.fixture(scope="session")
def offline_transcription(microphone_wav: Path) -> Transcription:
    """What the server's model makes of the same WAV as a file (the reference for the live view)."""
    return Transcriber.from_checkpoint(device="cpu").transcribe(microphone_wav)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`notestream serve` on a free port with a fresh data directory; its log goes to test-artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = ServerProcess.start(tmp_path_factory.mktemp("server-data"), "--log-format", "text",
                                 log=ARTIFACTS / "server.log", timeout=90.0)
    try:
        yield server.http
    finally:
        server.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver per test module (its sync API allows one at a time per process).

    Not session-scoped: while it lives, its event loop counts as running in the main thread, and
    later tests that call asyncio.run() (the server's) would fail.
    """
    with playwright_driver() as driver:
        yield driver


@pytest.fixture
def browser_page(
    request: pytest.FixtureRequest, tmp_path: Path, playwright: Playwright, microphone_wav: Path
) -> Iterator[BrowserPage]:
    """A page in headless Chromium (fresh profile) whose microphone plays `microphone_wav` once."""
    with chromium_context(playwright, tmp_path / "profile", microphone_wav, loop=False) as context:
        with tracked_page(context, ARTIFACTS / f"{request.node.name}.png") as page:
            yield page


@pytest.fixture(scope="module")
def quiet_browser(tmp_path_factory: pytest.TempPathFactory, playwright: Playwright) -> Iterator[BrowserContext]:
    """One Chromium (fresh profile, no microphone) shared by the tests that need no audio."""
    with chromium_context(playwright, tmp_path_factory.mktemp("profile")) as context:
        yield context


@pytest.fixture
def quiet_page(request: pytest.FixtureRequest, quiet_browser: BrowserContext) -> Iterator[BrowserPage]:
    """A new page in `quiet_browser` (such pages share one localStorage)."""
    with tracked_page(quiet_browser, ARTIFACTS / f"{request.node.name}.png") as page:
        yield page
