"""Runner for our model (see runner_protocol.py): the shipped checkpoint, or `--option checkpoint=PATH`;
`--option precision=float32` (or bfloat16) overrides the automatic compute type; `--option latency=low`
transcribes at one of the checkpoint's named latencies (its window, views and decoder)."""

from __future__ import annotations

from pathlib import Path

from runner_protocol import options, run_runner


def load(args):
    import torch

    from notestream.model.checkpoint import with_latency
    from notestream.model.config import WindowConfig
    from notestream.model.transcriber import Transcriber

    torch.set_num_threads(args.threads)
    opts = options(args)
    window = WindowConfig(int(opts["hop"]), int(opts["lookahead"])) if "lookahead" in opts else None
    transcriber = Transcriber.from_checkpoint(opts.get("checkpoint"), device=opts.get("device", "cpu"), window=window,
                                              precision=opts.get("precision", "auto"))
    return Transcriber(with_latency(transcriber.loaded, opts["latency"])) if "latency" in opts else transcriber


def transcribe(transcriber, wav: Path, midi: Path) -> None:
    import torch

    from notestream.midi import write_midi

    with torch.inference_mode():
        result = transcriber.transcribe(wav)
    write_midi(result.performance, midi)


def describe(transcriber) -> str:
    """Package version, checkpoint training steps and the window, so results name the weights they measured."""
    from notestream import __version__

    meta = transcriber.describe()
    window, views = meta["window"], meta["pitch_views"]
    heard = "" if views == [0] else f", views {','.join(f'{v:+d}' for v in views)}"
    heard += ", bfloat16" if meta["compute_precision"] == "bfloat16" else ""
    return f"{__version__}, {meta['model_steps'] or 0} steps, hop {window['hop']} look-ahead {window['lookahead']}{heard}"


if __name__ == "__main__":
    run_runner("notestream", describe, load, transcribe)
