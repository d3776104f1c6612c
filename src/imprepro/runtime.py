"""What the train, select and evaluate stages share: recipe, tasks, mesh and model."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import jax
import tensorflow as tf
from jax.sharding import Mesh

from imprepro.model import IMPModel
from imprepro.recipe import Recipe, load_recipe
from imprepro.sharding import make_mesh
from imprepro.tasks import register_tasks


@dataclasses.dataclass
class Runtime:
    params: dict[str, Any]
    recipe: Recipe
    mesh: Mesh
    model: IMPModel
    vocabulary: Any


def limit_tf_threads(threads: int = 1) -> None:
    """tf.data only feeds JAX here: keep it from competing for the few CPU cores."""
    try:
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised in this process
        pass
    tf.config.set_visible_devices([], "GPU")  # TensorFlow must not claim accelerator memory


def enable_compilation_cache(directory: str | None = None) -> None:
    """Keeps compiled XLA programs on disk, so select/evaluate/re-runs skip recompiling.

    Folder: $IMPREPRO_JAX_CACHE, else data/jax_cache (not an output of any stage).
    """
    directory = directory or os.environ.get("IMPREPRO_JAX_CACHE", "data/jax_cache")
    jax.config.update("jax_compilation_cache_dir", str(Path(directory).resolve()))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def setup(params: dict[str, Any], cache: Path, vocab: Path) -> Runtime:
    """Loads the gin recipe (vocabulary size and text length from the data), registers the seqio
    tasks over the materialised cache and builds the mesh and model."""
    limit_tf_threads()
    enable_compilation_cache()
    tasks = register_tasks(params, vocab, cache_dir=cache)
    vocabulary = next(iter(tasks.values())).output_features["text"].vocabulary
    recipe = load_recipe(
        params["train"]["gin_files"],
        params["train"]["gin_bindings"],
        overrides={"vocab_size": vocabulary.vocab_size, "text_length": params["tokenize"]["text_length"]},
    )
    mesh = make_mesh(recipe.train.expert_parallelism, recipe.model.num_experts)
    return Runtime(params, recipe, mesh, IMPModel(recipe.model, mesh), vocabulary)


def device_summary() -> dict[str, Any]:
    """The devices this process sees, for manifests and the report."""
    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "count": len(devices),
        "kind": devices[0].device_kind,
        "processes": jax.process_count(),
    }
