"""The piano SoundFonts we render with, which one is held out for the benchmark split, and sampled pianos."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PianoPreset:
    """One piano sound: a SoundFont file (from Debian) and a bank/program in it, or a sampled-piano folder."""

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


def sampled_piano_preset(folder: str | Path) -> PianoPreset:
    """The preset of a sampled-piano folder; its name is the folder's (e.g. `salamander`)."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such sampled-piano folder (see model/README.md, sampled pianos)")
    return PianoPreset(folder.name, str(folder), 0, 0)
