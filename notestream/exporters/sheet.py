"""Sheet-music files through the `score` package: one MusicXML file, one SVG per engraved page, a PDF of
the pages; written under temporary names and moved into place together (the one sheet writer)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..notes import Note, PedalSpan
from .staging import StagedFiles

if TYPE_CHECKING:
    from notestream.score.meter import RhythmHint


def svg_page_path(stem: Path, page: int) -> Path:
    return stem.with_name(f"{stem.name}-{page}.svg")


def existing_svg_pages(stem: Path, after: int = 0) -> list[Path]:
    """The `<stem>-<n>.svg` pages already there with n > `after`, in page order."""
    pages = []
    for path in stem.parent.glob(f"{stem.name}-*.svg"):
        number = path.name[len(stem.name) + 1: -len(".svg")]
        if number.isdigit() and int(number) > after:
            pages.append((int(number), path))
    return [path for _, path in sorted(pages)]


def stage_sheet_music(
    notes: list[Note], pedals: list[PedalSpan], stem: Path, staged: StagedFiles,
    musicxml: bool = True, svg: bool = True, title: str | None = None, pdf: bool = False, notation=None,
    hint: RhythmHint | None = None,
) -> None:
    """Write `<stem>.musicxml`, `<stem>-<page>.svg` and/or `<stem>.pdf` through `staged`.

    `notation`: `notate(notes, pedals, hint=hint)` when the caller has it already (`hint`: the user's tempo
    and/or time signature). Surplus SVG pages of an earlier, longer export go on commit.
    """
    from notestream.score import notate, notation_to_musicxml, render_svg_pages, svg_pages_to_pdf

    text = notation_to_musicxml(notation or notate(notes, pedals, hint=hint), title)
    if musicxml:
        staged.path(stem.with_name(stem.name + ".musicxml")).write_text(text, encoding="utf-8")
    if not (svg or pdf):
        return
    pages = render_svg_pages(text)
    if svg:
        for page, drawing in enumerate(pages, start=1):
            staged.path(svg_page_path(stem, page)).write_text(drawing, encoding="utf-8")
        for old in existing_svg_pages(stem, after=len(pages)):
            staged.remove_on_commit(old)
    if pdf:
        staged.path(stem.with_name(stem.name + ".pdf")).write_bytes(svg_pages_to_pdf(pages))


def write_sheet_music(
    notes: list[Note], pedals: list[PedalSpan] | None, stem: Path, title: str | None = None, pdf: bool = False,
    hint: RhythmHint | None = None,
) -> dict[str, list[Path]]:
    """Write `<stem>.musicxml`, `<stem>-<page>.svg` and, with `pdf`, `<stem>.pdf`, all or none (`hint`: the
    user's tempo and/or time signature).

    Returns {'musicxml': [...], 'svg': [...], 'pdf': [...]} ('pdf' empty unless asked for).
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    with StagedFiles() as staged:
        stage_sheet_music(notes, pedals or [], stem, staged, title=title, pdf=pdf, hint=hint)
        written = staged.commit()
    return {
        "musicxml": [p for p in written if p.suffix == ".musicxml"],
        "svg": sorted((p for p in written if p.suffix == ".svg"), key=lambda p: int(p.stem.rsplit("-", 1)[1])),
        "pdf": [p for p in written if p.suffix == ".pdf"],
    }
