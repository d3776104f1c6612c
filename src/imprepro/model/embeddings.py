"""Modality-specific inputs: tubelets for images and video, spectrogram patches, text tokens.

Positional embeddings are learned and factorised (temporal + vertical + horizontal). Token
coordinates are normalised to [0, 1) and bucketed into fixed-size tables, so any resolution or
frame count maps onto the same parameters (what makes multi-resolution training possible).
"""

from __future__ import annotations

import jax.numpy as jnp
import flax.linen as nn

from imprepro.model.config import ModelConfig

_INIT = nn.initializers.normal(stddev=0.02)


def bucket(n: int, table: int) -> jnp.ndarray:
    """Indices into a table of size ``table`` for ``n`` evenly spaced normalised coordinates."""
    return jnp.floor(jnp.arange(n) / n * table).astype(jnp.int32)


class FactorisedPositions(nn.Module):
    """Sum of per-axis learned embeddings over a grid, flattened to [tokens, width]."""

    tables: tuple[int, ...]
    width: int

    @nn.compact
    def __call__(self, grid: tuple[int, ...]) -> jnp.ndarray:
        total = 0.0
        for axis, (n, table) in enumerate(zip(grid, self.tables)):
            emb = self.param(f"axis{axis}", _INIT, (table, self.width))[bucket(n, table)]
            shape = [1] * len(grid) + [self.width]
            shape[axis] = n
            total = total + emb.reshape(shape)
        return jnp.reshape(total, (-1, self.width))


class VisionEmbed(nn.Module):
    """Images [B,H,W,3] or videos [B,T,H,W,3] (int pixels) -> tokens [B, N, width]."""

    config: ModelConfig

    @nn.compact
    def __call__(self, pixels: jnp.ndarray) -> jnp.ndarray:
        c = self.config
        pt, ph, pw = c.vision_patch
        x = pixels.astype(jnp.float32) / 127.5 - 1.0
        if c.standardize_pixels:  # per example: plain backgrounds then carry no signal
            axes = tuple(range(1, x.ndim))
            x = (x - x.mean(axis=axes, keepdims=True)) / (x.std(axis=axes, keepdims=True) + 1e-3)
        if x.ndim == 4:  # an image: repeat it to fill one tubelet in time
            x = jnp.repeat(x[:, None], pt, axis=1)
        b, t, h, w, ch = x.shape
        if t % pt or h % ph or w % pw:
            raise ValueError(f"vision input {x.shape[1:4]} is not divisible by the tubelet {c.vision_patch}")
        grid = (t // pt, h // ph, w // pw)
        x = x.reshape(b, grid[0], pt, grid[1], ph, grid[2], pw, ch)
        x = x.transpose(0, 1, 3, 5, 2, 4, 6, 7).reshape(b, -1, pt * ph * pw * ch)
        x = nn.Dense(c.width, kernel_init=_INIT, name="tubelet")(x)
        x = x + FactorisedPositions(c.max_positions, c.width, name="positions")(grid)
        # LayerNorm after adding positions: content and position enter the encoder at one scale.
        return nn.LayerNorm(name="norm")(x)


class AudioEmbed(nn.Module):
    """Log-mel spectrograms [B, frames, mel] -> tokens [B, N, width]; extra frames are cropped."""

    config: ModelConfig

    @nn.compact
    def __call__(self, spectrogram: jnp.ndarray) -> jnp.ndarray:
        c = self.config
        pf, pm = c.audio_patch
        b, f, m = spectrogram.shape
        if m % pm or f < pf:
            raise ValueError(f"audio input {spectrogram.shape[1:]} does not fit the patch {c.audio_patch}")
        grid = (f // pf, m // pm)
        # Standardise each clip: log-mel values sit far from zero and vary with recording level.
        mean = spectrogram.mean(axis=(1, 2), keepdims=True)
        spectrogram = (spectrogram - mean) / (spectrogram.std(axis=(1, 2), keepdims=True) + 1e-5)
        x = spectrogram[:, : grid[0] * pf].reshape(b, grid[0], pf, grid[1], pm)
        x = x.transpose(0, 1, 3, 2, 4).reshape(b, -1, pf * pm)
        x = nn.Dense(c.width, kernel_init=_INIT, name="patch")(x)
        x = x + FactorisedPositions(c.max_positions[1:], c.width, name="positions")(grid)
        return nn.LayerNorm(name="norm")(x)


class TextEmbed(nn.Module):
    """Token ids [B, L] -> tokens [B, L, width]."""

    config: ModelConfig

    @nn.compact
    def __call__(self, ids: jnp.ndarray) -> jnp.ndarray:
        c = self.config
        x = nn.Embed(c.vocab_size, c.width, embedding_init=_INIT, name="tokens")(ids)
        x = x + FactorisedPositions((c.text_length,), c.width, name="positions")((ids.shape[1],))
        return nn.LayerNorm(name="norm")(x)
