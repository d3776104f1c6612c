"""Model hyper-parameters, bound from gin files (configs/*.gin)."""

from __future__ import annotations

import dataclasses

import gin


@gin.configurable
@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Sizes of the IMP encoder. Paper sizes: configs/imp_b.gin, imp_moe_b.gin, imp_moe_l.gin."""

    width: int = 128
    depth: int = 4
    num_heads: int = 4
    mlp_dim: int = 512
    num_experts: int = 4           # experts per MoE layer
    num_moe_layers: int = 1        # the last N layers are MoE layers (0 = dense model)
    capacity_factor: float = 1.0   # experts-choice: each expert takes capacity_factor * tokens / experts
    router_group_size: int = 2048  # tokens routed together (whole examples per group)
    qk_layernorm: bool = True      # LayerNorm on queries and keys (the paper enables it for MoE)
    embed_dim: int = 128           # the common space of the projection heads
    vocab_size: int = 1000         # replaced by the real vocabulary size at run time
    text_length: int = 16
    vision_patch: tuple = (2, 8, 8)  # tubelet (frames, height, width); images repeat to fill frames
    audio_patch: tuple = (8, 8)      # spectrogram patch (time frames, mel bins)
    max_positions: tuple = (8, 16, 16)  # bucket table sizes (temporal, vertical, horizontal)
    standardize_pixels: bool = False  # zero mean, unit variance per image/clip before the tubelets
    video_drop_token: float = 0.0  # DropToken rate on video tokens while training (paper: 0.75)
    temperature_init: float = 0.07
    dtype: str = "float32"         # activation dtype ("bfloat16" on accelerators)
