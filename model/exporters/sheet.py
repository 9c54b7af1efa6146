"""Sheet music through the `score` package: one MusicXML file, one SVG per engraved page, a PDF of the pages."""

from __future__ import annotations

from pathlib import Path

from ..notes import Note, PedalSpan
from .staging import StagedFiles


def prepare_verovio_thread() -> None:
    """Verovio keeps its font path per thread and sets it only in the importing one; set it for this one."""
    from importlib.resources import files

    import verovio

    verovio.setDefaultResourcePath(str(files("verovio") / "data"))


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
    musicxml: bool = True, svg: bool = True, title: str | None = None, pdf: bool = False,
) -> None:
    """Write `<stem>.musicxml`, `<stem>-<page>.svg` and/or `<stem>.pdf` through `staged`.

    Surplus SVG pages of an earlier, longer export go on commit.
    """
    from score import render_svg_pages, score_musicxml, svg_pages_to_pdf

    text = score_musicxml(notes, pedals, title)
    if musicxml:
        staged.path(stem.with_name(stem.name + ".musicxml")).write_text(text, encoding="utf-8")
    if not (svg or pdf):
        return
    prepare_verovio_thread()
    pages = render_svg_pages(text)
    if svg:
        for page, drawing in enumerate(pages, start=1):
            staged.path(svg_page_path(stem, page)).write_text(drawing, encoding="utf-8")
        for old in existing_svg_pages(stem, after=len(pages)):
            staged.remove_on_commit(old)
    if pdf:
        staged.path(stem.with_name(stem.name + ".pdf")).write_bytes(svg_pages_to_pdf(pages, title))
