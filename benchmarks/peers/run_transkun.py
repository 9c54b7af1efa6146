"""Runner for transkun 2.0.1 (see runner_protocol.py), in the .peers/transkun venv, on the CPU.

Does what `transkun AUDIO OUT.mid` does, with the model loaded once: the weights and configuration
bundled in the wheel (pretrained/2.0.pt, 2.0.conf), its own audio reader (pydub over ffmpeg), soxr
resampling to the model's rate, `model.transcribe` with the configuration's segment sizes, and its MIDI
writer (notes and sustain pedal).
"""

from __future__ import annotations

from pathlib import Path

from runner_protocol import run_runner


def load(args):
    from importlib.resources import files

    import moduleconf
    import torch

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    pretrained = files("transkun") / "pretrained"
    config = moduleconf.parseFromFile(str(pretrained / "2.0.conf"))
    model = config["Model"].module.TransKun(conf=config["Model"].config)
    # The wheel's own trusted weights; they hold more than tensors, which torch>=2.6 refuses by default.
    checkpoint = torch.load(str(pretrained / "2.0.pt"), map_location="cpu", weights_only=False)
    model.load_state_dict(checkpoint.get("best_state_dict", checkpoint.get("state_dict")), strict=False)
    return model.eval()


def transcribe(model, wav: Path, midi: Path) -> None:
    import soxr
    import torch
    from transkun.Data import writeMidi
    from transkun.transcribe import readAudio

    rate, audio = readAudio(str(wav))
    if rate != model.fs:
        audio = soxr.resample(audio, rate, model.fs)
    notes = model.transcribe(torch.from_numpy(audio), discardSecondHalf=False)
    writeMidi(notes).write(str(midi))


if __name__ == "__main__":
    from importlib.metadata import version

    run_runner("transkun", version("transkun"), load, transcribe)
