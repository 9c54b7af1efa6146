import numpy as np
import pytest

from notestream.model.data.transfer import SplitSelection, decode_flac, encode_flac, pack_corpus, unpack_corpus
from tests.model.data.tiny_corpus import write_tiny_corpus


def test_pack_then_unpack_rebuilds_every_array_exactly(tmp_path):
    root = write_tiny_corpus(tmp_path / "rendered")
    chunks = pack_corpus(root, [SplitSelection("train"), SplitSelection("validation")], tmp_path / "packed",
                         chunk_bytes=60_000, sample_rate=16000, workers=1)
    assert len(chunks) >= 2, "a small cap must split the corpus into several chunks"
    assert not (tmp_path / "packed" / "stage").exists()
    packed_bytes = sum(f.stat().st_size for f in (tmp_path / "packed").rglob("*") if f.is_file())
    original_bytes = sum(f.stat().st_size for s in ("train", "validation") for f in (root / s).glob("*.npz"))
    assert packed_bytes < original_bytes

    counts = unpack_corpus(tmp_path / "packed", tmp_path / "there", sample_rate=16000, workers=1)
    assert counts == {"train": 3, "validation": 1}
    for split in ("train", "validation"):
        for original in sorted((root / split).glob("*.npz")):
            a, b = np.load(original), np.load(tmp_path / "there" / split / original.name)
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), (original.name, key)
    assert not list((tmp_path / "there").rglob("*.tmp.npz"))


def test_a_split_limit_takes_the_first_segments_in_validation_order(tmp_path):
    root = write_tiny_corpus(tmp_path / "rendered")
    pack_corpus(root, [SplitSelection.parse("train:2")], tmp_path / "packed", 10**9, 16000, workers=1)
    names = sorted(p.name for p in (tmp_path / "packed").rglob("*.flac"))
    assert names == ["seg0.flac", "seg1.flac"]


@pytest.mark.parametrize("text", ["", ":3", "train:0", "train:x"])
def test_split_selection_rejects_malformed_text(text):
    with pytest.raises(ValueError):
        SplitSelection.parse(text)


def test_flac_of_another_sample_rate_is_refused(tmp_path):
    audio = (np.sin(np.arange(8000) / 5) * 9000).astype(np.int16)
    encode_flac(audio, tmp_path / "a.flac", 22050)
    with pytest.raises(ValueError, match="22050 Hz"):
        decode_flac(tmp_path / "a.flac", 16000)
    assert np.array_equal(decode_flac(tmp_path / "a.flac", 22050), audio)


def test_float_audio_is_refused_rather_than_silently_quantised(tmp_path):
    with pytest.raises(ValueError, match="int16"):
        encode_flac(np.zeros(100, np.float32), tmp_path / "a.flac", 16000)


def test_missing_labels_make_unpack_fail_loudly(tmp_path):
    root = write_tiny_corpus(tmp_path / "rendered")
    pack_corpus(root, [SplitSelection("validation")], tmp_path / "packed", 10**9, 16000, workers=1)
    next((tmp_path / "packed").rglob("*.labels.npz")).unlink()
    with pytest.raises(FileNotFoundError, match="labels"):
        unpack_corpus(tmp_path / "packed", tmp_path / "there", 16000, workers=1)


def test_packing_into_a_folder_with_old_chunks_is_refused(tmp_path):
    root = write_tiny_corpus(tmp_path / "rendered")
    pack_corpus(root, [SplitSelection("validation")], tmp_path / "packed", 10**9, 16000, workers=1)
    with pytest.raises(FileExistsError, match="not empty"):
        pack_corpus(root, [SplitSelection("train")], tmp_path / "packed", 10**9, 16000, workers=1)
