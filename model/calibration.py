"""Tuning a checkpoint's decoder on rendered validation splits, and saving it back into the checkpoint.

The network's weights are not touched: calibration chooses the decoder's thresholds (and, when asked, a new
streaming window or set of pitch-shifted views) for the weights the checkpoint already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from .checkpoint import load_checkpoint, save_checkpoint
from .config import DecoderConfig, ViewConfig, WindowConfig
from .data.corpus import iter_segments
from .evaluation import TranscriptionMetrics
from .validation import calibrate_decoder


@dataclass(frozen=True)
class CalibrationReport:
    """What calibration changed and how the calibrated decoder scores on the segments it was tuned on."""

    before: DecoderConfig
    after: DecoderConfig
    metrics: TranscriptionMetrics
    window: WindowConfig
    views: tuple[int, ...]
    split: str
    segments: int


def calibrate_checkpoint(checkpoint: Path, data: Path, limit: int, hop: int | None = None,
                         lookahead: int | None = None, split: str = "validation",
                         views: tuple[int, ...] | None = None) -> CalibrationReport:
    """Tune `checkpoint`'s decoder on up to `limit` segments of each comma-separated rendered `split`
    under `data`, for its window (re-windowed by `hop`/`lookahead`) and views (`views`), and save it.

    A new window drops the decoders kept for other view sets (they were tuned for the old window); new
    views keep the old set's decoder among the alternatives.
    """
    loaded = load_checkpoint(checkpoint, device="cpu")
    window = loaded.window.replaced(hop, lookahead)
    rewindowed = window != loaded.window
    if rewindowed:
        loaded.window, loaded.alternatives = window, {}
    if views is not None and tuple(views) != loaded.views.semitones:
        kept = {} if rewindowed else {loaded.views.semitones: loaded.decoder}
        loaded.alternatives = {k: v for k, v in {**loaded.alternatives, **kept}.items() if k != tuple(views)}
        loaded.views = ViewConfig(views)
    rate = loaded.features.sample_rate
    segments = [seg for name in split.split(",") for seg in islice(iter_segments(data, name, rate), limit)]
    before = loaded.decoder
    loaded.decoder, metrics = calibrate_decoder(loaded, segments)
    loaded.metadata["decoder_calibration"] = {
        "split": split, "validation_segments": len(segments), "note_f1": metrics.note_f1,
        "window": {"hop": loaded.window.hop, "lookahead": loaded.window.lookahead},
        "views": list(loaded.views.semitones)}
    save_checkpoint(checkpoint, loaded)
    return CalibrationReport(before, loaded.decoder, metrics, loaded.window, loaded.views.semitones, split,
                             len(segments))
