"""Rooms for training augmentation: image-source impulse responses of random rectangular rooms.

A pianist's microphone hears the room: the direct sound, early reflections off walls a few metres away,
and a tail that rings on after each key is released (a 1.5 s hall keeps a note audible long after its
offset). Decaying noise alone does not teach this: it has no discrete early reflections and no
distance-dependent direct-to-reverberant ratio. Here the response comes from the image-source method
(Allen & Berkley 1979) in rooms of random size, absorption and microphone placement, and high
frequencies decay faster than low ones, as air and soft furnishings make them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SPEED_OF_SOUND = 343.0  # m/s
DAMPING_CROSSOVERS_HZ = (500.0, 1000.0, 2000.0, 4000.0)  # band edges of the frequency-dependent decay


@dataclass(frozen=True)
class RoomSpec:
    """A rectangular room (metres), a source and a microphone in it, and its walls' energy absorption."""

    room: tuple[float, float, float]
    source: tuple[float, float, float]
    mic: tuple[float, float, float]
    absorption: float

    @property
    def rt60(self) -> float:
        return sabine_rt60(self.room, self.absorption)


def sabine_rt60(room: tuple[float, float, float], absorption: float) -> float:
    """Reverberation time (s) of a rectangular room whose surfaces all absorb `absorption` of the energy."""
    x, y, z = room
    return 0.161 * x * y * z / (2 * (x * y + x * z + y * z) * absorption)


def shoebox_response(room: tuple[float, float, float], source: tuple[float, float, float],
                     mic: tuple[float, float, float], absorption: float, sample_rate: int,
                     seconds: float | None = None) -> np.ndarray:
    """Image-source impulse response of a rectangular room (Allen & Berkley 1979), `seconds` long
    (default: the room's RT60), peak 1; each wall reflection keeps sqrt(1 - absorption) of the pressure."""
    seconds = sabine_rt60(room, absorption) if seconds is None else seconds
    reach = SPEED_OF_SOUND * seconds
    axes = [_image_offsets(length, s, m, reach) for length, s, m in zip(room, source, mic, strict=True)]
    (dx, rx), (dy, ry), (dz, rz) = axes
    distance = np.sqrt(dx[:, None, None] ** 2 + dy[None, :, None] ** 2 + dz[None, None, :] ** 2)
    reflections = rx[:, None, None] + ry[None, :, None] + rz[None, None, :]
    keep = distance < reach
    delay = np.round(distance[keep] / SPEED_OF_SOUND * sample_rate).astype(np.int64)
    amplitude = np.sqrt(1.0 - absorption) ** reflections[keep] / np.maximum(distance[keep], 0.1)
    response = np.bincount(delay, weights=amplitude, minlength=int(seconds * sample_rate) + 1)
    return (response / np.abs(response).max()).astype(np.float32)


def from_direct_sound(response: np.ndarray) -> np.ndarray:
    """`response` from the direct sound's arrival on. The sound's flight from piano to microphone (27 ms across a
    concert hall) delays every note alike: audio heard through the room must keep its labels' and references'
    times, or training teaches, and benchmarks charge, a constant delay that no transcriber should report."""
    return response[direct_arrival(response):]


def direct_arrival(response: np.ndarray) -> int:
    """Index of the response's first non-zero sample, where the direct sound arrives (0 for silence)."""
    return int(np.flatnonzero(response)[0]) if np.any(response) else 0


