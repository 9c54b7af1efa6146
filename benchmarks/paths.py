"""How reports name data folders: portable, never this machine's absolute paths."""

from __future__ import annotations

from pathlib import Path

from notestream.model.data.corpus import data_dir


def portable_path(path: str | Path) -> str:
    """`$NOTESTREAM_DATA/...` for a folder under the data root, a path relative to the working directory for one
    under it, else the folder's last two parts: reports are committed and read on other machines."""
    path = Path(path).resolve()
    for root, shown in ((data_dir().resolve(), "$NOTESTREAM_DATA"), (Path.cwd().resolve(), ".")):
        if path.is_relative_to(root):
            return f"{shown}/{path.relative_to(root)}"
    return "/".join(path.parts[-2:])
