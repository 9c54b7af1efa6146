"""A Notation laid out as a music21 piano score: two staves, bars, ties, rests, accidentals, pedal marks.

Everything music21's makeNotation would do is done here directly, in one linear pass, because the
generic version is many times slower on a five-minute piece and the export must stay within seconds.
"""

from __future__ import annotations

from fractions import Fraction

from music21 import bar, chord, clef, expressions, key, layout, metadata, meter, note, pitch, stream, tie

from .key import KeyEstimate, spell_pitch
from .notation import NotatedChord, Notation

EXPRESSIBLE = sorted(
    {Fraction(2) ** -k * m for k in range(-2, 5) for m in (1, Fraction(3, 2))}
    | {Fraction(1, 3), Fraction(2, 3), Fraction(1, 6)},
    reverse=True,
)
PEDAL_DOWN_TEXT, PEDAL_UP_TEXT = "Ped.", "*"
TREBLE_FROM = 60  # a staff whose median pitch is at least this gets a treble clef


def split_at_grid(
    start: Fraction, end: Fraction, beat: Fraction, bar_length: Fraction
) -> list[tuple[Fraction, Fraction]]:
    """(start, length) pieces of [start, end) that each fit one written note value: cut at bar lines, at
    beat boundaries when off the beat, and into expressible values (tied together by the caller)."""
    pieces = []
    while start < end:
        next_bar = (start // bar_length + 1) * bar_length
        next_beat = (start // beat + 1) * beat
        stop = min(end, next_bar)
        if start % beat or (stop % beat and stop - start > beat):
            stop = min(stop, next_beat) if start % beat else stop - stop % beat
        span = stop - start
        if span in EXPRESSIBLE:
            length = span
        elif start % beat == 0 and span >= beat:
            length = next(v for v in EXPRESSIBLE if v <= span and v % beat == 0)
        else:
            length = next(v for v in EXPRESSIBLE if v <= span)
        pieces.append((start, length))
        start += length
    return pieces


def _spelled(midi: int, key_estimate: KeyEstimate) -> pitch.Pitch:
    step, alter, octave = spell_pitch(midi, key_estimate)
    p = pitch.Pitch(step=step, octave=octave)
    if alter:
        p.accidental = pitch.Accidental(alter)
    return p


def _staff_events(notation: Notation, hand: int) -> list[tuple[Fraction, Fraction, NotatedChord | None]]:
    """Chords of one hand plus rests filling every gap, up to the end of the last bar."""
    events, cursor = [], Fraction(0)
    for c in (c for c in notation.chords if c.hand == hand):
        if c.start > cursor:
            events.append((cursor, c.start - cursor, None))
        events.append((c.start, c.length, c))
        cursor = c.start + c.length
    end = max((c.start + c.length for c in notation.chords), default=notation.bar_length)
    last_bar_end = -(-end // notation.bar_length) * notation.bar_length
    if last_bar_end > cursor:
        events.append((cursor, last_bar_end - cursor, None))
    return events


def _make_element(c: NotatedChord | None, length: Fraction, key_estimate: KeyEstimate) -> note.GeneralNote:
    if c is None:
        return note.Rest(quarterLength=length)
    pitches = [_spelled(p, key_estimate) for p in c.pitches]
    if len(pitches) == 1:
        return note.Note(pitches[0], quarterLength=length)
    return chord.Chord(pitches, quarterLength=length)


def _tie(element: note.GeneralNote, kind: str) -> None:
    if isinstance(element, note.Rest):
        return
    element.tie = tie.Tie(kind)
    if isinstance(element, chord.Chord):
        for n in element.notes:
            n.tie = tie.Tie(kind)


def _build_staff(notation: Notation, hand: int, staff_clef: clef.Clef) -> stream.PartStaff:
    staff = stream.PartStaff(id=f"staff{2 - hand}")
    bar_length, beat = notation.bar_length, Fraction(notation.meter.beat_quarter_length)
    measures: dict[int, stream.Measure] = {}
    for start, length, c in _staff_events(notation, hand):
        pieces = split_at_grid(start, start + length, beat, bar_length)
        for i, (piece_start, piece_length) in enumerate(pieces):
            element = _make_element(c, piece_length, notation.key)
            if len(pieces) > 1:
                _tie(element, "start" if i == 0 else "stop" if i == len(pieces) - 1 else "continue")
            number = int(piece_start // bar_length)
            if number not in measures:
                measures[number] = stream.Measure(number=number + 1)
            measures[number].coreInsert(piece_start - number * bar_length, element)
    for number in sorted(measures):
        m = measures[number]
        m.coreElementsChanged()
        staff.coreInsert(number * bar_length, m)
    staff.coreElementsChanged()
    first = staff.getElementsByClass(stream.Measure).first()
    first.insert(0, staff_clef)
    first.insert(0, key.KeySignature(notation.key.fifths))
    first.insert(0, meter.TimeSignature(notation.meter.time_signature))
    staff.getElementsByClass(stream.Measure).last().rightBarline = bar.Barline("final")
    return staff


def _mark_accidentals(staff: stream.PartStaff, fifths: int) -> None:
    """Show an accidental where it differs from the key signature or from earlier in the same bar."""
    signature = {p.step: p.accidental.alter for p in key.KeySignature(fifths).alteredPitches}
    for m in staff.getElementsByClass(stream.Measure):
        current: dict[tuple[str, int], float] = {}
        for element in m.notes:
            continued = element.tie is not None and element.tie.type != "start"
            for p in element.pitches:
                alter = p.accidental.alter if p.accidental else 0.0
                expected = current.get((p.step, p.octave), signature.get(p.step, 0.0))
                if alter != expected and not continued:
                    p.accidental = pitch.Accidental(alter)
                    p.accidental.displayStatus = True
                elif p.accidental is not None:
                    p.accidental.displayStatus = False
                current[(p.step, p.octave)] = alter


BEAM_LEVELS = {"eighth": 1, "16th": 2, "32nd": 3, "64th": 4}


def _beam_group(group: list[note.GeneralNote]) -> None:
    """Beams over consecutive flagged notes of one beat, with partial beams where levels differ."""
    levels = [BEAM_LEVELS[e.duration.type] for e in group]
    for i, element in enumerate(group):
        for level in range(1, levels[i] + 1):
            before = i > 0 and levels[i - 1] >= level
            after = i + 1 < len(group) and levels[i + 1] >= level
            if before and after:
                element.beams.append("continue")
            elif after:
                element.beams.append("start")
            elif before:
                element.beams.append("stop")
            else:
                element.beams.append("partial", "right" if i == 0 else "left")


def _group_by_beat(m: stream.Measure, beat: Fraction) -> list[list[note.GeneralNote]]:
    groups: dict[int, list[note.GeneralNote]] = {}
    for element in m.notesAndRests:
        groups.setdefault(int(Fraction(element.offset) // beat), []).append(element)
    return list(groups.values())


def _finish_measures(staff: stream.PartStaff, beat: Fraction) -> None:
    """Beam flagged notes within each beat and bracket the tuplets of each beat (makeNotation is too slow)."""
    for m in staff.getElementsByClass(stream.Measure):
        for group in _group_by_beat(m, beat):
            run: list[note.GeneralNote] = []
            for element in [*group, None]:
                if element is not None and not element.isRest and element.duration.type in BEAM_LEVELS:
                    run.append(element)
                    continue
                if len(run) > 1:
                    _beam_group(run)
                run = []
            tuplets = [e.duration.tuplets[0] for e in group if e.duration.tuplets]
            if len(tuplets) > 1:
                tuplets[0].type, tuplets[-1].type = "start", "stop"
            elif tuplets:
                tuplets[0].type = "startStop"


def _staff_clef(notation: Notation, hand: int) -> clef.Clef:
    pitches = sorted(p for c in notation.chords if c.hand == hand for p in c.pitches)
    if not pitches:
        return clef.TrebleClef() if hand == 1 else clef.BassClef()
    return clef.TrebleClef() if pitches[len(pitches) // 2] >= TREBLE_FROM else clef.BassClef()


def _add_pedal_marks(notation: Notation, staff: stream.PartStaff) -> None:
    """'Ped.' where the sustain pedal goes down and '*' where it comes up, under the lower staff.

    They are text directions rather than music21 PedalMark spanners: the exporter looks every note up in
    every spanner, which on a pedalled five-minute piece costs seconds. `musicxml_text` turns them into
    MusicXML <pedal> marks.
    """
    measures = {m.number: m for m in staff.getElementsByClass(stream.Measure)}
    last = max(measures)
    for start, end in notation.pedals:
        for position, text in ((start, PEDAL_DOWN_TEXT), (end, PEDAL_UP_TEXT)):
            number = min(int(position // notation.bar_length) + 1, last)
            offset = min(position - (number - 1) * notation.bar_length, notation.bar_length)
            mark = expressions.TextExpression(text)
            mark.placement = "below"
            measures[number].insert(offset, mark)


def notation_to_score(notation: Notation, title: str | None = None) -> stream.Score:
    """A grand-staff music21 Score (right hand above, left hand below) ready for MusicXML export."""
    score = stream.Score()
    score.metadata = metadata.Metadata(title=title or "", movementName=title or "")
    staves = []
    for hand in (1, 0):
        staff = _build_staff(notation, hand, _staff_clef(notation, hand))
        _mark_accidentals(staff, notation.key.fifths)
        _finish_measures(staff, Fraction(notation.meter.beat_quarter_length))
        staves.append(staff)
    _add_pedal_marks(notation, staves[1])
    for staff in staves:
        score.insert(0, staff)
    score.insert(0, layout.StaffGroup(staves, symbol="brace", barTogether=True))
    return score
