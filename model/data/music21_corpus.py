"""Extra training music from the corpus inside the music21 wheel: public-domain keyboard works, piano
parts of songs and chamber pieces, and Bach's four-part chorales, humanised and written as MIDI.

Only the train split gets this material. A work that may be a piece of the ASAP validation or
benchmark works (same composer and a shared catalogue number or title word) is left out, so
evaluation never hears a piece the model trained on.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from notestream.midi import read_midi, write_midi
from .humanize import Score, ScoreNote, WrittenBar, humanize

# Which parts are played: the piano staves, the four voices, or every part (string quartets, trio sonatas).
KEYBOARD, SATB, ENSEMBLE = "keyboard", "satb", "ensemble"


ID_PREFIX = "music21__"  # every segment rendered from the music21 corpus has an id starting with this


@dataclass(frozen=True)
class Music21Work:
    """A piece in the music21 corpus: its corpus path, who wrote it, what it is, and what to play."""

    path: str
    composer: str
    title: str
    parts: str = KEYBOARD
    quarter_bpm: float = 80.0  # used when the file has no metronome mark

    @property
    def id(self) -> str:
        return ID_PREFIX + re.sub(r"[^A-Za-z0-9-]+", "_", self.path.rsplit(".", 1)[0])


# Composers all died before 1955 and the works were published before 1929 (public domain in the US
# and the EU); music21 distributes the encodings for free use. String quartets, vocal polyphony and
# folk-song melodies are left out: not keyboard music.
KEYBOARD_WORKS = (
    Music21Work("bach/bwv846.mxl", "Johann Sebastian Bach", "Prelude and Fugue in C major BWV 846", quarter_bpm=66),
    Music21Work("cpebach/h186.mxl", "Carl Philipp Emanuel Bach", "Keyboard work H. 186", quarter_bpm=96),
    Music21Work("mozart/k545/movement1_exposition.mxl", "Wolfgang Amadeus Mozart", "Piano Sonata in C major K. 545, Allegro (exposition)", quarter_bpm=126),
    Music21Work("joplin/maple_leaf_rag.mxl", "Scott Joplin", "Maple Leaf Rag", quarter_bpm=92),
    Music21Work("chopin/mazurka06-2.krn", "Frederic Chopin", "Mazurka in C-sharp minor Op. 6 No. 2", quarter_bpm=160),
    *(Music21Work(f"schumann_clara/polonaise_op1n{k}.mxl", "Clara Schumann", f"Polonaise Op. 1 No. {k}", quarter_bpm=100) for k in range(1, 5)),
    Music21Work("schumann_clara/opus17/movement3.xml", "Clara Schumann", "Piano Trio Op. 17, Andante (piano part)", quarter_bpm=72),
    Music21Work("schoenberg/opus19/movement2.mxl", "Arnold Schoenberg", "Sechs kleine Klavierstuecke Op. 19 No. 2", quarter_bpm=60),
    Music21Work("schoenberg/opus19/movement6.mxl", "Arnold Schoenberg", "Sechs kleine Klavierstuecke Op. 19 No. 6", quarter_bpm=48),
    Music21Work("schubert/Lindenbaum.xml", "Franz Schubert", "Der Lindenbaum D. 911 No. 5 (piano part)", quarter_bpm=84),
    Music21Work("schumann_robert/dichterliebe_no2.xml", "Robert Schumann", "Dichterliebe Op. 48 No. 2 (piano part)", quarter_bpm=66),
    Music21Work("beach/prayer_of_a_tired_child.musicxml", "Amy Beach", "Prayer of a Tired Child Op. 75 No. 4 (piano part)", quarter_bpm=72),
    Music21Work("liliuokalani/aloha_oe.mxl", "Liliuokalani", "Aloha Oe (piano part)", quarter_bpm=80),
    Music21Work("handel/rinaldo/Lascia_chio_pianga.mxl", "George Frideric Handel", "Rinaldo: Lascia ch'io pianga (piano reduction)", quarter_bpm=52),
    Music21Work("weber/concertino_clarinet.mxl", "Carl Maria von Weber", "Clarinet Concertino Op. 26 (piano reduction)", quarter_bpm=100),
    Music21Work("johnson_j_r/lift_every_voice.mxl", "J. Rosamond Johnson", "Lift Every Voice and Sing", SATB, quarter_bpm=84),
)


def corpus_root() -> Path:
    """The corpus folder inside the installed music21 package."""
    import music21

    return Path(music21.__file__).resolve().parent / "corpus"


def bach_chorales(root: Path) -> list[Music21Work]:
    """Every four-part chorale encoding (bach/bwv*.mxl/.xml except the keyboard work BWV 846)."""
    paths = sorted({p.relative_to(root).as_posix() for ext in ("mxl", "xml") for p in (root / "bach").glob(f"bwv*.{ext}")})
    return [Music21Work(p, "Johann Sebastian Bach", f"Chorale {p.split('/')[-1].rsplit('.', 1)[0].upper()}", SATB, quarter_bpm=72)
            for p in paths if not p.startswith("bach/bwv846.")]


# String quartets and a trio sonata: no keyboard sound, but written metre, key and texture for the rhythm
# network (score/rhythm_data.py), which reads notes, not audio.
ENSEMBLE_FOLDERS = {
    "beethoven": "Ludwig van Beethoven", "mozart": "Wolfgang Amadeus Mozart", "haydn": "Joseph Haydn",
    "corelli": "Arcangelo Corelli", "schumann_robert/opus41no1": "Robert Schumann",
}
ENDLESS_REPEATS = {"beethoven/opus18no4.mxl"}  # music21's expandRepeats does not finish on it


def ensemble_works(root: Path) -> list[Music21Work]:
    """Every movement file under ENSEMBLE_FOLDERS (a Humdrum copy of a MusicXML file counts once), folders of
    keyboard works left out."""
    keyboard = {w.path.rsplit("/", 1)[0] for w in KEYBOARD_WORKS if w.path.count("/") > 1}  # e.g. mozart/k545
    works = []
    for folder, composer in ENSEMBLE_FOLDERS.items():
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.suffix not in (".mxl", ".xml", ".krn", ".musicxml") or (path.suffix == ".krn" and path.with_suffix(".mxl").exists()):
                continue
            if relative.rsplit("/", 1)[0] in keyboard or relative in ENDLESS_REPEATS:
                continue
            works.append(Music21Work(relative, composer, f"Ensemble work {relative.rsplit('.', 1)[0]}", ENSEMBLE))
    return works


def rhythm_works(evaluation_folders: list[str], root: Path | None = None) -> list[Music21Work]:
    """What the rhythm network may learn metre from besides ASAP: the keyboard works, every third chorale
    (so that 4/4 hymns do not outnumber the rest) and the ensemble works; evaluation twins left out."""
    root = root or corpus_root()
    works = [w for w in KEYBOARD_WORKS if w.parts == KEYBOARD] + bach_chorales(root)[::3] + ensemble_works(root)
    return [w for w in works if evaluation_twin(w, evaluation_folders) is None]


STOP_WORDS = {"and", "the", "for", "with", "major", "minor", "sharp", "flat", "piano", "part", "reduction", "no", "op"}
CATALOGUE = re.compile(r"\b(bwv|kv|k|op|d|h|hob)[\s._]*(\d+)", re.IGNORECASE)


def catalogue_numbers(title: str) -> set[str]:
    """'Impromptu op.90 D.899' -> {'op90', 'd899'}; K and KV count as one catalogue."""
    return {f"{prefix.lower().replace('kv', 'k')}{int(number)}" for prefix, number in CATALOGUE.findall(title.replace("_", " "))}


def title_words(title: str) -> set[str]:
    """Distinctive lowercase words, plural 's' removed: 'Piano_Sonatas' -> {'sonata'}."""
    words = re.findall(r"[a-z]{3,}", CATALOGUE.sub(" ", title.replace("_", " ")).lower())
    return {w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words} - STOP_WORDS


def evaluation_twin(work: Music21Work, evaluation_folders: list[str]) -> str | None:
    """The ASAP evaluation work (folder 'Composer/Title...') this work may be, or None.

    Same composer surname and a shared catalogue number or title word counts: doubtful cases are dropped.
    """
    surname = work.composer.split()[-1].lower()
    for folder in evaluation_folders:
        composer, _, title = folder.partition("/")
        if composer.lower() != surname:
            continue
        if catalogue_numbers(title) & catalogue_numbers(work.title + " " + work.path) or title_words(title) & title_words(work.title):
            return folder
    return None


def training_works(evaluation_folders: list[str], root: Path | None = None) -> list[Music21Work]:
    """The keyboard works and chorales that may train: every evaluation twin removed."""
    works = list(KEYBOARD_WORKS) + bach_chorales(root or corpus_root())
    return [w for w in works if evaluation_twin(w, evaluation_folders) is None]


def _played_parts(score, parts: str) -> list:
    """The piano staves (every part if none is named), or the soprano/alto/tenor/bass voices."""
    if parts == SATB:
        voices = [p for p in score.parts if (p.partName or "").strip().lower().startswith(("soprano", "alto", "tenor", "bass"))]
        return voices if len(voices) == 4 else []
    named = [p for p in score.parts if "piano" in f"{p.partName} {type(p.getInstrument()).__name__}".lower()]
    return named or list(score.parts)


def part_hands(parts: str, count: int) -> list[int | None]:
    """The hand that plays each of `count` played parts, top part first: soprano and alto right, tenor
    and bass left; the upper staff right; in an ensemble the top part right and the bottom one left."""
    if parts == SATB and count == 4:
        return [1, 1, 0, 0]
    if parts == ENSEMBLE and count > 2:
        return [1] + [None] * (count - 2) + [0]
    if count == 1:
        return [None]
    half = count // 2
    return [1] * half + [None] * (count % 2) + [0] * half


def _tempo(score, default: float) -> float:
    """The first metronome mark in quarter notes per minute (kept within 40-200), else `default`."""
    from music21 import tempo

    for mark in score.recurse().getElementsByClass(tempo.MetronomeMark):
        if mark.number:
            return min(200.0, max(40.0, float(mark.getQuarterBPM())))
    return default


def written_bars(part) -> tuple[WrittenBar, ...]:
    """Every bar of a part with the time and key signature in force; none if a bar has no time signature."""
    from music21 import key, meter, stream

    out, signature, fifths = [], None, None
    for m in part.getElementsByClass(stream.Measure):
        found = m.timeSignature or (None if signature else m.getContextByClass(meter.TimeSignature))
        signature = found.ratioString if found is not None else signature
        found = m.keySignature or (None if fifths is not None else m.getContextByClass(key.KeySignature))
        fifths = int(found.sharps) if found is not None else fifths
        if signature is None:
            return ()
        offset = float(m.getOffsetInHierarchy(part))
        out.append(WrittenBar(offset, float(m.duration.quarterLength), float(m.paddingLeft or 0.0), signature, fifths))
    return tuple(out)


def read_score(work: Music21Work, root: Path | None = None) -> Score:
    """The written notes of a work's played parts (each with its hand), repeats expanded where the file's
    repeats allow, with the bars' time and key signatures."""
    from music21 import articulations, converter, stream

    parsed = converter.parse(str((root or corpus_root()) / work.path))
    try:
        parsed = parsed.expandRepeats()
    except Exception:  # music21 refuses inconsistent repeat marks; play the music once through then
        pass
    parts = _played_parts(parsed, work.parts)
    notes = []
    for part, hand in zip(parts, part_hands(work.parts, len(parts))):
        for n in part.stripTies().recurse().notes:
            onset = float(n.getOffsetInHierarchy(part))
            staccato = any(isinstance(a, articulations.Staccato | articulations.Staccatissimo) for a in n.articulations)
            strength = float(n.beatStrength)
            strength = strength if math.isfinite(strength) else 0.5  # NaN where a staff lacks its time signature
            for pitch in n.pitches:
                notes.append(ScoreNote(onset, float(n.quarterLength), int(pitch.midi), strength, staccato, hand))
    bars = sorted({float(m.getOffsetInHierarchy(parts[0])) for m in parts[0].getElementsByClass(stream.Measure)}) if parts else []
    return Score(tuple(sorted(notes, key=lambda n: (n.onset, n.pitch))), tuple(bars), _tempo(parsed, work.quarter_bpm),
                 written_bars(parts[0]) if parts else ())


def performance_seed(seed: int, work: Music21Work, k: int) -> int:
    """A stable seed per (plan seed, work, performance number), the same on every machine."""
    return zlib.crc32(f"{seed}:{work.id}:{k}".encode())


def write_performances(work: Music21Work, count: int, seed: int, folder: Path, root: Path | None = None) -> list[tuple[Path, float]]:
    """`count` humanised performances of a work as MIDI files (kept if already there): (path, seconds).

    `root` is the corpus folder holding `work.path` (default: the music21 package's corpus).
    """
    paths = [folder / f"{work.id}__h{k}.mid" for k in range(count)]
    score = None
    out = []
    for k, path in enumerate(paths):
        if not path.is_file():
            score = score or read_score(work, root)
            if not score.notes:
                return []
            folder.mkdir(parents=True, exist_ok=True)
            write_midi(humanize(score, performance_seed(seed, work, k)), path.with_suffix(".tmp.mid"))
            path.with_suffix(".tmp.mid").replace(path)
        out.append((path, read_midi(path).duration))
    return out
