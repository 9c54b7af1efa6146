"""A transcription written out: MIDI, JSON, TSV, a readable listing, MusicXML, SVG and PDF sheet music, and a
re-synthesised WAV. Every file of one export appears together, complete, or not at all (`StagedFiles`).

    export_transcription(transcription, Path("out/piece"), ["mid", "json", "txt"])
    -> [out/piece.mid, out/piece.json, out/piece.txt]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from notestream.model.transcriber import Transcription

from ..midi import write_midi
from .resynthesis import write_resynthesis
from .sheet import existing_svg_pages, stage_sheet_music, svg_page_path
from .staging import StagedFiles
from .text import transcription_record, write_json, write_listing, write_tsv

if TYPE_CHECKING:
    from notestream.score.meter import RhythmHint

EXPORT_FORMATS = ("mid", "json", "tsv", "txt", "musicxml", "svg", "pdf", "wav")
SHEET_FORMATS = {"musicxml", "svg", "pdf"}
# The file each format writes, after the output stem ("svg" writes <stem>-1.svg, <stem>-2.svg, ...).
SUFFIXES = {"mid": ".mid", "json": ".json", "tsv": ".tsv", "txt": ".txt", "musicxml": ".musicxml", "pdf": ".pdf",
            "wav": ".synth.wav"}


def parse_formats(text: str) -> list[str]:
    """'mid,json' -> ['mid', 'json']; 'all' -> every format; unknown names are an error naming the known ones."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if names == ["all"]:
        return list(EXPORT_FORMATS)
    unknown = [name for name in names if name not in EXPORT_FORMATS]
    if unknown or not names:
        raise ValueError(f"unknown output format(s) {', '.join(unknown) or '(none given)'}; "
                         f"choose from {', '.join(EXPORT_FORMATS)} or 'all'")
    return list(dict.fromkeys(names))


def output_paths(stem: Path, formats: Iterable[str]) -> list[Path]:
    """The files an export to `stem` writes; for SVG, its first page (the page count is known only later)."""
    return [svg_page_path(stem, 1) if f == "svg" else stem.with_name(stem.name + SUFFIXES[f]) for f in formats]


def existing_outputs(stem: Path, formats: Iterable[str]) -> list[Path]:
    """Files an export to `stem` would replace."""
    formats = list(formats)
    found = [p for p in output_paths(stem, formats) if p.exists() and not p.name.endswith(".svg")]
    return found + (existing_svg_pages(stem) if "svg" in formats else [])


def export_transcription(
    transcription: Transcription, stem: str | Path, formats: Iterable[str], source: str | None = None,
    extra_metadata: dict | None = None, hint: RhythmHint | None = None,
) -> list[Path]:
    """Write the transcription in each format next to `stem`; returns the written paths. `hint`: the tempo
    and/or time signature the user gives the sheet music.

    Nothing is renamed into place until every format is written, so an error or Ctrl-C part-way leaves
    the previous files (if any) as they were and no partial ones.
    """
    stem, formats = Path(stem), list(formats)
    t = transcription
    notation, key = _sheet_notation_and_key(t, formats, hint)
    with StagedFiles() as staged:
        for fmt in formats:
            if fmt in SHEET_FORMATS:
                continue
            path = staged.path(stem.with_name(stem.name + SUFFIXES[fmt]))
            if fmt == "mid":
                write_midi(t.performance, path)
            elif fmt == "json":
                record = transcription_record(t.notes, t.pedals, t.duration, {**t.metadata, **(extra_metadata or {})}, source, key)
                write_json(record, path)
            elif fmt == "tsv":
                write_tsv(t.notes, path)
            elif fmt == "txt":
                write_listing(t.notes, path, source, key)
            elif fmt == "wav":
                write_resynthesis(t.performance, path, t.duration)
        if SHEET_FORMATS & set(formats):
            stage_sheet_music(t.notes, t.pedals, stem, staged, "musicxml" in formats, "svg" in formats,
                              title=Path(source).stem if source else None, pdf="pdf" in formats, notation=notation)
        written = staged.final_paths
    return written


def _sheet_notation_and_key(t: Transcription, formats: list[str], hint: RhythmHint | None = None) -> tuple:
    """The sheet's notation (when a sheet format is asked for) and its key (when note names are written):
    analysed once, so the note names agree with the sheet at no second cost."""
    if SHEET_FORMATS & set(formats):
        from notestream.score import notate

        notation = notate(t.notes, t.pedals, hint=hint)
        return notation, notation.key
    if {"json", "txt"} & set(formats):
        from notestream.score import sheet_key

        return None, sheet_key(t.notes)
    return None, None
