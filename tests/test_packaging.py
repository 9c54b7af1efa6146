"""What `pip install .` puts into site-packages: one package, `notestream`, with its model and web app."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def copy_of_the_checkout(target: Path) -> Path:
    """The files git tracks (as a fresh clone has them), so the build leaves nothing in the checkout."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


@pytest.mark.slow
def test_the_wheel_installs_one_top_level_package_with_its_data(tmp_path):
    source = copy_of_the_checkout(tmp_path / "source")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(source)], check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("notestream-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top_level == {"notestream"}
    for expected in ("notestream/model/checkpoints/notestream.pt", "notestream/web/index.html",
                     "notestream/web/js/main.js", "notestream/server/app.py", "notestream/client/client.py",
                     "notestream/score/engrave.py", "notestream/score/weights/rhythm.pt",
                     "notestream/model/splits/benchmark.txt"):
        assert expected in names
    assert not any(name.startswith(("notestream/benchmarks", "tests/")) for name in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "notestream = notestream.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
