"""Decoder calibration: which thresholds it picks from the activations of validation segments."""

from types import SimpleNamespace

import numpy as np

import notestream.model.validation as validation
from notestream.model.config import DecoderConfig
from notestream.model.decoding import Activations
from notestream.notes import Note, Performance

RATE = 10.0


def sustained_note_cut_by_an_early_offset() -> tuple[Activations, Performance]:
    """Key 40 struck at 0.2 s and sounding to 2.0 s; the offset head fires (wrongly) at 0.6 s."""
    z = np.zeros((30, 88), dtype=np.float32)
    acts = Activations(z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(30, dtype=np.float32))
    acts.onset[2, 40] = 0.9
    acts.frame[2:20, 40] = 0.9
    acts.frame[20:24, 40] = 0.35  # a decaying tail the frame threshold must cut
    acts.offset[6, 40] = 0.8
    acts.velocity[2, 40] = 0.5
    return acts, Performance([Note(0.2, 2.0, 61, 64)], [])


def test_calibration_drops_an_offset_head_that_cuts_sustained_notes_short(monkeypatch):
    acts, reference = sustained_note_cut_by_an_early_offset()
    monkeypatch.setattr(validation, "segment_activations", lambda loaded, seg: acts)
    monkeypatch.setattr(validation, "reference_performance", lambda seg: reference)
    loaded = SimpleNamespace(decoder=DecoderConfig(), features=SimpleNamespace(frame_rate=RATE))

    config, scores = validation.calibrate_decoder(loaded, ["segment"])

    assert config.offset_threshold is None
    assert config.frame_threshold >= 0.4  # 0.3 would keep the tail and end the note at 2.4 s
    assert (scores.note_f1, scores.note_offset_f1) == (1.0, 1.0)


def test_with_onsets_on_their_rise_calibration_keeps_to_end_rules_that_hold_no_frame_back(monkeypatch):
    z = np.zeros((30, 88), dtype=np.float32)
    acts = Activations(z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(30, dtype=np.float32))
    acts.onset[2, 40], acts.velocity[2, 40] = 0.9, 0.5
    acts.frame[2:20, 40] = 0.9
    acts.frame[8:10, 40] = 0.1  # a two-frame dip inside the note: only a three-frame end rule bridges it
    monkeypatch.setattr(validation, "segment_activations", lambda loaded, seg: acts)
    monkeypatch.setattr(validation, "reference_performance", lambda seg: Performance([Note(0.2, 2.0, 61, 64)], []))

    def calibrated(decoder: DecoderConfig) -> DecoderConfig:
        loaded = SimpleNamespace(decoder=decoder, features=SimpleNamespace(frame_rate=RATE))
        return validation.calibrate_decoder(loaded, ["segment"])[0]

    assert calibrated(DecoderConfig()).end_frames == 3
    on_rise = calibrated(DecoderConfig(onset_on_rise=True))
    assert on_rise.onset_on_rise and on_rise.end_frames <= 2 and on_rise.frames_ahead == 0
