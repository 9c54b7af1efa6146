"""The piano SoundFonts we render with, which one is held out for the benchmark split, and sampled pianos."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PianoPreset:
    """One piano sound: a SoundFont file (from Debian) and a bank/program in it, a sampled-piano folder,
    or a GUS patch file (`.pat`, rendered by TiMidity++)."""

    name: str
    soundfont: str
    bank: int
    program: int

    @property
    def path(self) -> Path:
        return Path(self.soundfont)

    @property
    def is_sampled(self) -> bool:
        """A folder of recorded notes (model/data/sampled_piano.py) rather than a SoundFont file."""
        return self.path.is_dir()

    @property
    def is_patch(self) -> bool:
        """A GUS patch (model/data/patch_piano.py), e.g. one of Debian's freepats pianos."""
        return self.path.suffix.lower() == ".pat"


SF2, SF3 = "/usr/share/sounds/sf2", "/usr/share/sounds/sf3"

# Debian packages: fluid-soundfont-gm, musescore-general-soundfont, csound-soundfont, timgm6mb-soundfont.
TRAIN_PRESETS = (
    PianoPreset("fluidr3-yamaha-grand", f"{SF2}/FluidR3_GM.sf2", 0, 0),
    PianoPreset("fluidr3-bright-yamaha", f"{SF2}/FluidR3_GM.sf2", 0, 1),
    PianoPreset("musescore-grand", f"{SF3}/MuseScore_General.sf3", 0, 0),
    PianoPreset("musescore-bright-grand", f"{SF3}/MuseScore_General.sf3", 0, 1),
    PianoPreset("musescore-mellow-grand", f"{SF3}/MuseScore_General.sf3", 8, 0),
    PianoPreset("csound-piano-1", f"{SF2}/sf_GMbank.sf2", 0, 0),
    PianoPreset("csound-piano-2", f"{SF2}/sf_GMbank.sf2", 0, 1),
)

# Held out entirely: renders the benchmark split only, so accuracy is measured on an unseen piano.
BENCHMARK_PRESETS = (
    PianoPreset("timgm6mb-piano-1", f"{SF2}/TimGM6mb.sf2", 0, 0),
    PianoPreset("timgm6mb-piano-2", f"{SF2}/TimGM6mb.sf2", 0, 1),
)


def missing_soundfonts() -> list[str]:
    """SoundFont files that are not installed (install the Debian packages named above)."""
    return sorted({p.soundfont for p in TRAIN_PRESETS + BENCHMARK_PRESETS if not p.path.is_file()})


def sampled_piano_preset(path: str | Path, name: str | None = None) -> PianoPreset:
    """The preset of a sampled-piano folder or a GUS patch file, named `name` or after it: the folder's name
    (e.g. `salamander`), or the patch's without its program number (`000_Acoustic_Grand_Piano.pat` ->
    `acoustic-grand-piano`)."""
    path = Path(path).resolve()
    if path.suffix.lower() == ".pat":
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such GUS patch (Debian package freepats installs some)")
        default = re.sub(r"^\d+_", "", path.stem).lower().replace("_", "-")
    elif path.is_dir():
        default = path.name
    else:
        raise FileNotFoundError(f"{path}: no such sampled-piano folder or .pat file (see model/README.md, sampled pianos)")
    return PianoPreset(name or default, str(path), 0, 0)
