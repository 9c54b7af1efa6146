"""Audio decoding: every container FFmpeg reads gives mono float32 at the asked rate, or AudioDecodeError."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from notestream.audio import AudioDecodeError, audio_duration, decode_audio, iter_audio_chunks, write_wav

RATE = 16000
TONE_HZ = 440.0
TONE_SECONDS = 1.5
TONE_AMPLITUDE = 0.5

# name -> ffmpeg output options; video containers get a tiny black picture track as well.
CODECS = {
    "tone.flac": [],
    "tone.mp3": ["-c:a", "libmp3lame"],
    "tone.ogg": ["-c:a", "libvorbis"],
    "tone.opus": ["-c:a", "libopus"],
    "tone.m4a": ["-c:a", "aac"],
    "tone.mp4": ["-c:v", "libx264", "-c:a", "aac"],
    "tone.webm": ["-c:v", "libvpx", "-c:a", "libopus"],
}
VIDEO_INPUT = ["-f", "lavfi", "-i", "color=c=black:s=32x32:r=10"]


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *map(str, args)], check=True, timeout=60)


def dominant_hz(audio: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.argmax(spectrum) * sample_rate / audio.size)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


@pytest.fixture(scope="session")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 1.5 s, 440 Hz mono tone at 44.1 kHz in every container and codec of `CODECS`."""
    folder = tmp_path_factory.mktemp("encoded")
    source = folder / "tone.wav"
    t = np.arange(int(TONE_SECONDS * 44100)) / 44100
    write_wav(source, TONE_AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * t), 44100)
    files = {"tone.wav": source}
    for name, options in CODECS.items():
        video = ["-c:v"] == options[:1]
        inputs = [*VIDEO_INPUT, "-i", source, "-shortest"] if video else ["-i", source]
        ffmpeg(*inputs, *options, folder / name)
        files[name] = folder / name
    ffmpeg(*VIDEO_INPUT, "-t", "1", "-c:v", "libx264", folder / "silent_film.mp4")
    files["silent_film.mp4"] = folder / "silent_film.mp4"
    return files


@pytest.mark.parametrize("name", ["tone.wav", *CODECS])
def test_every_container_decodes_to_mono_float32_with_length_pitch_and_level_kept(
    encoded: dict[str, Path], name: str
) -> None:
    audio = decode_audio(encoded[name], RATE)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / RATE - TONE_SECONDS) < 0.06, f"{name}: {audio.size / RATE:.3f} s"
    middle = audio[int(0.2 * RATE):int(1.2 * RATE)]
    assert abs(dominant_hz(middle, RATE) - TONE_HZ) < 2.0
    assert rms(middle) == pytest.approx(TONE_AMPLITUDE / np.sqrt(2), rel=0.08)


@pytest.mark.parametrize("source_rate", [44100, 48000])
def test_stereo_at_cd_and_video_rates_is_resampled_and_mixed_to_mono(
    make_sine_wav: Callable[..., Path], source_rate: int
) -> None:
    path = make_sine_wav(freqs=(440.0, 660.0), seconds=1.0, sample_rate=source_rate)
    audio = decode_audio(path, RATE)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - RATE) <= 2
    spectrum = np.abs(np.fft.rfft(audio))
    hz = np.fft.rfftfreq(audio.size, 1 / RATE)
    left, right = spectrum[np.argmin(abs(hz - 440))], spectrum[np.argmin(abs(hz - 660))]
    assert left > 0.1 * spectrum.sum() and right > 0.1 * spectrum.sum(), "both channels reach the mix"
    assert left == pytest.approx(right, rel=0.05)


def test_decoding_to_another_rate_keeps_duration_and_pitch(make_sine_wav: Callable[..., Path]) -> None:
    path = make_sine_wav(freqs=1000.0, seconds=0.5, sample_rate=16000)
    audio = decode_audio(path, 22050)
    assert abs(audio.size - 0.5 * 22050) <= 2
    assert abs(dominant_hz(audio, 22050) - 1000.0) < 3.0


def test_long_files_come_in_bounded_chunks_that_join_to_the_whole(make_sine_wav: Callable[..., Path]) -> None:
    path = make_sine_wav(freqs=220.0, seconds=6.0, sample_rate=RATE)
    chunks = list(iter_audio_chunks(path, RATE, chunk_seconds=0.7))
    chunk_len = int(0.7 * RATE)
    assert [c.size for c in chunks[:-1]] == [chunk_len] * (len(chunks) - 1)
    assert 0 < chunks[-1].size <= chunk_len
    assert all(c.dtype == np.float32 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), decode_audio(path, RATE))
    assert sum(c.size for c in chunks) == 6 * RATE


