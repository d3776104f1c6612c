"""Embedding whole splits with a trained model, and the zero-shot scores built on them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax.training import train_state

from imprepro.checkpoints import create_state, restore
from imprepro.io import read_json
from imprepro.metrics import caption_matches, retrieval_chance, retrieval_metrics, retrieval_ranks
from imprepro.runtime import Runtime
from imprepro.sharding import put_batch, tree_shardings
from imprepro.tasks import load_split, modality_of


def restore_params(rt: Runtime, train_dir: Path, step: int) -> Any:
    """Parameters of the checkpoint saved at ``step`` by the run that ``train_dir`` describes."""
    manifest = read_json(train_dir / "manifest.json")
    abstract = jax.eval_shape(lambda: create_state(rt.model, rt.recipe, rt.params, rt.params["seed"]))
    shardings = tree_shardings(rt.mesh, abstract)
    abstract = jax.tree.map(lambda leaf, s: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=s), abstract, shardings)
    state: train_state.TrainState = restore(Path(manifest["checkpoint_dir"]), step, abstract)
    return state.params


@functools.lru_cache(maxsize=None)
def _encoder(model, modality: str):
    return jax.jit(lambda params, x: model.apply({"params": params}, x, method=lambda m, v: m.encode(modality, v)))


def embed(rt: Runtime, params: Any, modality: str, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    """Embeds ``inputs`` in batches; the last batch is padded (to a multiple of the devices) and trimmed."""
    encode = _encoder(rt.model, modality)
    devices = rt.mesh.devices.size
    batch_size = max(devices, batch_size - batch_size % devices)
    outputs = []
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size]
        pad = (-len(chunk)) % devices
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)]) if pad else chunk
        out = encode(params, put_batch(rt.mesh, {"x": padded})["x"])
        outputs.append(np.asarray(jax.device_get(out))[: len(chunk)])
    return np.concatenate(outputs)


def load_examples(task: str, split: str, text_length: int, max_examples: int = 0) -> dict[str, np.ndarray]:
    """A task's materialised split as stacked numpy arrays (first ``max_examples`` if > 0)."""
    ds = load_split(task, split, text_length)
    if max_examples:
        ds = ds.take(max_examples)
    examples = list(ds.as_numpy_iterator())
    if not examples:
        raise ValueError(f"task {task} split {split}: no examples in the cache")
    return {key: np.stack([ex[key] for ex in examples]) for key in examples[0]}


def tokenize(rt: Runtime, texts: list[str]) -> np.ndarray:
    """Token ids [N, text_length] (trimmed, zero-padded) with the pipeline's vocabulary."""
    length = rt.params["tokenize"]["text_length"]
    ids = np.zeros((len(texts), length), np.int32)
    for i, text in enumerate(texts):
        encoded = list(rt.vocabulary.encode(text))[:length]  # exactly as the seqio tasks tokenise captions
        ids[i, : len(encoded)] = encoded
    return ids


def class_embeddings(rt: Runtime, params: Any, names: list[str], templates: list[str], batch_size: int) -> np.ndarray:
    """Prompt ensembles: the mean of each class's normalised prompt embeddings, re-normalised."""
    prompts = [template.format(name) for name in names for template in templates]
    emb = embed(rt, params, "text", tokenize(rt, prompts), batch_size).reshape(len(names), len(templates), -1)
    mean = emb.mean(axis=1)
    return mean / np.linalg.norm(mean, axis=-1, keepdims=True).clip(1e-6)


def task_retrieval(rt: Runtime, params: Any, task: str, split: str, max_examples: int, batch_size: int) -> dict[str, Any]:
    """Text-to-media retrieval over one split of a task (all of it when ``max_examples`` is 0)."""
    data = load_examples(task, split, rt.params["tokenize"]["text_length"], max_examples)
    modality = modality_of(task)
    media = embed(rt, params, modality, data[modality], batch_size)
    text = embed(rt, params, "text", data["text"], batch_size)
    match = caption_matches(data["text"])
    ranks = retrieval_ranks(text, media, match)
    return {"metrics": retrieval_metrics(ranks), "num_examples": int(len(ranks)),
            "chance": retrieval_chance(match.sum(axis=1), len(ranks))}
