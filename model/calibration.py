"""Tuning a checkpoint's decoder on rendered validation splits, and saving it back into the checkpoint.

The network's weights are not touched: calibration chooses the decoder's thresholds (and, when asked, a new
streaming window or set of pitch-shifted views) for the weights the checkpoint already has.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from .checkpoint import LoadedModel, load_checkpoint, save_checkpoint
from .config import ACCURATE, LATENCY_NAME_CHARS, DecoderConfig, LatencyPreset, ViewConfig, WindowConfig
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
                         views: tuple[int, ...] | None = None, latency: str = ACCURATE,
                         alternative: tuple[int, ...] | None = None,
                         onset_on_rise: bool | None = None) -> CalibrationReport:
    """Tune `checkpoint`'s decoder on up to `limit` segments of each comma-separated rendered `split`
    under `data`, for its window (re-windowed by `hop`/`lookahead`) and views (`views`), and save it.

    A new window drops the decoders kept for other view sets (they were tuned for the old window); new
    views keep the old set's decoder among the alternatives. With `latency` other than "accurate" the
    checkpoint's own settings stay as they are and the named operating point is (re)made instead.
    `onset_on_rise` sets the decoder's onset rule before tuning (None: the rule it had).
    """
    loaded = load_checkpoint(checkpoint, device="cpu")
    rule = {} if onset_on_rise is None else {"onset_on_rise": onset_on_rise}
    if alternative is not None:
        return _calibrate_alternative(checkpoint, loaded, data, limit, split, tuple(alternative), rule)
    if latency != ACCURATE:
        return _calibrate_latency(checkpoint, loaded, data, limit, hop, lookahead, split, views, latency, rule)
    window = loaded.window.replaced(hop, lookahead)
    rewindowed = window != loaded.window
    if rewindowed:
        loaded.window, loaded.alternatives = window, {}
    if views is not None and tuple(views) != loaded.views.semitones:
        kept = {} if rewindowed else {loaded.views.semitones: loaded.decoder}
        loaded.alternatives = {k: v for k, v in {**loaded.alternatives, **kept}.items() if k != tuple(views)}
        loaded.views = ViewConfig(views)
    segments = _segments(data, split, limit, loaded.features.sample_rate)
    before = loaded.decoder
    loaded.decoder = replace(before, **rule)
    loaded.decoder, metrics = calibrate_decoder(loaded, segments)
    loaded.metadata["decoder_calibration"] = {
        "split": split, "validation_segments": len(segments), "note_f1": metrics.note_f1,
        "window": {"hop": loaded.window.hop, "lookahead": loaded.window.lookahead},
        "views": list(loaded.views.semitones)}
    save_checkpoint(checkpoint, loaded)
    return CalibrationReport(before, loaded.decoder, metrics, loaded.window, loaded.views.semitones, split,
                             len(segments))


def _calibrate_latency(checkpoint: Path, loaded: LoadedModel, data: Path, limit: int, hop: int | None,
                       lookahead: int | None, split: str, views: tuple[int, ...] | None,
                       name: str, rule: dict) -> CalibrationReport:
    """Make or remake the operating point `name`: its window, views and a decoder tuned for them."""
    if not name or set(name) - LATENCY_NAME_CHARS:
        raise ValueError(f"latency name {name!r}: use lower-case letters, digits and '-'")
    base = loaded.latencies.get(name, LatencyPreset(loaded.window, loaded.views, loaded.decoder))
    preset = LatencyPreset(base.window.replaced(hop, lookahead), ViewConfig(views) if views else base.views, base.decoder)
    variant = replace(loaded, window=preset.window, views=preset.views, decoder=replace(preset.decoder, **rule),
                      alternatives={})
    segments = _segments(data, split, limit, loaded.features.sample_rate)
    decoder, metrics = calibrate_decoder(variant, segments)
    loaded.latencies[name] = replace(preset, decoder=decoder)
    loaded.metadata.setdefault("latency_calibration", {})[name] = {"split": split, "note_f1": metrics.note_f1}
    save_checkpoint(checkpoint, loaded)
    return CalibrationReport(base.decoder, decoder, metrics, preset.window, preset.views.semitones, split,
                             len(segments))


def _calibrate_alternative(checkpoint: Path, loaded: LoadedModel, data: Path, limit: int, split: str,
                           views: tuple[int, ...], rule: dict) -> CalibrationReport:
    """(Re)make the decoder kept for the view set `views` at the checkpoint's own window (after new weights,
    say), leaving the checkpoint's views and decoder as they are."""
    if views == loaded.views.semitones:
        raise ValueError(f"views {views} are the checkpoint's own: calibrate them without --alternative-views")
    before = loaded.alternatives.get(views, loaded.decoder)
    variant = replace(loaded, views=ViewConfig(views), decoder=replace(before, **rule), alternatives={})
    segments = _segments(data, split, limit, loaded.features.sample_rate)
    decoder, metrics = calibrate_decoder(variant, segments)
    loaded.alternatives[views] = decoder
    loaded.metadata.setdefault("view_calibration", {})[",".join(map(str, views))] = {"split": split, "note_f1": metrics.note_f1}
    save_checkpoint(checkpoint, loaded)
    return CalibrationReport(before, decoder, metrics, loaded.window, views, split, len(segments))


def _segments(data: Path, split: str, limit: int, rate: int) -> list:
    return [seg for name in split.split(",") for seg in islice(iter_segments(data, name, rate), limit)]
