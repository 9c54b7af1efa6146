"""`notestream average`: the mean of checkpoints' weights (one run and its continuations: SWA, model
soups) as OUT/averaged.pt, to calibrate with `notestream calibrate`."""

from __future__ import annotations

from pathlib import Path

from notestream.cli import UserError
from notestream.model.averaging import average_checkpoints


def register(subparsers) -> None:
    p = subparsers.add_parser("average", help="average checkpoints' weights", description=__doc__)
    p.add_argument("checkpoints", type=Path, nargs="+", metavar="CHECKPOINT", help="checkpoints of the same network")
    p.add_argument("--out", type=Path, required=True, help="folder for averaged.pt")
    p.set_defaults(func=lambda args: average(args.checkpoints, args.out))


def average(checkpoints: list[Path], out: Path) -> int:
    try:
        path = average_checkpoints(checkpoints, out / "averaged.pt")
    except ValueError as exc:
        raise UserError(f"cannot average {', '.join(map(str, checkpoints))}: {exc}") from exc
    print(f"{path}: the mean of {len(checkpoints)} checkpoints' weights (decoder of the first; calibrate it)")
    return 0
