"""Orbax checkpoints of the training state, and rebuilding a model to score them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from flax.training import train_state

from imprepro.model import IMPModel
from imprepro.recipe import Recipe, TrainConfig


def dummy_batch(params: dict[str, Any], batch: int = 1) -> dict[str, np.ndarray]:
    """Zero inputs of every modality at the suite's shapes (to initialise all parameters)."""
    p, t = params["prepare"], params["tokenize"]
    size, samples = p["image_size"], int(round(p["audio_sample_rate"] * p["audio_seconds"]))
    frames = 1 + (samples - t["stft_frame"]) // t["stft_hop"]
    return {
        "image": np.zeros((batch, size, size, 3), np.int32),
        "video": np.zeros((batch, p["video_frames"], size, size, 3), np.int32),
        "audio": np.zeros((batch, frames, t["mel_bins"]), np.float32),
        "text": np.ones((batch, t["text_length"]), np.int32),
    }


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """Clipping by global norm, then AdamW (decay on kernels only) with warm-up + cosine."""
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=config.learning_rate,
        warmup_steps=config.warmup_steps,
        decay_steps=config.steps,
        end_value=config.end_learning_rate,
    )

    def kernels_only(tree):
        return jax.tree_util.tree_map_with_path(
            lambda path, _: getattr(path[-1], "key", "") in ("kernel", "experts_in", "experts_out"), tree
        )

    return optax.chain(
        optax.clip_by_global_norm(config.clip_norm),
        optax.adamw(schedule, b1=config.adam_b1, b2=config.adam_b2, eps=config.adam_eps,
                    weight_decay=config.weight_decay, mask=kernels_only),
    )


def learning_rate(config: TrainConfig, step: int) -> float:
    """The schedule's learning rate at ``step`` (for the metrics log)."""
    return float(optax.warmup_cosine_decay_schedule(0.0, config.learning_rate, config.warmup_steps, config.steps, config.end_learning_rate)(step))


def create_state(model: IMPModel, recipe: Recipe, params: dict[str, Any], seed: int) -> train_state.TrainState:
    """A fresh training state (parameters initialised from ``seed``)."""
    batch = {k: jnp.asarray(v) for k, v in dummy_batch(params).items()}
    variables = model.init({"params": jax.random.key(seed), "droptoken": jax.random.key(seed + 1)}, batch)
    state = train_state.TrainState.create(apply_fn=model.apply, params=variables["params"], tx=make_optimizer(recipe.train))
    # A strongly typed step counter: a weakly typed Python 0 would give the first update another
    # input signature than later ones, and so a second compilation.
    return state.replace(step=jnp.zeros((), jnp.int32))


def manager(directory: Path, save_every: int) -> ocp.CheckpointManager:
    """A checkpoint manager that keeps every checkpoint (checkpoint selection scores them all)."""
    options = ocp.CheckpointManagerOptions(save_interval_steps=save_every, max_to_keep=None, create=True)
    return ocp.CheckpointManager(directory.resolve(), options=options)


def restore(directory: Path, step: int, abstract_state: train_state.TrainState) -> train_state.TrainState:
    """Restores the state saved at ``step`` (shapes and shardings from ``abstract_state``)."""
    if not (directory / str(step)).exists():
        raise FileNotFoundError(f"{directory / str(step)}: checkpoint missing; re-run `imprepro train`")
    with ocp.CheckpointManager(directory.resolve()) as mngr:
        return mngr.restore(step, args=ocp.args.StandardRestore(abstract_state))


def fingerprint(*parts: Any) -> str:
    """A short stable hash of everything that defines a training run (its checkpoint folder name)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def digest_dir(directory: Path) -> str:
    """sha256 over a checkpoint folder's files (names and bytes), for the train manifest."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