def test_rendered_piano_survives_a_wav_round_trip(piano_wav: Path, piano_audio: np.ndarray) -> None:
    decoded = decode_audio(piano_wav, RATE)
    assert decoded.size == piano_audio.size
    assert float(np.abs(decoded - piano_audio).max()) < 1e-3


def test_duration_comes_from_the_header(encoded: dict[str, Path]) -> None:
    assert audio_duration(encoded["tone.flac"]) == pytest.approx(TONE_SECONDS, abs=0.01)
    assert audio_duration(encoded["tone.flac"].with_name("absent.flac")) is None


def _bad_files(folder: Path, encoded: dict[str, Path]) -> dict[str, Path]:
    """Files that hold no decodable audio, each named for what is wrong with it."""
    wav = encoded["tone.wav"].read_bytes()
    rng = np.random.default_rng(7)
    contents = {
        "empty.wav": b"",
        "text_renamed.wav": b"these are my piano practice notes, not a recording\n" * 20,
        "random_bytes.mp3": rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
        "garbled_header.wav": rng.integers(0, 256, 64, dtype=np.uint8).tobytes() + wav[64:],
        "cut_in_header.wav": wav[:30],
        "header_only.wav": wav[:44],
        "cut_before_index.mp4": encoded["tone.mp4"].read_bytes()[:4000],
        "cut_before_metadata.m4a": encoded["tone.m4a"].read_bytes()[:3000],
        "cut_early.flac": encoded["tone.flac"].read_bytes()[:3000],
    }
    paths = {}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    paths["silent_film.mp4"] = encoded["silent_film.mp4"]
    paths["missing.wav"] = folder / "missing.wav"
    (folder / "folder.wav").mkdir()
    paths["folder.wav"] = folder / "folder.wav"
    return paths


BAD_NAMES = [
    "empty.wav", "text_renamed.wav", "random_bytes.mp3", "garbled_header.wav", "cut_in_header.wav",
    "header_only.wav", "cut_before_index.mp4", "cut_before_metadata.m4a", "cut_early.flac",
    "silent_film.mp4", "missing.wav", "folder.wav",
]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory, encoded: dict[str, Path]) -> dict[str, Path]:
    return _bad_files(tmp_path_factory.mktemp("bad"), encoded)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_undecodable_files_raise_audio_decode_error_naming_the_file(bad_files: dict[str, Path], name: str) -> None:
    path = bad_files[name]
    with pytest.raises(AudioDecodeError, match=re.escape(str(path))) as info:
        decode_audio(path, RATE)
    assert type(info.value) is AudioDecodeError
    assert "\n" not in str(info.value)


def test_a_video_without_sound_says_it_has_no_audio_stream(bad_files: dict[str, Path]) -> None:
    with pytest.raises(AudioDecodeError, match="no audio stream"):
        decode_audio(bad_files["silent_film.mp4"], RATE)


def test_a_wav_cut_in_its_data_decodes_the_samples_that_are_there(encoded: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut_in_data.wav"
    cut.write_bytes(encoded["tone.wav"].read_bytes()[: 44 + 2 * 22050])  # header + 0.5 s of 16-bit mono
    audio = decode_audio(cut, RATE)
    assert abs(audio.size - RATE // 2) <= 2
    assert abs(dominant_hz(audio, RATE) - TONE_HZ) < 3.0


def test_damaged_files_either_decode_or_raise_audio_decode_error(encoded: dict[str, Path], tmp_path: Path) -> None:
    """Random damage (overwritten bytes, cuts, inserted junk) never leaks another exception type."""
    rng = np.random.default_rng(2024)
    sources = [encoded[name] for name in ("tone.wav", *CODECS)]
    outcomes = {"decoded": 0, "refused": 0}
    for i in range(48):
        source = sources[i % len(sources)]
        data = bytearray(source.read_bytes())
        where = int(rng.integers(len(data)))
        if i % 3 == 0:
            data[where:where + 32] = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
        elif i % 3 == 1:
            data = data[:where]
        else:
            data[where:where] = rng.integers(0, 256, 1000, dtype=np.uint8).tobytes()
        damaged = tmp_path / f"damaged_{i}{source.suffix}"
        damaged.write_bytes(bytes(data))
        try:
            audio = decode_audio(damaged, RATE)
        except AudioDecodeError as exc:
            assert str(damaged) in str(exc)
            outcomes["refused"] += 1
        else:
            assert audio.dtype == np.float32 and audio.ndim == 1 and audio.size > 0
            outcomes["decoded"] += 1
    assert outcomes["decoded"] > 0 and outcomes["refused"] > 0
