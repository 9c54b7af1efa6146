"""Note lists as text: JSON (notes, pedal and provenance), TSV (one note a line) and a readable listing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..notes import Note, PedalSpan

if TYPE_CHECKING:
    from notestream.score.key import KeyEstimate

CHORD_SECONDS = 0.03  # notes struck within this of a group's first onset are listed together


def transcription_record(
    notes: list[Note], pedals: list[PedalSpan], duration: float, metadata: dict | None = None, source: str | None = None,
    key: KeyEstimate | None = None,
) -> dict:
    """Everything a JSON reader needs: the key, the notes (named in it), pedal spans, duration and model
    provenance. `key`: the sheet's key when already known (default: `sheet_key(notes)`)."""
    key = key or _sheet_key(notes)
    return {
        "source": source,
        "duration": round(duration, 4),
        "key": key_record(key),
        "metadata": metadata or {},
        "notes": [
            {"onset": round(n.onset, 4), "offset": round(n.offset, 4), "pitch": n.pitch,
             "name": name, "velocity": n.velocity}
            for n, name in zip(notes, spelled_names(notes, key), strict=True)
        ],
        "pedals": [{"onset": round(p.onset, 4), "offset": round(p.offset, 4)} for p in pedals],
    }


def write_json(record: dict, path: str | Path) -> None:
    """The record as JSON with one note (or pedal span) per line: readable, and diffs stay small."""
    fields = []
    for key, value in record.items():
        if isinstance(value, list):
            items = ",\n".join(f"  {json.dumps(item)}" for item in value)
            fields.append(f' "{key}": [\n{items}\n ]' if value else f' "{key}": []')
        else:
            fields.append(f' "{key}": {json.dumps(value)}')
    Path(path).write_text("{\n" + ",\n".join(fields) + "\n}\n", encoding="utf-8")


def write_tsv(notes: list[Note], path: str | Path) -> None:
    """`onset offset pitch velocity` per line, seconds to 4 decimals, after a header line."""
    lines = ["onset\toffset\tpitch\tvelocity"]
    lines += [f"{n.onset:.4f}\t{n.offset:.4f}\t{n.pitch}\t{n.velocity}" for n in sorted(notes)]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def format_clock(seconds: float) -> str:
    """`MM:SS.cc`, or `H:MM:SS.cc` from an hour on: 5.6 -> '00:05.60'."""
    centis = int(round(seconds * 100))
    hours, centis = divmod(centis, 360000)
    minutes, centis = divmod(centis, 6000)
    clock = f"{minutes:02d}:{centis // 100:02d}.{centis % 100:02d}"
    return f"{hours}:{clock}" if hours else clock


def chord_groups(notes: list[Note], window: float = CHORD_SECONDS) -> list[tuple[float, list[Note]]]:
    """Notes grouped by onset: a group holds the notes struck within `window` of its first note."""
    groups: list[tuple[float, list[Note]]] = []
    for n in sorted(notes):
        if groups and n.onset - groups[-1][0] <= window:
            groups[-1][1].append(n)
        else:
            groups.append((n.onset, [n]))
    return groups


def _sheet_key(notes: list[Note]) -> KeyEstimate:
    from notestream.score import sheet_key

    return sheet_key(notes)


def key_record(key: KeyEstimate) -> dict:
    """A key as JSON: {'fifths': -3, 'mode': 'major', 'name': 'Eb major'} (fifths: sharps > 0, flats < 0)."""
    return {"fifths": key.fifths, "mode": key.mode, "name": f"{key.tonic_name} {key.mode}"}


def spelled_names(notes: list[Note], key: KeyEstimate | None = None) -> list[str]:
    """Each note's name spelled in the key the sheet of these notes is written in (Eb4, not D#4, in E-flat
    major), so every note name we print agrees with the sheet. `key`: that key when already known."""
    from notestream.score.key import note_name_in_key

    key = key or _sheet_key(notes)
    return [note_name_in_key(n.pitch, key) for n in notes]


def listing_lines(notes: list[Note], key: KeyEstimate | None = None) -> list[str]:
    """One line per chord, low to high, spelled in the sheet's key: `00:05.60  Eb4 G4 Bb4`."""
    ordered = sorted(notes, key=lambda n: (n.onset, n.pitch))
    names = dict(zip(map(id, ordered), spelled_names(ordered, key), strict=True))
    return [
        f"{format_clock(onset)}  " + " ".join(names[id(n)] for n in sorted(group, key=lambda n: n.pitch))
        for onset, group in chord_groups(ordered)
    ]


def write_listing(notes: list[Note], path: str | Path, title: str | None = None, key: KeyEstimate | None = None) -> None:
    """The readable listing, under a `#` header line naming the source, counting the notes and naming the key."""
    key = key or _sheet_key(notes)
    header = f"# {title + ': ' if title else ''}{len(notes)} notes, {key.tonic_name} {key.mode}"
    Path(path).write_text("\n".join([header, *listing_lines(notes, key)]) + "\n", encoding="utf-8")
