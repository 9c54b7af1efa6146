"""Audio augmentation for training: gain, EQ tilt, random band EQ, rooms and reverb, background noise. Each switchable."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.fft import next_fast_len

from .rooms import RoomBank, random_room_response


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations run and their ranges; saved in the checkpoint's metadata."""

    gain: bool = True
    gain_db: tuple[float, float] = (-18.0, 3.0)
    eq_tilt: bool = True
    tilt_db_per_octave: tuple[float, float] = (-3.0, 3.0)
    band_eq: bool = True  # random peaks and dips: other pianos' and microphones' spectral envelopes
    band_eq_bands: int = 4
    band_eq_db: tuple[float, float] = (-8.0, 8.0)
    band_eq_octaves: tuple[float, float] = (0.25, 1.5)  # band width (Gaussian sigma on a log-frequency axis)
    band_eq_hz: tuple[float, float] = (40.0, 7000.0)  # band centres, log-uniform
    reverb: bool = True
    reverb_probability: float = 0.6
    rt60_seconds: tuple[float, float] = (0.15, 1.6)  # small room .. concert hall
    reverb_wet: tuple[float, float] = (0.1, 0.6)
    # a share of the reverberated crops go through an image-source room instead of decaying noise; off by
    # default: at half the reverberated crops it did not pay for itself (model/README.md, third loan)
    rooms: bool = False
    room_share: float = 0.5
    room_rt60_seconds: tuple[float, float] = (0.2, 2.0)
    noise: bool = True
    noise_probability: float = 0.7
    snr_db: tuple[float, float] = (10.0, 45.0)
    # whole-semitone pitch shifts by resampling, labels moved along (model/data/dataset.py): each key's classifier
    # hears its neighbours' timbres, as on another piano; off unless asked for (`train --pitch-shift N`)
    pitch_shift_semitones: int = 0


def _uniform(shape: tuple[int, ...], bounds: tuple[float, float], gen: torch.Generator) -> torch.Tensor:
    lo, hi = bounds
    return lo + (hi - lo) * torch.rand(shape, generator=gen)


def fft_size(n: int) -> int:
    """The smallest length >= n whose real FFT is fast (factors 2, 3 and 5 only): lengths with large prime
    factors are many times slower, and padding a crop plus a room response up to a power of two doubled the work."""
    return next_fast_len(max(1, n), real=True)


def spectral_gain(audio: torch.Tensor, gain_db_at: Callable[[torch.Tensor], torch.Tensor], sample_rate: int) -> torch.Tensor:
    """Filter each row by a gain curve: `gain_db_at(log2 of the bin frequencies)` -> (batch, bins) dB."""
    n = fft_size(audio.shape[-1])
    spec = torch.fft.rfft(audio, n=n, dim=-1)
    log_freqs = torch.log2(torch.fft.rfftfreq(n, 1.0 / sample_rate).clamp(min=20.0))
    return torch.fft.irfft(spec * (10 ** (gain_db_at(log_freqs) / 20)), n=n, dim=-1)[..., : audio.shape[-1]]


