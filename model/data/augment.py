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
    # default: at half the reverberated crops it did not pay for itself (docs/training-log.md)
    rooms: bool = False
    room_share: float = 0.5
    room_rt60_seconds: tuple[float, float] = (0.2, 2.0)
    noise: bool = True
    noise_probability: float = 0.7
    snr_db: tuple[float, float] = (10.0, 45.0)
    # whole-semitone pitch shifts by resampling, labels moved along (model/data/dataset.py): each key's classifier
    # hears its neighbours' timbres, as on another piano; off unless asked for (`train --pitch-shift N`)
    pitch_shift_semitones: int = 0


def _uniform(shape: tuple[int, ...], bounds: tuple[float, float], gen: torch.Generator,
             device: torch.device | None = None) -> torch.Tensor:
    """Drawn from `gen` on the CPU (so a seed gives the same draws on every device), then moved to `device`."""
    lo, hi = bounds
    return (lo + (hi - lo) * torch.rand(shape, generator=gen)).to(device)


def fft_size(n: int) -> int:
    """The smallest length >= n whose real FFT is fast (factors 2, 3 and 5 only): lengths with large prime
    factors are many times slower, and padding a crop plus a room response up to a power of two doubled the work."""
    return next_fast_len(max(1, n), real=True)


GainCurve = Callable[[torch.Tensor], torch.Tensor]  # log2 of bin frequencies -> (batch, bins) gain in dB


CURVE_POINTS = 1024  # a gain curve is evaluated at this many log-spaced frequencies, then interpolated per bin


def spectral_gain(audio: torch.Tensor, gain_db_at: GainCurve, sample_rate: int) -> torch.Tensor:
    """Filter each row by a smooth gain curve: `gain_db_at(log2 frequencies)` -> (batch, points) dB, evaluated
    on a log-frequency grid (a few thousandths of an octave apart) and interpolated linearly to the FFT bins."""
    n = fft_size(audio.shape[-1])
    spec = torch.fft.rfft(audio, n=n, dim=-1)
    log_freqs = torch.log2(torch.fft.rfftfreq(n, 1.0 / sample_rate, device=audio.device).clamp(min=20.0))
    grid = torch.linspace(math.log2(20.0), math.log2(max(20.0, sample_rate / 2)), CURVE_POINTS, device=audio.device)
    position = (log_freqs - grid[0]) / (grid[1] - grid[0])
    below = position.floor().long().clamp(0, CURVE_POINTS - 2)
    frac = position - below
    curve = gain_db_at(grid)
    gain_db = curve[:, below] * (1 - frac) + curve[:, below + 1] * frac
    return torch.fft.irfft(spec * (10 ** (gain_db / 20)), n=n, dim=-1)[..., : audio.shape[-1]]


def tilt_curve(db_per_octave: torch.Tensor) -> GainCurve:
    """A spectral tilt around 1 kHz per row: brighter or duller microphones and rooms."""
    return lambda log_f: db_per_octave[:, None] * (log_f - math.log2(1000.0))[None]


def bands_curve(centres_hz: torch.Tensor, gains_db: torch.Tensor, octaves: torch.Tensor) -> GainCurve:
    """Gaussian bumps (in dB over log frequency) per row: (batch, bands) parameters."""
    def gain_db_at(log_f: torch.Tensor) -> torch.Tensor:
        distance = (log_f[None, None] - torch.log2(centres_hz)[..., None]) / octaves[..., None]
        return (gains_db[..., None] * torch.exp(-0.5 * distance.pow(2))).sum(dim=1)
    return gain_db_at


