"""Outputs written under temporary names and renamed into place only when all of them are complete.

An interrupted or failed export (Ctrl-C included) leaves no half-written file behind: the temporary
files are removed and whatever was there before is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

PART_SUFFIX = ".part"


class StagedFiles:
    """Hands out temporary paths beside their final names; `commit` renames them all, `discard` removes them.

    As a context manager it commits when the block ends normally and discards on any exception,
    KeyboardInterrupt included.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._stale: list[Path] = []

    def path(self, final: str | Path) -> Path:
        """A temporary path to write `final` to (a hidden sibling, so folder scans pass over it)."""
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{final.name}.{os.getpid()}{PART_SUFFIX}")
        self._staged.append((temporary, final))
        return temporary

    def remove_on_commit(self, path: Path) -> None:
        """An old output that the new ones replace without overwriting it (e.g. a score's surplus page)."""
        self._stale.append(path)

    @property
    def final_paths(self) -> list[Path]:
        return [final for _, final in self._staged]

    def commit(self) -> list[Path]:
        """Move every staged file into place; returns the final paths."""
        for temporary, final in self._staged:
            if not temporary.is_file():
                raise FileNotFoundError(f"{final}: its writer produced no file")
        for temporary, final in self._staged:
            os.replace(temporary, final)
        for path in self._stale:
            path.unlink(missing_ok=True)
        done = self.final_paths
        self._staged, self._stale = [], []
        return done

    def discard(self) -> None:
        """Remove every temporary file; final paths are left as they were."""
        for temporary, _ in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged, self._stale = [], []

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()
