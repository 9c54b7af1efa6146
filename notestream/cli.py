"""The `notestream` command: a thin shell over the library, one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__

# Each module defines `register(subparsers)`, which adds its parser and sets `func` (args -> exit code).
COMMAND_MODULES = (
    "notestream.commands.transcribe",
    "notestream.commands.serve",
    "notestream.commands.stream",
    "notestream.commands.data",
    "notestream.commands.train",
    "notestream.commands.eval",
    "notestream.commands.bench",
)


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notestream", description="Live piano transcription: audio in, notes out.")
    parser.add_argument("--version", action="version", version=f"notestream {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command not built yet: absent, not a stub
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, FileNotFoundError) as exc:
        print(f"notestream {args.command}: error: {exc}", file=sys.stderr)
        return 2
