"""seqio Tasks (one per dataset and objective) and the AGD Mixture.

Each Task reads a prepared TFDS dataset, turns it into model features (images and clips as int32
pixels, audio as a log-mel spectrogram, captions tokenised) and ends in a required cache
placeholder: training and evaluation read the copy that `imprepro tokenize` materialised under
data/cache, never re-tokenising.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import seqio
import tensorflow as tf
import tensorflow_datasets as tfds

from imprepro.prepare import dataset_dir
from imprepro.suite import TASKS

PREFIX = "imprepro_"
MIXTURE = PREFIX + "agd_mixture"


def task_name(task: str) -> str:
    """The registered seqio name of one of our tasks."""
    return PREFIX + task


def log_mel(waveform: tf.Tensor, sample_rate: int, params: dict[str, Any]) -> tf.Tensor:
    """Log-mel spectrogram [frames, mel_bins]; the mel matrix uses the signal's real sample rate."""
    frame, hop, bins = params["stft_frame"], params["stft_hop"], params["mel_bins"]
    stft = tf.signal.stft(waveform, frame_length=frame, frame_step=hop, fft_length=frame)
    mel_matrix = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=bins,
        num_spectrogram_bins=frame // 2 + 1,
        sample_rate=sample_rate,
        lower_edge_hertz=20.0,
        upper_edge_hertz=sample_rate / 2,
    )
    mel = tf.matmul(tf.abs(stft), mel_matrix)
    return tf.math.log(mel + 1e-3)


def to_features(example, modality: str, label: str | None, sample_rate: int, tokenize_params: dict[str, Any]):
    """Maps a TFDS example to the model's raw features ('text' still a string)."""
    out = {"text": example["caption"]}
    if modality == "audio":
        waveform = tf.cast(example["audio"], tf.float32) / 32768.0
        out["audio"] = log_mel(waveform, sample_rate, tokenize_params)
    else:
        out[modality] = tf.cast(example[modality], tf.int32)
    if label:
        out["label"] = tf.cast(example[label], tf.int32)
    return out


def _tfds_source(directory: str | None, splits: dict[str, int]) -> seqio.FunctionDataSource:
    """A source over a prepared TFDS folder, opened lazily (cached reads never touch it)."""

    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
        if directory is None:
            raise FileNotFoundError("this task was registered from its cache only; run `imprepro tokenize`")
        builder = tfds.builder_from_directory(directory)
        return builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=tfds.ReadConfig(shuffle_seed=seed))

    return seqio.FunctionDataSource(dataset_fn, splits=list(splits), num_input_examples=splits)


def _splits_from_tfds(directory: Path) -> dict[str, int]:
    info = tfds.builder_from_directory(str(directory)).info
    return {name: split.num_examples for name, split in info.splits.items()}


def _splits_from_cache(task_dir: Path) -> dict[str, int]:
    stats = sorted(task_dir.glob("stats.*.json"))
    if not (task_dir / "COMPLETED").exists() or not stats:
        raise FileNotFoundError(f"{task_dir}: no completed seqio cache; run `imprepro tokenize`")
    return {p.name[len("stats."):-len(".json")]: json.loads(p.read_text())["examples"] for p in stats}


def register_tasks(
    params: dict[str, Any], vocab_dir: Path, tfds_root: Path | None = None, cache_dir: Path | None = None
) -> dict[str, seqio.Task]:
    """Registers every Task and the AGD Mixture (rates = params.yaml train.tasks weights).

    With ``tfds_root`` the tasks read the prepared TFDS data (the tokenize stage); with only
    ``cache_dir`` they read what tokenize materialised. Registration is idempotent, so stages and
    tests can call it again with other paths.
    """
    if tfds_root is None and cache_dir is None:
        raise ValueError("register_tasks needs tfds_root (to tokenize) or cache_dir (to read the cache)")
    model_file = vocab_dir / "spm.model"
    if not model_file.exists():
        raise FileNotFoundError(f"{model_file}: missing vocabulary; run `imprepro vocab`")
    vocabulary = seqio.SentencePieceVocabulary(str(model_file))
    output_features = {"text": seqio.Feature(vocabulary=vocabulary, add_eos=True, required=True)}
    if cache_dir is not None:
        seqio.add_global_cache_dirs([str(cache_dir)])
    tasks = {}
    for task, (dataset, modality, label) in TASKS.items():
        name = task_name(task)
        seqio.TaskRegistry.remove(name)
        if tfds_root is not None:
            directory = dataset_dir(tfds_root, dataset)
            source = _tfds_source(str(directory), _splits_from_tfds(directory))
        else:
            source = _tfds_source(None, _splits_from_cache(cache_dir / name))
        sample_rate = params["prepare"]["audio_sample_rate"]
        features = functools.partial(
            to_features, modality=modality, label=label, sample_rate=sample_rate, tokenize_params=params["tokenize"]
        )
        tasks[task] = seqio.TaskRegistry.add(
            name,
            source=source,
            preprocessors=[
                functools.partial(_map, fn=features),
                seqio.preprocessors.tokenize,
                seqio.CacheDatasetPlaceholder(required=True),
            ],
            output_features=output_features,
            metric_fns=[],
        )
    seqio.MixtureRegistry.remove(MIXTURE)
    seqio.MixtureRegistry.add(
        MIXTURE, [(task_name(t), float(w)) for t, w in params["train"]["tasks"].items() if w > 0]
    )
    return tasks


def _map(dataset: tf.data.Dataset, fn) -> tf.data.Dataset:
    return dataset.map(fn, num_parallel_calls=tf.data.AUTOTUNE)


def modality_of(task: str) -> str:
    """The non-text modality of a task ('image', 'video' or 'audio')."""
    return TASKS[task][1]


def load_split(task: str, split: str, text_length: int, shuffle: bool = False, seed: int | None = None) -> tf.data.Dataset:
    """Reads a task's materialised split, captions padded/trimmed to ``text_length`` tokens."""
    ds = seqio.get_mixture_or_task(task_name(task)).get_dataset(
        sequence_length={"text": text_length}, split=split, use_cached=True, shuffle=shuffle, seed=seed, num_epochs=1
    )
    return seqio.utils.trim_and_pad_dataset(ds, {"text": text_length})
