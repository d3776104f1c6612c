"""Stage 2, prepare: TFDS builders turn the raw source files into TFDS datasets under data/tfds."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import tensorflow_datasets as tfds

from imprepro.datasets.common import SuiteConfig
from imprepro.datasets.emoji import ImpEmoji
from imprepro.datasets.stamps import ImpSounds, ImpSpokenDigits, ImpStampClips, ImpStamps
from imprepro.io import atomic_dir, read_json, timing, write_json

# (folder name under data/tfds, builder class, builder config name)
DATASETS = {
    "emoji_noto": (ImpEmoji, "noto"),
    "emoji_symbola": (ImpEmoji, "symbola"),
    "stamps": (ImpStamps, "default"),
    "stamp_clips": (ImpStampClips, "default"),
    "sounds": (ImpSounds, "default"),
    "spoken_digits": (ImpSpokenDigits, "default"),
}


def suite_config(params: dict[str, Any], name: str) -> SuiteConfig:
    """The builder config for one dataset, from params.yaml's ``prepare`` section and seed."""
    return SuiteConfig(name=name, seed=params["seed"], **params["prepare"])


def make_builder(dataset: str, params: dict[str, Any], data_dir: Path) -> tfds.core.DatasetBuilder:
    """Instantiates the TFDS builder for ``dataset`` writing under ``data_dir/dataset``."""
    cls, config_name = DATASETS[dataset]
    return cls(config=suite_config(params, config_name), data_dir=str(data_dir / dataset))


def dataset_dir(tfds_root: str | os.PathLike, dataset: str) -> Path:
    """The folder holding a prepared dataset (the one ``tfds.builder_from_directory`` reads)."""
    root = Path(tfds_root) / dataset
    found = sorted(p.parent for p in root.glob("*/*/*/dataset_info.json"))
    if not found:
        raise FileNotFoundError(f"{root}: no prepared TFDS dataset; run `imprepro prepare`")
    return found[-1]


def prepare(params: dict[str, Any], raw: Path, out: Path) -> dict[str, Any]:
    """Builds every dataset of the default suite; returns a summary of split sizes."""
    read_json(raw / "manifest.json")  # the download stage finished
    start = time.time()
    summary: dict[str, Any] = {"datasets": {}}
    with atomic_dir(out) as tmp:
        for dataset in DATASETS:
            builder = make_builder(dataset, params, tmp)
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=str(raw)),
            )
            splits = {name: info.num_examples for name, info in builder.info.splits.items()}
            summary["datasets"][dataset] = splits
            print(f"prepare: {dataset} {splits}")
        summary.update(timing(start))
        write_json(tmp / "summary.json", summary)
    return summary
