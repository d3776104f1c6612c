"""Mixture-of-Experts MLP with experts-choose-tokens routing (the IMP code's default router).

Tokens are routed in groups (whole examples, up to ``router_group_size`` tokens). Every expert
picks its top ``capacity = capacity_factor * group / experts`` tokens by router probability, so
the load is balanced by construction (no load-balance loss is needed); the router z-loss is
reported for the objective. Expert weights carry a leading expert axis that the ``expert`` mesh
axis shards.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

_INIT = nn.initializers.normal(stddev=0.02)


def group_tokens(x: jnp.ndarray, group_size: int) -> tuple[jnp.ndarray, int]:
    """[B, N, D] -> [groups, G, D] with G = k * N for the largest k dividing B and G <= group_size."""
    b, n, d = x.shape
    k = max(1, min(b, group_size // n))
    while b % k:
        k -= 1
    return x.reshape(b // k, k * n, d), k


def experts_choice(router_probs: jnp.ndarray, capacity: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """For probabilities [g, S, E] returns (gates [g, E, C], dispatch one-hot [g, E, C, S])."""
    per_expert = jnp.swapaxes(router_probs, 1, 2)  # [g, E, S]
    gates, index = jax.lax.top_k(per_expert, capacity)
    dispatch = jax.nn.one_hot(index, router_probs.shape[1], dtype=router_probs.dtype)
    return gates, dispatch


class MoeMlp(nn.Module):
    """Experts-choice MoE feed-forward layer (drop-in for the dense MLP)."""

    num_experts: int
    mlp_dim: int
    capacity_factor: float = 1.0
    group_size: int = 2048
    mesh: Mesh | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        b, n, d = x.shape
        groups, _ = group_tokens(x, self.group_size)
        g, s, _ = groups.shape
        capacity = max(1, math.ceil(self.capacity_factor * s / self.num_experts))
        # The router runs in float32, without bias, as in the paper's code.
        router = self.param("router", _INIT, (d, self.num_experts), jnp.float32)
        logits = jnp.einsum("gsd,de->gse", groups.astype(jnp.float32), router)
        probs = jax.nn.softmax(logits, axis=-1)
        gates, dispatch = experts_choice(probs, capacity)
        z_loss = jnp.mean(jax.nn.logsumexp(logits, axis=-1) ** 2)
        self.sow("intermediates", "router_z_loss", z_loss)
        covered = jnp.clip(dispatch.sum(axis=(1, 2)), 0, 1).mean()  # tokens seen by >= 1 expert
        self.sow("intermediates", "token_coverage", covered)

        expert_in = jnp.einsum("gecs,gsd->gecd", dispatch.astype(self.dtype), groups.astype(self.dtype))
        expert_in = self._shard(expert_in)
        w_in = self.param("experts_in", _INIT, (self.num_experts, d, self.mlp_dim))
        w_out = self.param("experts_out", _INIT, (self.num_experts, self.mlp_dim, d))
        hidden = nn.gelu(jnp.einsum("gecd,edh->gech", expert_in, w_in.astype(self.dtype)))
        expert_out = self._shard(jnp.einsum("gech,ehd->gecd", hidden, w_out.astype(self.dtype)))
        combined = jnp.einsum("gecs,gec,gecd->gsd", dispatch.astype(self.dtype), gates.astype(self.dtype), expert_out)
        return combined.reshape(b, n, d)

    def _shard(self, x: jnp.ndarray) -> jnp.ndarray:
        """Places the expert axis of [g, E, C, D] on the mesh's ``expert`` axis (groups on ``data``)."""
        if self.mesh is None:
            return x
        groups_axis = "data" if x.shape[0] % self.mesh.shape["data"] == 0 else None
        return jax.lax.with_sharding_constraint(x, NamedSharding(self.mesh, P(groups_axis, "expert", None, None)))
