"""Stage 3, vocab: a SentencePiece model trained on the training captions.

This is the offline stand-in for the T5 vocabulary (no hub is reachable). Setting
``vocab.t5_model_file`` in params.yaml to a real T5 ``.model`` file uses that file instead.
"""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path
from typing import Any

import sentencepiece as spm
import tensorflow_datasets as tfds

from imprepro.io import atomic_dir, timing, write_json
from imprepro.prepare import dataset_dir

# Datasets whose training captions feed the vocabulary (held-out splits never do).
TRAIN_TEXT_DATASETS = ("emoji_noto", "stamps", "stamp_clips", "sounds", "spoken_digits")
MODEL_FILE = "spm.model"


def training_text(tfds_root: Path) -> list[str]:
    """Every caption of the training splits, in a fixed order."""
    lines = []
    for dataset in TRAIN_TEXT_DATASETS:
        builder = tfds.builder_from_directory(str(dataset_dir(tfds_root, dataset)))
        for example in tfds.as_numpy(builder.as_dataset(split="train", shuffle_files=False)):
            lines.append(example["caption"].decode())
    return lines


def build_vocab(params: dict[str, Any], tfds_root: Path, out: Path) -> dict[str, Any]:
    """Writes ``out/spm.model`` (trained here, or the configured T5 file) and ``out/vocab.json``."""
    start = time.time()
    t5_file = params["vocab"]["t5_model_file"]
    with atomic_dir(out) as tmp:
        if t5_file:
            source = Path(t5_file)
            if not source.exists():
                raise FileNotFoundError(f"params.yaml vocab.t5_model_file: {source} does not exist")
            shutil.copyfile(source, tmp / MODEL_FILE)
            kind, lines = f"T5 SentencePiece file {source}", 0
        else:
            text = training_text(tfds_root)
            model = io.BytesIO()
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(text),
                model_writer=model,
                vocab_size=params["vocab"]["size"],
                hard_vocab_limit=False,  # a small corpus may not support the requested size
                model_type="unigram",
                character_coverage=1.0,
                pad_id=0, eos_id=1, unk_id=2, bos_id=-1,  # T5's special ids
                normalization_rule_name="nmt_nfkc_cf",  # lower-cases, so prompts match any case
                num_threads=1,
                minloglevel=2,
            )
            (tmp / MODEL_FILE).write_bytes(model.getvalue())
            kind, lines = "SentencePiece unigram trained on the training captions", len(text)
        try:
            size = spm.SentencePieceProcessor(model_file=str(tmp / MODEL_FILE)).get_piece_size()
        except (RuntimeError, OSError) as e:
            raise ValueError(f"{t5_file or tmp / MODEL_FILE}: not a SentencePiece model ({e})") from e
        summary = {"kind": kind, "size": size, "training_lines": lines, **timing(start)}
        write_json(tmp / "vocab.json", summary)
    print(f"vocab: {kind}, {size} pieces")
    return summary
