"""`notestream data`: split ASAP by work, render the training corpus, prepare MAESTRO, write statistics,
pack a corpus losslessly for another machine and unpack it there, and label humanised scores for the
rhythm network."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from notestream.model.config import ModelConfig
from notestream.model.data.corpus import SOURCES, RenderPlan, data_dir, render_corpus, rendered_dir
from notestream.model.data.soundfonts import missing_soundfonts, sampled_piano_preset
from notestream.model.data.splits import default_asap_root, make_splits, read_asap, write_splits
from notestream.model.data.velocity_timbre import VelocityTimbre
from notestream.model.features import FeatureConfig

DEFAULT_ASAP = default_asap_root()


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="build training data (render ASAP, prepare MAESTRO, statistics)", description=__doc__)
    sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    r = sub.add_parser("render", help="render ASAP performances (and humanised music21 scores) through piano SoundFonts")
    r.add_argument("--asap", type=Path, default=DEFAULT_ASAP, help="ASAP folder (with metadata.csv)")
    r.add_argument("--data-dir", default=None, help="output folder (default $NOTESTREAM_DATA or ./data)")
    r.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="render processes (default: one per core)")
    r.add_argument("--splits", default="train,validation,benchmark", help="comma-separated splits to render")
    r.add_argument("--sources", default=",".join(SOURCES),
                   help="comma-separated: asap (performances, every split) and music21 (humanised public-domain scores, train only)")
    r.add_argument("--music21-performances", type=int, default=RenderPlan.music21_performances,
                   help="humanised performances per music21 keyboard work (chorales: one each)")
    r.add_argument("--segment-seconds", type=float, default=RenderPlan.segment_seconds)
    r.add_argument("--segments-per-performance", type=int, default=RenderPlan.train_segments_per_performance)
    r.add_argument("--no-detune", action="store_true", help="switch off the +/-20 cent render detuning")
    r.add_argument("--sampled-piano", type=Path, default=None, metavar="PATH",
                   help="render the ASAP segments of --splits with this sampled piano instead of the SoundFonts: a "
                        "folder of samples (e.g. data/pianos/salamander) or a GUS patch rendered by TiMidity++ (e.g. "
                        "/usr/share/midi/freepats/Tone_000/000_Acoustic_Grand_Piano.pat), into <split>-<piano name>")
    r.add_argument("--velocity-timbre", action="store_true",
                   help="train renders: soft notes quieter (pp..fff span drawn from 34-46 dB on every piano) and darker "
                        "(model/data/velocity_timbre.py); segments already on disk are kept, so render into a fresh --data-dir")
    r.add_argument("--piano-name", default=None, help="with --sampled-piano: the name in the split (default: the folder's or patch's)")
    r.set_defaults(func=run_render)

    rs = sub.add_parser("rhythm-scores", help="humanised music21 scores with their beats, metre, key and hands, for the rhythm network")
    rs.add_argument("--out", type=Path, required=True, help="pickle of RhythmExamples (rhythm_training --extra)")
    rs.add_argument("--performances", type=int, default=3, help="humanised performances per work (chorales: one)")
    rs.add_argument("--seed", type=int, default=45)
    rs.set_defaults(func=run_rhythm_scores)

    s = sub.add_parser("splits", help="(re)write model/splits/*.txt from ASAP's works (seeded, by work)")
    s.add_argument("--asap", type=Path, default=DEFAULT_ASAP)
    s.add_argument("--seed", type=int, default=2023)
    s.set_defaults(func=run_splits)

    m = sub.add_parser("maestro", help="prepare a MAESTRO v3 folder (audio + MIDI + csv) in the same layout")
    m.add_argument("root", type=Path, help="the extracted maestro-v3.0.0 folder")
    m.add_argument("--data-dir", default=None, help="output base (default $NOTESTREAM_DATA or ./data); writes <base>/maestro")
    m.add_argument("--segment-seconds", type=float, default=30.0)
    m.set_defaults(func=run_maestro)

    st = sub.add_parser("stats", help="label statistics per split and the GCN label graph, as CSV and PNG")
    st.add_argument("--data-dir", default=None, help="prepared data (default $NOTESTREAM_DATA/rendered or ./data/rendered)")
    st.add_argument("--out", type=Path, default=None, help="output folder (default <data-dir>/stats)")
    st.add_argument("--tau", type=float, default=ModelConfig.adjacency_tau, help="label-graph threshold on P(j|i)")
    st.add_argument("--splits", default="train,validation,benchmark")
    st.set_defaults(func=run_stats)

    pk = sub.add_parser("pack", help="rendered splits as lossless FLAC + labels in size-capped chunks, to copy elsewhere")
    pk.add_argument("out", type=Path, help="output folder (chunk folders c000, c001, ...)")
    pk.add_argument("--data-dir", default=None, help="prepared data (default $NOTESTREAM_DATA/rendered or ./data/rendered)")
    pk.add_argument("--splits", default="train,validation",
                    help="comma-separated SPLIT or SPLIT:N (the first N segments, in the order validation reads them)")
    pk.add_argument("--chunk-mb", type=float, default=50.0, help="largest chunk folder, in MB")
    pk.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    pk.set_defaults(func=run_pack)

    up = sub.add_parser("unpack", help="packed chunks back into the rendered layout (identical arrays)")
    up.add_argument("source", type=Path, help="folder holding the chunk folders")
    up.add_argument("--data-dir", default=None, help="destination (default $NOTESTREAM_DATA/rendered or ./data/rendered)")
    up.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    up.set_defaults(func=run_unpack)


def run_render(args: argparse.Namespace) -> int:
    missing = missing_soundfonts()
    if missing:
        raise ValueError(f"SoundFonts missing: {', '.join(missing)} (run `make system-deps`)")
    sources = tuple(args.sources.split(","))
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"--sources: unknown {', '.join(sorted(unknown))}; choose from {', '.join(SOURCES)}")
    plan = RenderPlan(segment_seconds=args.segment_seconds, train_segments_per_performance=args.segments_per_performance,
                      detune_cents=0.0 if args.no_detune else RenderPlan.detune_cents, music21_performances=args.music21_performances,
                      velocity_timbre=VelocityTimbre() if args.velocity_timbre else None)
    out = data_dir(args.data_dir) / "rendered"
    piano = sampled_piano_preset(args.sampled_piano, args.piano_name) if args.sampled_piano else None
    counts = render_corpus(args.asap, out, plan, args.workers, tuple(args.splits.split(",")), sources, piano)
    print(f"rendered corpus in {out}: " + ", ".join(f"{k} {v} segments" for k, v in counts.items()))
    return 0


def run_splits(args: argparse.Namespace) -> int:
    splits = make_splits([p.work for p in read_asap(args.asap)], args.seed)
    write_splits(splits)
    print(", ".join(f"{k}: {len(v)} works" for k, v in splits.items()))
    return 0


def run_maestro(args: argparse.Namespace) -> int:
    from notestream.model.data.maestro import prepare_maestro

    out = data_dir(args.data_dir) / "maestro"
    counts = prepare_maestro(args.root, out, FeatureConfig().sample_rate, args.segment_seconds)
    print(f"MAESTRO prepared in {out}: " + ", ".join(f"{k} {v} segments" for k, v in counts.items()))
    print(f"train on it with: notestream train --data-dir {out}")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from notestream.model.data.statistics import write_statistics

    root = rendered_dir(args.data_dir)
    out = args.out or root / "stats"
    stats = write_statistics(root, out, FeatureConfig(), args.tau, tuple(args.splits.split(",")))
    for split, st in stats.items():
        print(f"{split}: {st['segments']} segments, {int(st['keys'].sum())} notes")
    print(f"statistics written to {out}")
    return 0


def run_pack(args: argparse.Namespace) -> int:
    from notestream.model.data.transfer import SplitSelection, pack_corpus

    root = rendered_dir(args.data_dir)
    selections = [SplitSelection.parse(s) for s in args.splits.split(",")]
    chunks = pack_corpus(root, selections, args.out, int(args.chunk_mb * 1e6), FeatureConfig().sample_rate, args.workers)
    total = sum(f.stat().st_size for c in chunks for f in c.rglob("*") if f.is_file())
    print(f"packed into {len(chunks)} chunks ({total / 1e6:.0f} MB) in {args.out}; "
          f"on the other machine: notestream data unpack <folder holding them>")
    return 0


def run_unpack(args: argparse.Namespace) -> int:
    from notestream.model.data.transfer import unpack_corpus

    root = rendered_dir(args.data_dir)
    counts = unpack_corpus(args.source, root, FeatureConfig().sample_rate, args.workers)
    print(f"unpacked into {root}: " + ", ".join(f"{k} {v} segments" for k, v in sorted(counts.items())))
    return 0


def run_rhythm_scores(args: argparse.Namespace) -> int:
    from notestream.commands.rhythm_scores import write_rhythm_scores

    count, notes = write_rhythm_scores(args.out, args.performances, args.seed)
    print(f"{count} labelled performances ({notes} notes) in {args.out}")
    return 0