def eq_tilt(audio: torch.Tensor, db_per_octave: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Tilt the spectrum around 1 kHz: brighter or duller microphones and rooms."""
    return spectral_gain(audio, lambda log_f: db_per_octave[:, None] * (log_f - math.log2(1000.0))[None], sample_rate)


def band_eq(audio: torch.Tensor, centres_hz: torch.Tensor, gains_db: torch.Tensor, octaves: torch.Tensor,
            sample_rate: int) -> torch.Tensor:
    """Add Gaussian bumps (in dB over log frequency) to each row's spectrum: (batch, bands) parameters."""
    def gain_db_at(log_f: torch.Tensor) -> torch.Tensor:
        distance = (log_f[None, None] - torch.log2(centres_hz)[..., None]) / octaves[..., None]
        return (gains_db[..., None] * torch.exp(-0.5 * distance.pow(2))).sum(dim=1)
    return spectral_gain(audio, gain_db_at, sample_rate)


def _random_bands(b: int, config: AugmentConfig, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    shape = (b, config.band_eq_bands)
    lo, hi = (math.log2(f) for f in config.band_eq_hz)
    centres = 2 ** _uniform(shape, (lo, hi), gen)
    return centres, _uniform(shape, config.band_eq_db, gen), _uniform(shape, config.band_eq_octaves, gen)


def synthetic_room_response(rt60: float, sample_rate: int, gen: torch.Generator) -> torch.Tensor:
    """Exponentially decaying noise with a few early reflections: a cheap, varied room impulse response."""
    length = int(min(rt60, 2.0) * sample_rate)
    t = torch.arange(length) / sample_rate
    tail = torch.randn(length, generator=gen) * torch.exp(-6.9 * t / rt60)
    tail[: int(0.005 * sample_rate)] = 0.0
    for _ in range(4):
        at = int(torch.randint(int(0.002 * sample_rate), int(0.03 * sample_rate), (1,), generator=gen))
        tail[at] += float(torch.rand(1, generator=gen)) * 2
    return tail / tail.norm().clamp(min=1e-6)


def reverb(audio: torch.Tensor, response: torch.Tensor, wet: float) -> torch.Tensor:
    """`audio` convolved with `response` and brought to the dry audio's RMS, mixed with it as wet : 1 - wet."""
    n = fft_size(audio.shape[-1] + response.shape[-1])
    wet_signal = torch.fft.irfft(torch.fft.rfft(audio, n=n) * torch.fft.rfft(response, n=n), n=n)[..., : audio.shape[-1]]
    dry_rms = audio.pow(2).mean().sqrt()
    wet_signal = wet_signal * dry_rms / wet_signal.pow(2).mean().sqrt().clamp(min=1e-8)
    return (1 - wet) * audio + wet * wet_signal


def coloured_noise(length: int, exponent: float, gen: torch.Generator) -> torch.Tensor:
    """Noise with a 1/f^exponent spectrum (0 white, 1 pink, 2 brown)."""
    n = fft_size(length)
    spec = torch.fft.rfft(torch.randn(n, generator=gen))
    freqs = torch.arange(spec.shape[0]).clamp(min=1).float()
    return torch.fft.irfft(spec / freqs ** (exponent / 2), n=n)[:length]


def room_or_reverb(x: torch.Tensor, config: AugmentConfig, sample_rate: int, gen: torch.Generator,
                   rooms: RoomBank | None) -> torch.Tensor:
    """`x` in a room (`config.room_share` of the time, from `rooms` or one made now) or with decaying-noise reverb."""
    if config.rooms and float(torch.rand(1, generator=gen)) < config.room_share:
        if rooms is not None:
            response = rooms.pick(int(torch.randint(1 << 30, (1,), generator=gen)))
        else:
            rng = np.random.default_rng(int(torch.randint(1 << 30, (1,), generator=gen)))
            response = random_room_response(rng, sample_rate, config.room_rt60_seconds)
        return reverb(x, torch.from_numpy(response), 1.0)
    rt60 = float(_uniform((1,), config.rt60_seconds, gen))
    return reverb(x, synthetic_room_response(rt60, sample_rate, gen), float(_uniform((1,), config.reverb_wet, gen)))


def augment_batch(audio: torch.Tensor, config: AugmentConfig, sample_rate: int, gen: torch.Generator,
                  rooms: RoomBank | None = None) -> torch.Tensor:
    """Augment a batch (batch, samples) of mono audio; labels are unaffected by every step.
    `rooms` supplies precomputed room responses (without it, each room is computed when drawn)."""
    b = audio.shape[0]
    if config.eq_tilt:
        audio = eq_tilt(audio, _uniform((b,), config.tilt_db_per_octave, gen), sample_rate)
    if config.band_eq and config.band_eq_bands > 0:
        audio = band_eq(audio, *_random_bands(b, config, gen), sample_rate)
    out = []
    for i in range(b):
        x = audio[i]
        if config.reverb and float(torch.rand(1, generator=gen)) < config.reverb_probability:
            x = room_or_reverb(x, config, sample_rate, gen, rooms)
        if config.noise and float(torch.rand(1, generator=gen)) < config.noise_probability:
            noise = coloured_noise(x.shape[-1], float(torch.rand(1, generator=gen)) * 2, gen)
            snr = float(_uniform((1,), config.snr_db, gen))
            signal_power = x.pow(2).mean().clamp(min=1e-10)
            noise = noise * (signal_power / noise.pow(2).mean().clamp(min=1e-12) / 10 ** (snr / 10)).sqrt()
            x = x + noise
        out.append(x)
    audio = torch.stack(out)
    if config.gain:
        peak = audio.abs().amax(dim=-1, keepdim=True).clamp(min=1e-6)
        audio = audio / peak * 10 ** (_uniform((b, 1), config.gain_db, gen) / 20)
    return audio.clamp(-1.0, 1.0)
