"""Loads and validates ``params.yaml``, the pipeline's one source of truth.

Every stage calls :func:`load_params` first, so a typo or a wrong type stops the run at once with
a message that names the file and the key, before any work is done.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PARAMS = "params.yaml"

# key -> expected type (a tuple means any of them; a dict means a nested section).
_NUMBER = (int, float)
SCHEMA: dict[str, Any] = {
    "seed": int,
    "sources": dict,
    "prepare": {
        "image_size": int,
        "video_frames": int,
        "clips_per_image": int,
        "audio_sample_rate": int,
        "audio_seconds": _NUMBER,
        "validation_percent": int,
        "test_percent": int,
        "max_items": int,
    },
    "vocab": {"size": int, "t5_model_file": str},
    "tokenize": {"text_length": int, "mel_bins": int, "stft_frame": int, "stft_hop": int},
    "train": {
        "gin_files": list,
        "gin_bindings": list,
        "tasks": dict,
        "checkpoint_every": int,
        "log_every": int,
    },
    "select": {"metric": str, "max_examples": int, "batch_size": int},
    "evaluate": {"benchmarks": list, "batch_size": int, "prompts": dict},
}
SOURCE_KEYS = {"version": str, "sha256": str, "licence": str}
POSITIVE = {
    "prepare.image_size", "prepare.video_frames", "prepare.clips_per_image",
    "prepare.audio_sample_rate", "prepare.audio_seconds", "vocab.size", "tokenize.text_length",
    "tokenize.mel_bins", "tokenize.stft_frame", "tokenize.stft_hop", "train.checkpoint_every",
    "train.log_every", "select.max_examples", "select.batch_size", "evaluate.batch_size",
}


class ConfigError(ValueError):
    """A problem in params.yaml or a gin file, with the file and key in the message."""


def load_params(path: str | os.PathLike = DEFAULT_PARAMS) -> dict[str, Any]:
    """Reads and validates params.yaml; raises ConfigError naming the file and key."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: parameters file not found")
    try:
        params = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    validate_params(params, str(path))
    return params


def validate_params(params: Any, where: str = DEFAULT_PARAMS) -> None:
    """Checks keys, types and value ranges; the first problem found raises ConfigError."""
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    _check_section(params, SCHEMA, "", where)
    for name, source in params["sources"].items():
        _check_section(source, SOURCE_KEYS, f"sources.{name}.", where)
        if len(source["sha256"]) != 64:
            raise ConfigError(f"{where}: sources.{name}.sha256 must be 64 hex digits")
    prep = params["prepare"]
    if prep["validation_percent"] + prep["test_percent"] >= 100 or min(
        prep["validation_percent"], prep["test_percent"]
    ) < 1:
        raise ConfigError(
            f"{where}: prepare.validation_percent and prepare.test_percent must each be >= 1 "
            "and leave room for a training split"
        )
    if prep["video_frames"] % 2:
        raise ConfigError(f"{where}: prepare.video_frames must be even (tubelets span 2 frames)")
    _check_names(params, where)
    tasks = params["train"]["tasks"]
    for name, weight in tasks.items():
        if not isinstance(weight, _NUMBER) or weight < 0:
            raise ConfigError(f"{where}: train.tasks.{name} must be a weight >= 0, got {weight!r}")
    if sum(tasks.values()) <= 0:
        raise ConfigError(f"{where}: train.tasks weights must not all be zero")
    for modality in ("image", "video", "audio"):
        prompts = params["evaluate"]["prompts"].get(modality)
        if not prompts or not all(isinstance(p, str) and "{}" in p for p in prompts):
            raise ConfigError(
                f"{where}: evaluate.prompts.{modality} must be a list of templates containing '{{}}'"
            )
    for gin_file in params["train"]["gin_files"]:
        if not Path(gin_file).exists():
            raise ConfigError(f"{where}: train.gin_files names {gin_file}, which does not exist")


def _check_names(params: dict[str, Any], where: str) -> None:
    """Names in params.yaml must be ones the suite knows: a typo fails here, not hours later."""
    from imprepro.sources import MEMBERS
    from imprepro.suite import BENCHMARKS, EVAL_ONLY_TASKS, SELECT_METRICS, TASKS

    trainable = [t for t in TASKS if t not in EVAL_ONLY_TASKS]
    benchmarks = params["evaluate"]["benchmarks"]
    checks = [
        ("sources", list(params["sources"]), list(MEMBERS)),
        ("train.tasks", list(params["train"]["tasks"]), trainable),
        ("evaluate.benchmarks", benchmarks, list(BENCHMARKS)),
        ("select.metric", [params["select"]["metric"]], list(SELECT_METRICS)),
    ]
    for key, names, known in checks:
        if not names:
            raise ConfigError(f"{where}: {key} must name at least one of: {', '.join(known)}")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"{where}: {key}: unknown {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    if len(set(benchmarks)) != len(benchmarks):
        raise ConfigError(f"{where}: evaluate.benchmarks lists a benchmark twice")


def _check_section(section: Any, schema: dict[str, Any], prefix: str, where: str) -> None:
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: '{prefix.rstrip('.')}' must be a mapping")
    for key, expected in schema.items():
        full = f"{prefix}{key}"
        if key not in section:
            raise ConfigError(f"{where}: missing key '{full}'")
        value = section[key]
        if isinstance(expected, dict):
            _check_section(value, expected, f"{full}.", where)
            continue
        if isinstance(value, bool) or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            raise ConfigError(f"{where}: '{full}' must be {names}, got {value!r}")
        if full in POSITIVE and value <= 0:
            raise ConfigError(f"{where}: '{full}' must be positive, got {value!r}")
    unknown = sorted(set(section) - set(schema))
    if unknown and schema is not SCHEMA["sources"]:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(prefix + k for k in unknown)}")
