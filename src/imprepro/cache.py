"""Stage 4, tokenize: materialise every seqio Task into seqio's cache format under data/cache.

The files follow seqio's offline-cache layout (``info.{split}.json``, ``stats.{split}.json``,
``{split}.tfrecord-00000-of-00001`` and ``COMPLETED`` per task), so ``Task.get_dataset(...,
use_cached=True)`` reads them directly. Writing them here avoids starting an Apache Beam job for
a few thousand examples on a 2-core machine.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import seqio
import tensorflow as tf
from tqdm import tqdm

from imprepro.io import atomic_dir, timing, write_json
from imprepro.tasks import register_tasks, task_name


def write_task_cache(task: seqio.Task, split: str, out: Path, seed: int = 0) -> dict[str, Any]:
    """Writes one split of a task (everything before its cache placeholder); returns its stats."""
    # The same two calls seqio's own Beam cache job makes: read the source, run the pre-cache steps.
    ds = task.preprocess_precache(task.source.get_dataset(split=split, shuffle=False), seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    features = {
        key: {"shape": [None] + spec.shape.as_list()[1:] if spec.shape.rank else [], "dtype": spec.dtype.name}
        for key, spec in ds.element_spec.items()
    }
    examples = tokens = 0
    digest = hashlib.sha256()
    path = out / f"{split}.tfrecord-00000-of-00001"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for example in tqdm(ds.as_numpy_iterator(), desc=f"tokenize {task.name}:{split}", unit="ex", leave=False):
            # Deterministic map order: the same examples give the same bytes, so the digest below
            # identifies the data (training runs are named by it) and DVC's hashes are stable.
            record = seqio.utils.dict_to_tfexample(example).SerializeToString(deterministic=True)
            writer.write(record)
            digest.update(record)
            examples += 1
            tokens += int(len(example["text"]))
    if not examples:
        raise ValueError(f"{task.name}:{split}: no examples; check data/tfds (prepare stage)")
    info = {"num_shards": 1, "features": features, "seqio_version": seqio.__version__}
    stats = {"examples": examples, "text_tokens": tokens, "sha256": digest.hexdigest()}
    write_json(out / f"info.{split}.json", info)
    write_json(out / f"stats.{split}.json", stats)
    return stats


def materialise(params: dict[str, Any], tfds_root: Path, vocab_dir: Path, out: Path) -> dict[str, Any]:
    """Materialises every split of every task; writes ``out/cache.json`` with counts and time."""
    start = time.time()
    tasks = register_tasks(params, vocab_dir, tfds_root=tfds_root)
    summary: dict[str, Any] = {"tasks": {}}
    with atomic_dir(out) as tmp:
        for name, task in tasks.items():
            task_dir = tmp / task_name(name)
            summary["tasks"][name] = {split: write_task_cache(task, split, task_dir, params["seed"]) for split in task.splits}
            (task_dir / "COMPLETED").write_text("")
            print(f"tokenize: {name} {summary['tasks'][name]}")
        summary.update(timing(start))
        write_json(tmp / "cache.json", summary)
    return summary
