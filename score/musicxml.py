"""A Notation written straight to MusicXML: one piano part on two staves, in one linear pass.

music21's Score building and export take seconds on a five-minute piece; writing the elements directly
takes a fraction of that. Right hand on staff 1, left hand on staff 2 after a <backup>; a pedal bracket per
press below staff 2 (brackets never collide the way rows of "Ped." and "*" do under quick pedal changes).
Accidentals show where a pitch differs from the key signature or from earlier in the bar; notes of one beat
are beamed and its tuplets bracketed. Bars follow the Notation's bar lines, with a <time> at each bar where
the metre changes; a metronome mark opens the piece.
"""

from __future__ import annotations

import math
from fractions import Fraction
from xml.sax.saxutils import escape

from .dynamics import bar_dynamics
from .key import KeyEstimate, spell_pitch
from .layout import staff_clefs, written_pieces
from .notation import BarLines, Notation

TYPES = {Fraction(4): "whole", Fraction(2): "half", Fraction(1): "quarter", Fraction(1, 2): "eighth"}
TYPES |= {Fraction(1, 4): "16th", Fraction(1, 8): "32nd", Fraction(1, 16): "64th"}
BEAM_LEVELS = {"eighth": 1, "16th": 2, "32nd": 3, "64th": 4}
ACCIDENTALS = {-2: "flat-flat", -1: "flat", 0: "natural", 1: "sharp", 2: "double-sharp"}
SIGNATURE_ORDER = "FCGDAEB"  # sharps are added in this order, flats in the reverse
VOICES = {1: 1, 2: 5}  # staff -> number of its first voice; a second voice takes the next number


def note_value(length: Fraction) -> tuple[str, int, bool]:
    """(type, dots, triplet) of a written length in quarters: 3/4 -> dotted eighth, 1/3 -> triplet eighth."""
    if length in TYPES:
        return TYPES[length], 0, False
    if length * Fraction(2, 3) in TYPES:
        return TYPES[length * Fraction(2, 3)], 1, False
    return TYPES[length * Fraction(3, 2)], 0, True


def signature_alters(fifths: int) -> dict[str, int]:
    """Step -> alteration the key signature applies, e.g. 2 -> {'F': 1, 'C': 1}."""
    steps = SIGNATURE_ORDER[:fifths] if fifths >= 0 else SIGNATURE_ORDER[::-1][:-fifths]
    return {step: 1 if fifths > 0 else -1 for step in steps}


def _beams(levels: list[int]) -> list[list[str]]:
    """MusicXML beam values per note of one run of flagged notes, per level."""
    out = []
    for i, level_count in enumerate(levels):
        values = []
        for level in range(1, level_count + 1):
            before = i > 0 and levels[i - 1] >= level
            after = i + 1 < len(levels) and levels[i + 1] >= level
            if before and after:
                values.append("continue")
            elif after or before:
                values.append("begin" if after else "end")
            else:
                values.append("forward hook" if i == 0 else "backward hook")
        out.append(values)
    return out


