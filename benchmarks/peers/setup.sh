#!/usr/bin/env bash
# Install the peer transcribers that `notestream bench accuracy --peers` compares against, each in its own
# virtualenv under .peers/ (self-ignored by git): transkun 2.0.1 and basic-pitch 0.4.0. Both ship their
# weights inside their wheels, so nothing is fetched at run time. Re-running skips a venv that imports.
#
#   bash benchmarks/peers/setup.sh [transkun] [basic-pitch]    (default: both)
#
# Needs: python3.11 (or $PYTHON), ffmpeg on PATH (transkun decodes audio through it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PEERS="${NOTESTREAM_PEERS:-$ROOT/.peers}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(transkun basic-pitch)

mkdir -p "$PEERS"
printf '*\n' > "$PEERS/.gitignore"

fresh_venv() {  # $1 = folder
    "$PYTHON" -m venv "$1"
    "$1/bin/pip" install --quiet --upgrade pip
}

setup_transkun() {
    local venv="$PEERS/transkun"
    if "$venv/bin/python" -c "import transkun, torch" 2>/dev/null; then
        echo "transkun: already installed in $venv"; return
    fi
    command -v ffmpeg >/dev/null || { echo "transkun needs ffmpeg on PATH (apt-get install ffmpeg)" >&2; exit 1; }
    fresh_venv "$venv"
    # torch first and pinned to the CPU build: a looser spec pulled in by transkun fetches a multi-GB CUDA one.
    "$venv/bin/pip" install --quiet 'torch==2.13.0+cpu' || "$venv/bin/pip" install --quiet torch==2.13.0
    "$venv/bin/pip" install --quiet 'setuptools<81' transkun==2.0.1
    # transkun's torchaudio dependency may arrive CUDA-linked; its native libraries then fail to load beside
    # CPU torch. transkun only needs torchaudio's Python side, so drop the native libraries.
    rm -f "$venv"/lib/python3*/site-packages/torchaudio/lib/*.so
    "$venv/bin/python" -c "import transkun, torch; print('transkun ready, torch', torch.__version__)"
}

setup_basic_pitch() {
    local venv="$PEERS/basic-pitch"
    if "$venv/bin/python" -c "import basic_pitch.inference" 2>/dev/null; then
        echo "basic-pitch: already installed in $venv"; return
    fi
    fresh_venv "$venv"
    # --no-deps: its declared deps pull TensorFlow; the bundled ONNX model only needs onnxruntime.
    "$venv/bin/pip" install --quiet --no-deps basic-pitch==0.4.0
    "$venv/bin/pip" install --quiet onnxruntime librosa mir_eval pretty_midi 'resampy<0.4.3' scipy scikit-learn \
        typing-extensions
    "$venv/bin/python" -c "import basic_pitch.inference; from basic_pitch import ICASSP_2022_MODEL_PATH as p; print('basic-pitch ready,', p)"
}

for target in "${TARGETS[@]}"; do
    case "$target" in
        transkun) setup_transkun ;;
        basic-pitch) setup_basic_pitch ;;
        *) echo "unknown peer '$target' (known: transkun basic-pitch)" >&2; exit 2 ;;
    esac
done
