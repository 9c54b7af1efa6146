"""The command line as a whole: every command registers, and one whose dependency is missing says so."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from notestream import cli


def test_every_command_is_registered_and_the_benchmarks_add_bench() -> None:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) == {name.rsplit(".", 1)[-1] for name in cli.COMMAND_MODULES} | {"bench"}


def _stream_command_lacks(module: str, monkeypatch) -> None:
    """Importing the `stream` command fails as if `module` were not installed."""
    real_import = importlib.import_module

    def failing_import(name: str, *args, **kwargs):
        if name == "notestream.commands.stream":
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(cli.importlib, "import_module", failing_import)


def test_a_command_missing_a_third_party_package_names_it_and_the_others_still_run(monkeypatch, capsys) -> None:
    _stream_command_lacks("websockets", monkeypatch)
    assert cli.main(["stream", "song.wav", "--fast"]) == 2
    assert "needs the Python package 'websockets'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    assert "--focal-gamma" in capsys.readouterr().out


def test_a_missing_module_of_our_own_is_a_bug_and_not_hidden(monkeypatch) -> None:
    _stream_command_lacks("notestream.client.gone", monkeypatch)
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()


def test_a_command_imports_only_what_it_needs_not_every_other_command() -> None:
    probe = ("import sys; from notestream.cli import build_parser; parser = build_parser('transcribe'); "
             "print(sorted(m for m in ('notestream.commands.serve', 'notestream.commands.data', 'notestream_bench.command',"
             " 'notestream.model.data.corpus', 'aiohttp') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip().splitlines()[-1] == "[]"  # the last line: a library may print a notice of its own first


def test_an_unknown_command_or_none_still_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["transcrib", "x.wav"])
    assert "invalid choice: 'transcrib'" in capsys.readouterr().err and cli._command_named(["-v", "eval", "a"]) == "eval"
