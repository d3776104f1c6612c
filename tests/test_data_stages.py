"""Real TFDS builds, a real SentencePiece vocabulary and real seqio tasks read from the cache."""

import json

import numpy as np
import pytest
import tensorflow_datasets as tfds

from imprepro.datasets.common import SYMBOLA_FONT, split_of
from imprepro.prepare import dataset_dir, prepare
from imprepro.tasks import TASKS, load_split, register_tasks


def test_splits_are_fixed_by_item_id():
    assert split_of("animals/frog", 10, 10) == split_of("animals/frog", 10, 10)
    counts = {"train": 0, "validation": 0, "test": 0}
    for i in range(2000):
        counts[split_of(f"item{i}", 10, 10)] += 1
    assert 150 < counts["test"] < 250 and 150 < counts["validation"] < 250


def test_tfds_datasets_have_three_splits_and_real_content(workspace):
    root = workspace["root"]
    summary = json.loads((root / "tfds" / "summary.json").read_text())
    for name in ("emoji_noto", "stamps", "stamp_clips", "sounds", "spoken_digits"):
        assert set(summary["datasets"][name]) == {"train", "validation", "test"}, name
    builder = tfds.builder_from_directory(str(dataset_dir(root / "tfds", "emoji_noto")))
    example = next(iter(tfds.as_numpy(builder.as_dataset(split="train"))))
    assert example["image"].shape == (32, 32, 3) and example["image"].std() > 0
    assert example["caption"].decode().islower()
    clips = tfds.builder_from_directory(str(dataset_dir(root / "tfds", "stamp_clips")))
    clip = next(iter(tfds.as_numpy(clips.as_dataset(split="test"))))
    assert clip["video"].shape == (8, 32, 32, 3)
    assert not np.array_equal(clip["video"][0], clip["video"][-1]), "the camera must move"
    assert "The camera" in clip["caption"].decode()


def test_spoken_digits_hold_out_whole_languages(workspace):
    builder = tfds.builder_from_directory(str(dataset_dir(workspace["root"] / "tfds", "spoken_digits")))
    languages = {
        split: {ex["language"] for ex in tfds.as_numpy(builder.as_dataset(split=split))}
        for split in ("train", "validation", "test")
    }
    assert languages["test"] and not languages["test"] & languages["train"]


def test_vocab_and_cache_are_read_back_through_seqio(workspace):
    root, params = workspace["root"], workspace["params"]
    vocab = json.loads((root / "vocab" / "vocab.json").read_text())
    assert vocab["size"] > 50 and vocab["training_lines"] > 0
    register_tasks(params, root / "vocab", cache_dir=root / "cache")
    for task, (_, modality, label) in TASKS.items():
        split = "test" if task == "symbola_image_text" else "train"
        assert (root / "cache" / f"imprepro_{task}" / "COMPLETED").exists()
        example = next(load_split(task, split, 16).as_numpy_iterator())
        assert example["text"].shape == (16,) and example["text"][0] > 0
        assert modality in example and (label is None or "label" in example)
    audio = next(load_split("sound_audio_text", "train", 16).as_numpy_iterator())["audio"]
    assert audio.shape[1] == params["tokenize"]["mel_bins"] and np.isfinite(audio).all()


def test_corrupt_image_is_named_and_prepare_leaves_no_output(workspace, tmp_path):
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(workspace["root"] / "raw", raw)
    victim = sorted((raw / "tuxpaint-stamps-default").rglob("*.png"))[0]
    victim.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    params = dict(workspace["params"], prepare=dict(workspace["params"]["prepare"], max_items=0))
    with pytest.raises(ValueError, match=victim.name) as err:
        prepare(params, raw, tmp_path / "tfds")
    assert "imprepro download" in str(err.value), "the error must say how to recover"
    assert not (tmp_path / "tfds").exists()


def raw_without_symbola(workspace, tmp_path):
    """A raw folder that links the real packages but holds its own (empty) Symbola folder."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for entry in (workspace["root"] / "raw").iterdir():
        if entry.name != "fonts-symbola":
            (raw / entry.name).symlink_to(entry)
    font = raw / SYMBOLA_FONT
    font.parent.mkdir(parents=True)
    return raw, font


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_bad_font_is_named_and_prepare_leaves_no_output(workspace, tmp_path, damage):
    raw, font = raw_without_symbola(workspace, tmp_path)
    if damage == "corrupt":
        font.write_bytes(b"\x00\x01\x00\x00 not really a font")
    error = FileNotFoundError if damage == "missing" else ValueError
    with pytest.raises(error, match=font.name) as err:
        prepare(workspace["params"], raw, tmp_path / "tfds")
    assert "imprepro download" in str(err.value), "the error must say how to recover"
    assert not (tmp_path / "tfds").exists()


def test_cache_digests_identify_the_data_and_name_the_training_run(workspace, tmp_path):
    from imprepro.cache import materialise
    from imprepro.train import run_fingerprint

    root, params = workspace["root"], workspace["params"]
    again = materialise(params, root / "tfds", root / "vocab", tmp_path / "again")
    original = json.loads((root / "cache" / "cache.json").read_text())
    assert again["tasks"] == original["tasks"], "the same inputs must give byte-identical caches"

    other = dict(params, tokenize=dict(params["tokenize"], mel_bins=32))
    changed = materialise(other, root / "tfds", root / "vocab", tmp_path / "other")
    assert changed["tasks"]["sound_audio_text"]["train"]["sha256"] != original["tasks"]["sound_audio_text"]["train"]["sha256"]
    assert changed["tasks"]["emoji_image_text"] == original["tasks"]["emoji_image_text"]
    assert run_fingerprint("recipe", params, root / "vocab", tmp_path / "again") == run_fingerprint("recipe", params, root / "vocab", root / "cache")
    assert run_fingerprint("recipe", params, root / "vocab", tmp_path / "other") != run_fingerprint("recipe", params, root / "vocab", root / "cache")
