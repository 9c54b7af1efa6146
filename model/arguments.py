"""Command-line arguments for how a checkpoint runs (its pitch-shifted views, its compute type), shared by
every program that loads a model: the CLI's commands and the benchmarks."""

from __future__ import annotations

import argparse

from .config import PRECISIONS, ViewConfig


def view_shifts(text: str) -> tuple[int, ...]:
    """An argparse type for `--views`: comma-separated semitone shifts, e.g. -1,1 (write it as --views=-1,1)."""
    try:
        return ViewConfig(tuple(int(s) for s in text.split(",") if s.strip())).semitones
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from exc


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """`--precision` for the commands that load a model (model.checkpoint.resolve_precision)."""
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="compute type of the CNN and the GRU input projection; auto: bfloat16 on CPUs "
                             "with bf16 units (AMX/AVX512-BF16), else float32")