def _image_offsets(length: float, source: float, mic: float, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Along one axis: each image source's offset from the mic and the reflections that made it."""
    order = int(np.ceil(reach / (2 * length))) + 1
    n = np.arange(-order, order + 1)
    offsets = np.concatenate([2 * n * length + source, 2 * n * length - source]) - mic
    reflections = np.concatenate([np.abs(2 * n), np.abs(2 * n - 1)])
    return offsets, reflections


def random_room(rng: np.random.Generator, rt60_seconds: tuple[float, float]) -> RoomSpec:
    """A room from a practice room to a concert hall, its absorption set for an RT60 drawn log-uniformly in
    `rt60_seconds`; the piano well inside it, the microphone either near the piano (a phone on the lid,
    a clip-on) or anywhere in the room (a recorder in the audience)."""
    length = math.exp(rng.uniform(math.log(3.5), math.log(30.0)))
    width = max(2.5, length * rng.uniform(0.5, 1.0))
    height = min(2.4 + length * rng.uniform(0.03, 0.3), 14.0)
    room = (length, width, height)
    # small rooms with a concert hall's reverberation do not exist, and would take millions of images
    target_rt60 = min(math.exp(rng.uniform(*np.log(rt60_seconds))), 0.3 + length / 15)
    absorption = float(np.clip(sabine_rt60(room, 1.0) / target_rt60, 0.05, 0.95))
    source = (rng.uniform(0.8, length - 0.8), rng.uniform(0.8, width - 0.8), rng.uniform(0.7, 1.3))
    if rng.random() < 0.5:
        mic = _near(source, room, rng)
    else:
        mic = (rng.uniform(0.3, length - 0.3), rng.uniform(0.3, width - 0.3), rng.uniform(0.5, min(3.0, height - 0.3)))
    return RoomSpec(room, source, mic, absorption)


def _near(source: tuple[float, float, float], room: tuple[float, float, float],
          rng: np.random.Generator) -> tuple[float, float, float]:
    """A point 0.3..2 m from `source`, inside the room."""
    direction = rng.standard_normal(3)
    direction /= np.linalg.norm(direction)
    point = np.asarray(source) + direction * rng.uniform(0.3, 2.0)
    return tuple(float(v) for v in np.clip(point, 0.2, np.asarray(room) - 0.2))


def damp_high_frequencies(response: np.ndarray, sample_rate: int, rt60: float, high_ratio: float) -> np.ndarray:
    """`response` with bands above 500 Hz decaying faster: the top band's RT60 is `high_ratio` x `rt60`,
    bands between interpolate on a log-frequency axis; decay counts from the direct sound, which is kept."""
    spectrum = np.fft.rfft(response)
    log_freqs = np.log2(np.maximum(np.fft.rfftfreq(len(response), 1.0 / sample_rate), 20.0))
    edges = np.log2(DAMPING_CROSSOVERS_HZ)
    t = np.maximum(np.arange(len(response)) - direct_arrival(response), 0) / sample_rate
    out = np.zeros(len(response))
    for k, mask in enumerate(_band_masks(log_freqs, edges)):
        band_rt60 = rt60 * high_ratio ** (k / len(edges))
        out += np.fft.irfft(spectrum * mask, n=len(response)) * np.exp(-6.9 * t * (1 / band_rt60 - 1 / rt60))
    return out.astype(np.float32)


def _band_masks(log_freqs: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    """Complementary band masks (they sum to 1) with half-octave raised-cosine crossovers at `edges`."""
    steps = [np.clip((log_freqs - e) / 0.5 + 0.5, 0.0, 1.0) for e in edges]
    above = [0.5 - 0.5 * np.cos(np.pi * s) for s in steps]  # 0 below each edge, 1 above it
    bounds = [np.ones_like(log_freqs), *above, np.zeros_like(log_freqs)]
    return [bounds[k] - bounds[k + 1] for k in range(len(edges) + 1)]


def room_response(spec: RoomSpec, sample_rate: int, high_ratio: float, max_seconds: float) -> np.ndarray:
    """The damped image-source response of `spec` from its direct sound on, at most `max_seconds` long, unit energy."""
    seconds = min(spec.rt60, max_seconds)
    response = from_direct_sound(shoebox_response(spec.room, spec.source, spec.mic, spec.absorption, sample_rate, seconds))
    response = damp_high_frequencies(response, sample_rate, spec.rt60, high_ratio)
    return response / max(float(np.linalg.norm(response)), 1e-9)


def random_room_response(rng: np.random.Generator, sample_rate: int, rt60_seconds: tuple[float, float],
                         max_seconds: float = 2.0) -> np.ndarray:
    """The response of a random room (`random_room`) with random treble damping (top band 0.3..0.9 x RT60)."""
    spec = random_room(rng, rt60_seconds)
    return room_response(spec, sample_rate, float(rng.uniform(0.3, 0.9)), max_seconds)


class RoomBank:
    """A few dozen room responses, renewed one at a time: computing a response (up to ~0.5 s for a small,
    bright room) per training crop would starve the accelerator, while a fixed set would be learnt."""

    def __init__(self, rng: np.random.Generator, sample_rate: int, rt60_seconds: tuple[float, float],
                 size: int = 24, max_seconds: float = 2.0):
        self.rng, self.sample_rate, self.rt60_seconds, self.max_seconds = rng, sample_rate, rt60_seconds, max_seconds
        self.responses = [self._new() for _ in range(size)]

    def _new(self) -> np.ndarray:
        return random_room_response(self.rng, self.sample_rate, self.rt60_seconds, self.max_seconds)

    def renew_one(self) -> None:
        self.responses[int(self.rng.integers(len(self.responses)))] = self._new()

    def pick(self, index: int) -> np.ndarray:
        return self.responses[index % len(self.responses)]
