"""Importing notestream: what it sets up before torch loads."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "import os, notestream; print(os.environ.get('GOMP_SPINCOUNT'))"


def spin_count_after_import(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    return subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_openmp_threads_spin_briefly_unless_the_user_chose_otherwise():
    assert spin_count_after_import() == "10000"
    assert spin_count_after_import(GOMP_SPINCOUNT="500") == "500"
    assert spin_count_after_import(OMP_WAIT_POLICY="ACTIVE") == "None"
