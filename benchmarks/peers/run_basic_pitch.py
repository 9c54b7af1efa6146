"""Runner for basic-pitch 0.4.0 (see runner_protocol.py), in the .peers/basic-pitch venv.

Uses the model bundled in the wheel (the ONNX one, as setup.sh installs no TensorFlow) with basic-pitch's
default thresholds, the settings of its command line. The ONNX session is rebuilt with --threads intra-op
threads so every system gets the same CPU budget.
"""

from __future__ import annotations

from pathlib import Path

from runner_protocol import run_runner


def load(args):
    import onnxruntime as ort
    from basic_pitch import ICASSP_2022_MODEL_PATH
    from basic_pitch.inference import Model

    model = Model(ICASSP_2022_MODEL_PATH)
    if model.model_type == Model.MODEL_TYPES.ONNX:
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = args.threads
        session_options.inter_op_num_threads = 1
        model.model = ort.InferenceSession(str(ICASSP_2022_MODEL_PATH), session_options,
                                           providers=["CPUExecutionProvider"])
    return model


def transcribe(model, wav: Path, midi: Path) -> None:
    from basic_pitch.inference import predict

    _, midi_data, _ = predict(wav, model)
    midi_data.write(str(midi))


def version(model) -> str:
    from importlib.metadata import version as package_version

    return f"{package_version('basic-pitch')} ({model.model_type.name.lower()})"


if __name__ == "__main__":
    run_runner("basic-pitch", version, load, transcribe)
