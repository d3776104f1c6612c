"""IMP: one Transformer encoder shared by image, video, audio and text.

Modality-specific parts are minimal: an input embedding per modality, then the shared encoder
(dense layers followed by ``num_moe_layers`` MoE layers), global average pooling over the
non-padding tokens and a projection head per modality into the common space (L2-normalised).
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from imprepro.model.config import ModelConfig
from imprepro.model.embeddings import AudioEmbed, TextEmbed, VisionEmbed
from imprepro.model.moe import MoeMlp

MODALITIES = ("image", "video", "audio", "text")
_INIT = nn.initializers.normal(stddev=0.02)


class Block(nn.Module):
    """Pre-LayerNorm Transformer block; the feed-forward part is dense or MoE."""

    config: ModelConfig
    moe: bool
    mesh: Mesh | None = None

    @nn.compact
    def __call__(self, x: jnp.ndarray, mask: jnp.ndarray | None) -> jnp.ndarray:
        c = self.config
        dtype = jnp.dtype(c.dtype)
        attention_mask = None if mask is None else nn.make_attention_mask(mask, mask)
        y = nn.LayerNorm(dtype=dtype, name="attention_norm")(x)
        y = nn.MultiHeadDotProductAttention(
            num_heads=c.num_heads, dtype=dtype, kernel_init=_INIT, normalize_qk=c.qk_layernorm, name="attention"
        )(y, y, mask=attention_mask)
        x = x + y
        y = nn.LayerNorm(dtype=dtype, name="mlp_norm")(x)
        if self.moe:
            y = MoeMlp(c.num_experts, c.mlp_dim, c.capacity_factor, c.router_group_size, self.mesh, dtype, name="moe")(y)
        else:
            y = nn.Dense(c.mlp_dim, dtype=dtype, kernel_init=_INIT, name="mlp_in")(y)
            y = nn.Dense(c.width, dtype=dtype, kernel_init=_INIT, name="mlp_out")(nn.gelu(y))
        return x + y


class Encoder(nn.Module):
    """The shared stack: ``depth`` blocks, the last ``num_moe_layers`` of them MoE."""

    config: ModelConfig
    mesh: Mesh | None = None

    @nn.compact
    def __call__(self, x: jnp.ndarray, mask: jnp.ndarray | None) -> jnp.ndarray:
        c = self.config
        for layer in range(c.depth):
            moe = layer >= c.depth - c.num_moe_layers
            x = Block(c, moe, self.mesh, name=f"layer{layer}")(x, mask)
        return nn.LayerNorm(name="final_norm")(x)


class IMPModel(nn.Module):
    """Maps a batch {modality: array} to L2-normalised embeddings {modality: [B, embed_dim]}.

    Also owns one learnable temperature per modality pair (``temperature_<a>_<b>``), used by the
    contrastive objective through :meth:`logit_scale`.
    """

    config: ModelConfig
    mesh: Mesh | None = None

    def setup(self):
        c = self.config
        self.vision = VisionEmbed(c)
        self.audio = AudioEmbed(c)
        self.text = TextEmbed(c)
        self.encoder = Encoder(c, self.mesh)
        self.heads = {m: nn.Dense(c.embed_dim, kernel_init=_INIT, name=f"head_{m}") for m in MODALITIES}
        init = np.log(1.0 / c.temperature_init)
        self.log_scales = {
            pair: self.param(f"temperature_{pair}", nn.initializers.constant(init), ())
            for pair in ("image_text", "video_text", "audio_text")
        }

    def logit_scale(self, pair: str) -> jnp.ndarray:
        """exp(learned log-scale) = 1 / temperature, capped at 100 as in CLIP."""
        return jnp.minimum(jnp.exp(self.log_scales[pair]), 100.0)

    def encode(self, modality: str, inputs: jnp.ndarray, train: bool = False) -> jnp.ndarray:
        """Embeds one modality's batch into the common space."""
        mask = None
        if modality == "text":
            tokens, mask = self.text(inputs), inputs > 0
        elif modality == "audio":
            tokens = self.audio(inputs)
        else:
            tokens = self.vision(inputs)
            if modality == "video" and train and self.config.video_drop_token > 0:
                tokens = self.drop_tokens(tokens, self.config.video_drop_token)
        hidden = self.encoder(tokens.astype(jnp.dtype(self.config.dtype)), mask)
        if mask is None:
            pooled = hidden.mean(axis=1)
        else:
            weights = mask[..., None].astype(hidden.dtype)
            pooled = (hidden * weights).sum(axis=1) / jnp.maximum(weights.sum(axis=1), 1.0)
        embedding = self.heads[modality](pooled.astype(jnp.float32))
        return embedding / jnp.linalg.norm(embedding, axis=-1, keepdims=True).clip(1e-6)

    def drop_tokens(self, tokens: jnp.ndarray, rate: float) -> jnp.ndarray:
        """DropToken: keeps a random (1 - rate) share of each example's tokens."""
        import jax

        b, n, _ = tokens.shape
        keep = max(1, int(round(n * (1 - rate))))
        scores = jax.random.uniform(self.make_rng("droptoken"), (b, n))
        index = jnp.argsort(scores, axis=1)[:, :keep]
        return jnp.take_along_axis(tokens, index[..., None], axis=1)

    def __call__(self, batch: dict[str, jnp.ndarray], train: bool = False) -> dict[str, jnp.ndarray]:
        embeddings = {m: self.encode(m, batch[m], train) for m in MODALITIES if m in batch}
        # Touch every temperature so that init creates all of them whatever the batch holds.
        embeddings["logit_scales"] = {pair: self.logit_scale(pair) for pair in self.log_scales}
        return embeddings
