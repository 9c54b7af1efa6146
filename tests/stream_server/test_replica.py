"""Replica settings: a checked --replica-id that starts every session id the replica makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from notestream.cli import main
from notestream.server.replica import session_id_prefix
from notestream.server.storage import SessionStore


@pytest.mark.parametrize("name", ["R1", "r 1", "r-1", "a" * 17])
def test_a_replica_id_outside_lower_case_letters_and_digits_is_refused(name: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["serve", "--replica-id", name, "--data-dir", "/nonexistent"]) == 2
    assert "use 1 to 16 lower-case letters and digits" in capsys.readouterr().err


def test_a_replica_s_session_ids_start_with_its_id(tmp_path: Path) -> None:
    replica, plain = SessionStore(tmp_path / "r", session_id_prefix("r7")), SessionStore(tmp_path / "p", session_id_prefix(None))
    assert replica.create("stream", 16000, 1)[0].id.startswith("r7-s_")
    assert plain.create("upload")[0].id.startswith("s_")
