"""Training recipes bound from gin files, and the validated loading of those files."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gin

from imprepro.config import ConfigError
from imprepro.model.config import ModelConfig


@gin.configurable
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation and AGD settings (defaults: the tiny CPU recipe, configs/default.gin)."""

    steps: int = 600
    batch_size: int = 32            # global batch, every task
    learning_rate: float = 1e-3     # peak, after warm-up
    warmup_steps: int = 60
    end_learning_rate: float = 1e-5  # cosine decay target
    adam_b1: float = 0.9
    adam_b2: float = 0.999
    adam_eps: float = 1e-7
    weight_decay: float = 1e-4      # on kernels only
    clip_norm: float = 1.0          # global-norm clipping (set but never applied in the paper's code)
    router_z_loss_weight: float = 1e-3
    shared_caption_positives: bool = True  # identical captions in a batch are positives, not negatives
    schedule: str = "random"        # AGD: "random" (paper) or "interval" (official code)
    intervals: dict = dataclasses.field(default_factory=dict)  # task -> every N steps ("interval")
    expert_parallelism: int = 1     # size of the mesh's expert axis (capped by devices and experts)


@dataclasses.dataclass(frozen=True)
class Recipe:
    model: ModelConfig
    train: TrainConfig
    operative_config: str


def load_recipe(gin_files: list[str], gin_bindings: list[str], overrides: dict[str, Any] | None = None) -> Recipe:
    """Parses the gin files and bindings; unknown names or bad values raise ConfigError."""
    gin.clear_config()
    for path in gin_files:
        if not Path(path).exists():
            raise ConfigError(f"gin file {path} does not exist (params.yaml train.gin_files)")
    try:
        gin.parse_config_files_and_bindings(gin_files, gin_bindings)
        model = ModelConfig(**(overrides or {}))
        train = TrainConfig()
    except (ValueError, TypeError, KeyError, SyntaxError) as e:
        raise ConfigError(f"gin files {gin_files} / bindings {gin_bindings}: {e}") from e
    _validate(model, train)
    return Recipe(model, train, gin.config_str())


def _validate(model: ModelConfig, train: TrainConfig) -> None:
    problems = []
    if model.width % model.num_heads:
        problems.append(f"ModelConfig.width {model.width} is not divisible by num_heads {model.num_heads}")
    if not 0 <= model.num_moe_layers <= model.depth:
        problems.append(f"ModelConfig.num_moe_layers must be in [0, depth={model.depth}]")
    if model.num_moe_layers and model.num_experts < 1:
        problems.append("ModelConfig.num_experts must be >= 1 when there are MoE layers")
    if not 0 <= model.video_drop_token < 1:
        problems.append("ModelConfig.video_drop_token must be in [0, 1)")
    if train.steps < 1 or train.batch_size < 1:
        problems.append("TrainConfig.steps and TrainConfig.batch_size must be positive")
    if train.warmup_steps >= train.steps:
        problems.append(f"TrainConfig.warmup_steps ({train.warmup_steps}) must be below steps ({train.steps})")
    if train.schedule not in ("random", "interval"):
        problems.append(f"TrainConfig.schedule must be 'random' or 'interval', got {train.schedule!r}")
    if problems:
        raise ConfigError("; ".join(problems))
