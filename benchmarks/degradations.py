"""Recording conditions the benchmark audio is put through: lossy codecs, noise, rooms, a phone.

Training audio is clean SoundFont piano with synthetic augmentation (gain, EQ, decaying-noise reverb,
coloured noise); users bring compressed uploads, phone videos and real rooms. These conditions are made
differently from that augmentation, so scores under them say how far the model carries: the codecs are
the real encoders (FFmpeg through PyAV), the rooms are image-source responses of rectangular rooms
(Allen & Berkley 1979): training's room augmentation uses the same model, but draws random rooms (never
these two exactly) and damps their high frequencies. Every condition is a pure function of the audio and
a seed, and keeps the audio's length, loudness (RMS) and timing (a room's direct sound arrives when the dry
audio's did), so the references still line up.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.signal import correlate

from notestream.model.data.augment import reverb
from notestream.model.data.rooms import from_direct_sound, sabine_rt60, shoebox_response

MAX_CODEC_DELAY = 4096  # samples of encoder priming we look for when re-aligning decoded audio

Degrade = Callable[[np.ndarray, int, int], np.ndarray]  # (float32 mono audio, sample rate, seed) -> audio


@dataclass(frozen=True)
class Condition:
    """A named recording condition: what it stands for and the function that applies it."""

    name: str
    description: str
    apply: Degrade


def match_rms(audio: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`audio` scaled to `reference`'s RMS, clipped to [-1, 1] as a recorder would."""
    gain = np.sqrt(np.mean(reference.astype(np.float64) ** 2) / max(np.mean(audio.astype(np.float64) ** 2), 1e-20))
    return np.clip(audio * gain, -1.0, 1.0).astype(np.float32)


def align_to(decoded: np.ndarray, original: np.ndarray, max_delay: int = MAX_CODEC_DELAY) -> np.ndarray:
    """`decoded` shifted by the delay (0..max_delay samples) that best matches `original`, cut or padded to its
    length: some containers keep the encoder's priming samples (AAC in MP4 without an edit list)."""
    span = min(len(original), len(decoded), 20 * max_delay)
    scores = correlate(decoded[: span + max_delay], original[:span], mode="valid", method="fft")
    delay = int(np.argmax(scores[: max_delay + 1]))
    shifted = decoded[delay: delay + len(original)]
    return np.pad(shifted, (0, len(original) - len(shifted))).astype(np.float32)


def codec_round_trip(audio: np.ndarray, sample_rate: int, codec: str, container: str, bit_rate: int) -> np.ndarray:
    """`audio` encoded with a real lossy codec into a real container and decoded back, as an upload would be."""
    import av

    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=sample_rate, layout="mono")
        stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as decoded_file:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        frames = [r for f in decoded_file.decode(audio=0) for r in resampler.resample(f)] + resampler.resample(None)
    decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    return match_rms(align_to(decoded, audio), audio)


def pink_noise(length: int, seed: int) -> np.ndarray:
    """Noise with a 1/f power spectrum, unit RMS."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(length))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n=length)
    return noise / np.sqrt(np.mean(noise ** 2))


def add_noise(audio: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """`audio` plus pink noise at `snr_db` below its RMS."""
    rms = np.sqrt(np.mean(audio.astype(np.float64) ** 2))
    noisy = audio + pink_noise(len(audio), seed) * rms * 10 ** (-snr_db / 20)
    return np.clip(noisy, -1.0, 1.0).astype(np.float32)


def in_room(audio: np.ndarray, response: np.ndarray) -> np.ndarray:
    """`audio` heard through a room's impulse response, same length and loudness, its direct sound where the
    audio's own was (`from_direct_sound`: the flight to the microphone is a constant delay, not an error)."""
    wet = reverb(torch.from_numpy(np.asarray(audio, np.float32)), torch.from_numpy(from_direct_sound(response)), wet=1.0)
    return match_rms(wet.numpy(), audio)


LIVING_ROOM = dict(room=(5.0, 4.0, 2.7), source=(1.3, 1.1, 1.0), mic=(3.6, 2.7, 1.5), absorption=0.35)
HALL = dict(room=(24.0, 16.0, 9.0), source=(6.2, 7.3, 1.2), mic=(15.1, 9.4, 2.0), absorption=0.25)


def _room(spec: dict) -> Degrade:
    return lambda audio, rate, seed: in_room(audio, shoebox_response(sample_rate=rate, **spec))


def _phone(audio: np.ndarray, rate: int, seed: int) -> np.ndarray:
    roomy = in_room(audio, shoebox_response(sample_rate=rate, **LIVING_ROOM))
    return codec_round_trip(add_noise(roomy, 30.0, seed), rate, "aac", "mp4", 64_000)


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("clean", "the benchmark audio as rendered", lambda audio, rate, seed: audio.astype(np.float32)),
    Condition("mp3-128k", "an MP3 upload (LAME, 128 kbit/s)",
              lambda audio, rate, seed: codec_round_trip(audio, rate, "libmp3lame", "mp3", 128_000)),
    Condition("aac-64k", "a phone video's soundtrack (AAC in MP4, 64 kbit/s)",
              lambda audio, rate, seed: codec_round_trip(audio, rate, "aac", "mp4", 64_000)),
    Condition("opus-24k", "a voice app or WebRTC call (Opus, 24 kbit/s)",
              lambda audio, rate, seed: codec_round_trip(audio, rate, "libopus", "ogg", 24_000)),
    Condition("noise-20db", "a noisy room: pink noise 20 dB below the music",
              lambda audio, rate, seed: add_noise(audio, 20.0, seed)),
    Condition("living-room", f"a 5 x 4 x 2.7 m room, Sabine RT60 {sabine_rt60(LIVING_ROOM['room'], 0.35):.2f} s "
              "(image-source response)", _room(LIVING_ROOM)),
    Condition("hall", f"a 24 x 16 x 9 m hall, Sabine RT60 {sabine_rt60(HALL['room'], 0.25):.2f} s "
              "(image-source response)", _room(HALL)),
    Condition("phone", "a phone in the living room: room, pink noise at 30 dB, AAC 64 kbit/s", _phone),
)}