def eq_tilt(audio: torch.Tensor, db_per_octave: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Tilt the spectrum around 1 kHz."""
    return spectral_gain(audio, tilt_curve(db_per_octave), sample_rate)


def band_eq(audio: torch.Tensor, centres_hz: torch.Tensor, gains_db: torch.Tensor, octaves: torch.Tensor,
            sample_rate: int) -> torch.Tensor:
    """Add Gaussian bumps (in dB over log frequency) to each row's spectrum."""
    return spectral_gain(audio, bands_curve(centres_hz, gains_db, octaves), sample_rate)


def _random_bands(b: int, config: AugmentConfig, gen: torch.Generator, device: torch.device) -> tuple[torch.Tensor, ...]:
    shape = (b, config.band_eq_bands)
    lo, hi = (math.log2(f) for f in config.band_eq_hz)
    centres = 2 ** _uniform(shape, (lo, hi), gen, device)
    return centres, _uniform(shape, config.band_eq_db, gen, device), _uniform(shape, config.band_eq_octaves, gen, device)


def _randn(shape: tuple[int, ...], gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """Normal draws made where `gen` lives, then moved to `device`."""
    return torch.randn(shape, generator=gen, device=gen.device).to(device)


def synthetic_room_responses(rt60: torch.Tensor, sample_rate: int, gen: torch.Generator, noise_gen: torch.Generator,
                             device: torch.device) -> torch.Tensor:
    """Exponentially decaying noise with four early reflections per row (rt60: (k,) seconds), zero-padded to the
    longest: cheap, varied room impulse responses, each normalised to unit energy."""
    lengths = (rt60.clamp(max=2.0) * sample_rate).long()
    length = int(lengths.max())
    index = torch.arange(length, device=device)
    tails = _randn((rt60.shape[0], length), noise_gen, device) * torch.exp(-6.9 * (index / sample_rate)[None] / rt60.to(device)[:, None])
    tails[index[None] >= lengths.to(device)[:, None]] = 0.0
    tails[:, : int(0.005 * sample_rate)] = 0.0
    at = torch.randint(int(0.002 * sample_rate), int(0.03 * sample_rate), (rt60.shape[0], 4), generator=gen)
    tails.scatter_add_(1, at.to(device), (torch.rand(at.shape, generator=gen) * 2).to(device))
    return tails / tails.norm(dim=-1, keepdim=True).clamp(min=1e-6)


def reverb_rows(audio: torch.Tensor, responses: torch.Tensor, wet: torch.Tensor) -> torch.Tensor:
    """Each row of `audio` (k, samples) convolved with its response (k, taps), brought to the dry row's RMS and
    mixed with it as wet : 1 - wet (wet: (k,))."""
    n = fft_size(audio.shape[-1] + responses.shape[-1])
    spectra = torch.fft.rfft(audio, n=n) * torch.fft.rfft(responses.to(audio.device, audio.dtype), n=n)
    wet_signal = torch.fft.irfft(spectra, n=n)[..., : audio.shape[-1]]
    dry_rms = audio.pow(2).mean(dim=-1, keepdim=True).sqrt()
    wet_signal = wet_signal * dry_rms / wet_signal.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp(min=1e-8)
    wet = wet.to(audio.device, audio.dtype)[:, None]
    return (1 - wet) * audio + wet * wet_signal


def reverb(audio: torch.Tensor, response: torch.Tensor, wet: float) -> torch.Tensor:
    """One signal through one room response (see `reverb_rows`)."""
    return reverb_rows(audio[None], response[None], torch.tensor([wet]))[0]


def coloured_noise_rows(rows: int, length: int, exponents: torch.Tensor, gen: torch.Generator,
                        device: torch.device) -> torch.Tensor:
    """Noise with a 1/f^exponent spectrum per row (0 white, 1 pink, 2 brown): Gaussian spectra, shaped, inverted."""
    n = fft_size(length)
    bins = n // 2 + 1
    spec = torch.complex(_randn((rows, bins), gen, device), _randn((rows, bins), gen, device))
    ends = [0, bins - 1] if n % 2 == 0 else [0]  # real-valued bins: all their power in the real part, as for real noise
    spec[:, ends] = torch.complex(spec[:, ends].real * math.sqrt(2), torch.zeros_like(spec[:, ends].real))
    freqs = torch.arange(bins, device=device).clamp(min=1).float()
    return torch.fft.irfft(spec / freqs[None] ** (exponents.to(device)[:, None] / 2), n=n)[:, :length]


def _room_rows(rooms_wanted: torch.Tensor, config: AugmentConfig, sample_rate: int, gen: torch.Generator,
               rooms: RoomBank | None) -> list[np.ndarray | None]:
    """An image-source room response for each row that asked for one (from `rooms`, or made now), else None."""
    out: list[np.ndarray | None] = []
    for wanted in rooms_wanted.tolist():
        seed = int(torch.randint(1 << 30, (1,), generator=gen))
        if not wanted:
            out.append(None)
        elif rooms is not None:
            out.append(rooms.pick(seed))
        else:
            out.append(random_room_response(np.random.default_rng(seed), sample_rate, config.room_rt60_seconds))
    return out


def _reverberate(audio: torch.Tensor, config: AugmentConfig, sample_rate: int, gen: torch.Generator,
                 noise_gen: torch.Generator, rooms: RoomBank | None) -> torch.Tensor:
    """`reverb_probability` of the rows through a room (`room_share` of those, fully wet) or decaying noise."""
    chosen = torch.rand(audio.shape[0], generator=gen) < config.reverb_probability
    k = int(chosen.sum())
    rt60, wet = _uniform((k,), config.rt60_seconds, gen), _uniform((k,), config.reverb_wet, gen)
    in_room = (torch.rand(k, generator=gen) < config.room_share) & config.rooms
    if k == 0:
        return audio
    responses = synthetic_room_responses(rt60, sample_rate, gen, noise_gen, audio.device)
    room_responses = _room_rows(in_room, config, sample_rate, gen, rooms) if config.rooms else []
    if any(r is not None for r in room_responses):
        longest = max([responses.shape[-1]] + [r.size for r in room_responses if r is not None])
        responses = torch.nn.functional.pad(responses, (0, longest - responses.shape[-1]))
        for i, response in enumerate(room_responses):
            if response is not None:
                responses[i] = 0.0
                responses[i, : response.size] = torch.from_numpy(response).to(responses)
        wet = torch.where(in_room, 1.0, wet)
    out = audio.clone()
    out[chosen.to(audio.device)] = reverb_rows(audio[chosen.to(audio.device)], responses, wet)
    return out


def _add_noise(audio: torch.Tensor, config: AugmentConfig, gen: torch.Generator, noise_gen: torch.Generator) -> torch.Tensor:
    """Coloured noise (white to brown) at a random SNR on `noise_probability` of the rows."""
    chosen = torch.rand(audio.shape[0], generator=gen) < config.noise_probability
    k = int(chosen.sum())
    exponents, snr_db = torch.rand(k, generator=gen) * 2, _uniform((k,), config.snr_db, gen)
    if k == 0:
        return audio
    rows = chosen.to(audio.device)
    noise = coloured_noise_rows(k, audio.shape[-1], exponents, noise_gen, audio.device)
    signal_power = audio[rows].pow(2).mean(dim=-1, keepdim=True).clamp(min=1e-10)
    noise_power = noise.pow(2).mean(dim=-1, keepdim=True).clamp(min=1e-12)
    scale = (signal_power / noise_power / 10 ** (snr_db.to(audio.device)[:, None] / 10)).sqrt()
    out = audio.clone()
    out[rows] = audio[rows] + noise * scale
    return out


def augment_batch(audio: torch.Tensor, config: AugmentConfig, sample_rate: int, gen: torch.Generator,
                  rooms: RoomBank | None = None, noise_gen: torch.Generator | None = None) -> torch.Tensor:
    """Augment a batch (batch, samples) of mono audio; labels are unaffected by every step.

    Whole-batch tensor operations, so the cost does not grow with Python work per row and runs where `audio` is
    (a data worker's CPU, or the training GPU). `gen` (CPU) draws the parameters; `noise_gen` (default `gen`)
    the noise and reverb tails, on its own device. `rooms` supplies precomputed room responses (without it,
    each room is computed when drawn).
    """
    b, device = audio.shape[0], audio.device
    noise_gen = gen if noise_gen is None else noise_gen
    curves: list[GainCurve] = []
    if config.eq_tilt:
        curves.append(tilt_curve(_uniform((b,), config.tilt_db_per_octave, gen, device)))
    if config.band_eq and config.band_eq_bands > 0:
        curves.append(bands_curve(*_random_bands(b, config, gen, device)))
    if curves:
        audio = spectral_gain(audio, lambda log_f: sum(curve(log_f) for curve in curves), sample_rate)
    if config.reverb:
        audio = _reverberate(audio, config, sample_rate, gen, noise_gen, rooms)
    if config.noise:
        audio = _add_noise(audio, config, gen, noise_gen)
    if config.gain:
        peak = audio.abs().amax(dim=-1, keepdim=True).clamp(min=1e-6)
        audio = audio / peak * 10 ** (_uniform((b, 1), config.gain_db, gen, device) / 20)
    return audio.clamp(-1.0, 1.0)