def _beam_and_tuplet_marks(pieces: list, beat: Fraction) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Beams of flagged notes and tuplet brackets, per index into one bar's pieces, grouped by beat."""
    beams: dict[int, list[str]] = {}
    tuplets: dict[int, list[str]] = {}
    groups: dict[Fraction, list[int]] = {}
    for i, (start, *_rest) in enumerate(pieces):
        groups.setdefault(start // beat, []).append(i)
    for members in groups.values():
        run: list[int] = []
        for i in [*members, None]:
            if i is not None and pieces[i][2] is not None and note_value(pieces[i][1])[0] in BEAM_LEVELS:
                run.append(i)
                continue
            if len(run) > 1:
                levels = [BEAM_LEVELS[note_value(pieces[j][1])[0]] for j in run]
                beams.update(zip(run, _beams(levels), strict=True))
            run = []
        triplets = [i for i in members if note_value(pieces[i][1])[2]]
        if triplets:
            tuplets.setdefault(triplets[0], []).append("start")
            tuplets.setdefault(triplets[-1], []).append("stop")
    return beams, tuplets


def _note_xml(midi: int | None, piece: tuple, staff: int, divisions: int, extra: dict) -> str:
    """One <note> element; `extra` holds voice, chord, accidental, beams, tuplets, hidden (a rest not drawn)."""
    _start, length, _chord, tie = piece
    kind, dots, triplet = note_value(length)
    parts = ['<note print-object="no">' if extra.get("hidden") else "<note>"]
    if extra.get("chord"):
        parts.append("<chord/>")
    if midi is None:
        parts.append("<rest/>")
    else:
        step, alter, octave = extra["spelled"]
        alter_xml = f"<alter>{alter}</alter>" if alter else ""
        parts.append(f"<pitch><step>{step}</step>{alter_xml}<octave>{octave}</octave></pitch>")
    parts.append(f"<duration>{int(length * divisions)}</duration>")
    ties = {"start": ["start"], "stop": ["stop"], "continue": ["stop", "start"]}.get(tie or "", [])
    parts += [f'<tie type="{t}"/>' for t in ties]
    parts.append(f"<voice>{extra.get('voice', VOICES[staff])}</voice><type>{kind}</type>" + "<dot/>" * dots)
    if extra.get("accidental") is not None:
        parts.append(f"<accidental>{ACCIDENTALS[extra['accidental']]}</accidental>")
    if triplet:
        parts.append(
            "<time-modification><actual-notes>3</actual-notes><normal-notes>2</normal-notes></time-modification>"
        )
    parts.append(f"<staff>{staff}</staff>")
    for level, value in enumerate(extra.get("beams", []), start=1):
        parts.append(f'<beam number="{level}">{value}</beam>')
    notations = [f'<tied type="{t}"/>' for t in ties] + [
        f'<tuplet type="{t}"/>' for t in extra.get("tuplets", [])
    ]
    if notations:
        parts.append("<notations>" + "".join(notations) + "</notations>")
    parts.append("</note>")
    return "".join(parts)


def _staff_bar_xml(pieces: list, staff: int, notation: Notation, divisions: int, voice: tuple[int, bool] = (0, False)) -> list[str]:
    """The notes and rests of one voice of one staff in one bar, with accidentals as a reader expects them.

    `voice`: (0 or 1, the staff's first or second voice; whether its rests are hidden)."""
    key_estimate: KeyEstimate = notation.key
    signature = signature_alters(key_estimate.fifths)
    current: dict[tuple[str, int], int] = {}
    beams, tuplets = _beam_and_tuplet_marks(pieces, Fraction(notation.meter.beat_quarter_length))
    number, hidden = VOICES[staff] + voice[0], voice[1]
    out = []
    for i, piece in enumerate(pieces):
        c, tie = piece[2], piece[3]
        if c is None:
            rest = {"beams": [], "tuplets": [] if hidden else tuplets.get(i, []), "voice": number, "hidden": hidden}
            out.append(_note_xml(None, piece, staff, divisions, rest))
            continue
        for k, midi in enumerate(c.pitches):
            step, alter, octave = spell_pitch(midi, key_estimate)
            expected = current.get((step, octave), signature.get(step, 0))
            continued = tie in ("stop", "continue")
            accidental = alter if alter != expected and not continued else None
            current[(step, octave)] = alter
            extra = {"chord": k > 0, "spelled": (step, alter, octave), "accidental": accidental, "voice": number}
            if k == 0:
                extra |= {"beams": beams.get(i, []), "tuplets": tuplets.get(i, [])}
            out.append(_note_xml(midi, piece, staff, divisions, extra))
    return out


def _pedal_xml(position: Fraction, kind: str, cursor: Fraction, divisions: int) -> tuple[str, Fraction]:
    """A pedal mark below staff 2 at `position`, reached by <backup>/<forward> from `cursor`."""
    move = ""
    if position < cursor:
        move = f"<backup><duration>{int((cursor - position) * divisions)}</duration></backup>"
    elif position > cursor:
        move = (
            f"<forward><duration>{int((position - cursor) * divisions)}</duration><staff>2</staff></forward>"
        )
    sign = "yes" if kind == "start" else "no"
    mark = (
        f'<direction placement="below"><direction-type><pedal type="{kind}" line="yes" sign="{sign}"/>'
        "</direction-type><staff>2</staff></direction>"
    )
    return move + mark, position


def _clef_xml(staff: int, treble: bool) -> str:
    sign, line = ("G", 2) if treble else ("F", 4)
    return f'<clef number="{staff}"><sign>{sign}</sign><line>{line}</line></clef>'


def _time_xml(signature: str) -> str:
    beats, beat_type = signature.split("/")
    return f"<time><beats>{beats}</beats><beat-type>{beat_type}</beat-type></time>"


def _bar_marks_xml(number: int, marks: dict) -> str:
    """A change of metre, clef changes and a dynamics mark at the start of a bar after the first."""
    clefs, dynamics, signatures = marks["clefs"], marks["dynamics"], marks["signatures"]
    changed = [_time_xml(signatures[number])] if number > 0 and signatures[number] != signatures[number - 1] else []
    changed += [_clef_xml(staff, clefs[staff][number]) for staff in (1, 2)
                if number > 0 and clefs[staff][number] != clefs[staff][number - 1]]
    out = f"<attributes>{''.join(changed)}</attributes>" if changed else ""
    if number in dynamics:
        out += (f'<direction placement="below"><direction-type><dynamics><{dynamics[number]}/></dynamics>'
                "</direction-type><staff>1</staff></direction>")
    return out


def _attributes_xml(notation: Notation, divisions: int, clefs: dict[int, list[bool]]) -> str:
    mode = notation.key.mode
    return (
        f"<attributes><divisions>{divisions}</divisions>"
        f"<key><fifths>{notation.key.fifths}</fifths><mode>{mode}</mode></key>"
        f"{_time_xml(notation.meter.time_signature)}"
        f"<staves>2</staves>{_clef_xml(1, clefs[1][0])}{_clef_xml(2, clefs[2][0])}</attributes>"
    )


BEAT_UNITS = {0.5: ("eighth", ""), 0.75: ("eighth", "<beat-unit-dot/>"), 1.0: ("quarter", ""),
              1.5: ("quarter", "<beat-unit-dot/>"), 2.0: ("half", ""), 3.0: ("half", "<beat-unit-dot/>")}


def _metronome_xml(notation: Notation) -> str:
    """The tempo mark above the first bar (dotted quarter = 60 in 6/8), with the playback tempo in quarters."""
    bpm = notation.metronome_bpm()
    unit, dot = BEAT_UNITS[notation.meter.beat_quarter_length]
    quarters = bpm * notation.meter.beat_quarter_length
    return (f'<direction placement="above"><direction-type><metronome><beat-unit>{unit}</beat-unit>{dot}'
            f"<per-minute>{round(bpm)}</per-minute></metronome></direction-type><staff>1</staff>"
            f'<sound tempo="{quarters:.2f}"/></direction>')


def _divisions(staves: dict[int, list]) -> int:
    """Divisions per quarter: the least common multiple of every written length's denominator."""
    denominators = {p[1].denominator for pieces in staves.values() for p in pieces} | {1}
    return math.lcm(*denominators)


def _measure_tag(index: int, pickup: bool) -> str:
    """A pickup bar is measure 0, written short and marked implicit (not counted); the rest count from 1."""
    if pickup and index == 0:
        return '<measure number="0" implicit="yes">'
    return f'<measure number="{index if pickup else index + 1}">'


def _bar_pedals(notation: Notation, bars: BarLines) -> dict[int, list[tuple[Fraction, str]]]:
    """Pedal marks per bar: (position from the bar's start, 'start' or 'stop'), none before the music."""
    pickup = notation.pickup_start
    pedals: dict[int, list[tuple[Fraction, str]]] = {}
    for start, end in notation.pedals:
        for position, kind in ((max(start, pickup), "start"), (max(end, pickup), "stop")):
            number = bars.bar_at(position)
            offset = min(position - bars.starts[number], bars.length(number))
            pedals.setdefault(number, []).append((offset, kind))
    return pedals


def _staff_voices_xml(content: dict, staff: int, notation: Notation, divisions: int, fill: Fraction) -> list[str]:
    """One staff in one bar: its main voice and, where the hand holds notes there, its second voice after a
    <backup> of the bar's `fill`; the higher-sounding voice comes first (stems up), the second's rests hidden."""
    main, held = content.get((staff, 0), []), content.get((staff, 1), [])
    if not any(piece[2] is not None for piece in held):
        return _staff_bar_xml(main, staff, notation, divisions)
    order = sorted([(main, False), (held, True)], key=lambda v: -_mean_pitch(v[0]))
    first = _staff_bar_xml(order[0][0], staff, notation, divisions, (0, order[0][1]))
    second = _staff_bar_xml(order[1][0], staff, notation, divisions, (1, order[1][1]))
    return [*first, f"<backup><duration>{int(fill * divisions)}</duration></backup>", *second]


def _mean_pitch(pieces: list) -> float:
    pitches = [p for piece in pieces if piece[2] is not None for p in piece[2].pitches]
    return sum(pitches) / len(pitches) if pitches else 0.0


def notation_to_musicxml(notation: Notation, title: str | None = None) -> str:
    """A score-partwise MusicXML document of the Notation (right hand above, left hand below)."""
    lines = notation.bar_lines()
    held_hands = {c.hand for c in notation.chords if c.voice == 1}
    staves = {(staff, voice): written_pieces(notation, 2 - staff, lines, voice)
              for staff in (1, 2) for voice in (0, 1) if voice == 0 or 2 - staff in held_hands}
    divisions = _divisions(staves)
    bars: dict[int, dict[tuple[int, int], list]] = {b: {} for b in range(len(lines))}
    for key, pieces in staves.items():
        for piece in pieces:
            bars[lines.bar_at(piece[0])].setdefault(key, []).append(piece)
    pickup = notation.pickup_start
    pedals = _bar_pedals(notation, lines)
    clefs = {staff: staff_clefs(notation, 2 - staff, lines) for staff in (1, 2)}
    marks = {"clefs": clefs, "dynamics": bar_dynamics(notation, lines), "signatures": lines.signatures}
    measures = []
    for number, content in bars.items():
        bar_length = lines.length(number)
        body = [_attributes_xml(notation, divisions, clefs), _metronome_xml(notation)] if number == 0 else []
        body.append(_bar_marks_xml(number, marks))
        fill = bar_length - (pickup if number == 0 else 0)
        body += _staff_voices_xml(content, 1, notation, divisions, fill)
        body.append(f"<backup><duration>{int(fill * divisions)}</duration></backup>")
        body += _staff_voices_xml(content, 2, notation, divisions, fill)
        cursor = bar_length
        for position, kind in sorted(pedals.get(number, [])):
            mark, cursor = _pedal_xml(position, kind, cursor, divisions)
            body.append(mark)
        if number == len(bars) - 1:
            body.append('<barline location="right"><bar-style>light-heavy</bar-style></barline>')
        measures.append(_measure_tag(number, pickup > 0) + "".join(body) + "</measure>")
    name = escape(title or "")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
        '"http://www.musicxml.org/dtds/partwise.dtd">\n'
        f'<score-partwise version="4.0"><work><work-title>{name}</work-title></work>'
        f"<movement-title>{name}</movement-title>"
        '<part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>'
        f'<part id="P1">{"".join(measures)}</part></score-partwise>\n'
    )
