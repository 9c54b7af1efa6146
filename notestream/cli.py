"""The `notestream` command: a thin shell over the library, one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from importlib.metadata import entry_points

from . import __version__

# Each module defines `register(subparsers)`, which adds its parser and sets `func` (args -> exit code).
COMMAND_MODULES = (
    "notestream.commands.transcribe",
    "notestream.commands.serve",
    "notestream.commands.stream",
    "notestream.commands.data",
    "notestream.commands.train",
    "notestream.commands.calibrate",
    "notestream.commands.average",
    "notestream.commands.eval",
)
# Other distributions add commands through this entry-point group: `register(subparsers)` each
# (the benchmarks of a source checkout add `bench`, benchmarks/pyproject.toml).
COMMAND_ENTRY_POINTS = "notestream.commands"


class UserError(Exception):
    """An error the user can fix; printed as one line, exit code 2."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `command` given and known, only that subcommand: each command module
    imports what its command needs (the server, the trainer's data pipeline), and `transcribe` should not wait
    for the imports of all the others (1.6 s of a 5-minute file's 8 s)."""
    parser = argparse.ArgumentParser(prog="notestream", description="Live piano transcription: audio in, notes out.")
    parser.add_argument("--version", action="version", version=f"notestream {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [name for name in COMMAND_MODULES if name.rsplit(".", 1)[-1] == command]
    plugins = [e for e in entry_points(group=COMMAND_ENTRY_POINTS) if e.name == command]
    if not modules and not plugins:
        modules, plugins = list(COMMAND_MODULES), list(entry_points(group=COMMAND_ENTRY_POINTS))
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] not in OUR_PACKAGES:
                _register_unavailable(subparsers, name.rsplit(".", 1)[-1], exc.name.split(".")[0])
                continue
            raise
        module.register(subparsers)
    for entry_point in plugins:
        entry_point.load()(subparsers)
    return parser


def _command_named(argv: list[str]) -> str | None:
    """The subcommand's name: the first argument that is not an option."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


OUR_PACKAGES = ("notestream", "notestream_bench")


def _register_unavailable(subparsers, command: str, package: str) -> None:
    """A command whose third-party dependency is missing (a bare training machine without the client's
    `websockets`, say) answers with what to install, and the other commands still work."""
    p = subparsers.add_parser(command, help=f"(unavailable here: needs the package {package!r})", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)

    def unavailable(_args: argparse.Namespace) -> int:
        raise UserError(f"this command needs the Python package {package!r}, which is not installed here "
                        "(pip install -e . installs every dependency)")
    p.set_defaults(func=unavailable)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(_command_named(sys.argv[1:] if argv is None else argv))
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
