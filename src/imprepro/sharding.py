"""The device mesh (axes ``data`` and ``expert``) and how parameters and batches lie on it.

Batches are split over both axes (tokens are sharded over (data, expert), as in the paper's
configs); MoE expert weights are split over ``expert``; everything else is replicated. With one
device this is plain single-device training; on a cluster, :func:`initialize_distributed`
joins the processes through ``jax.distributed`` first.
"""

from __future__ import annotations

import math
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

BATCH_AXES = ("data", "expert")
EXPERT_PARAMS = ("experts_in", "experts_out")


def initialize_distributed() -> None:
    """Joins a multi-process JAX job when the launcher says so (no-op for a single process).

    Reads JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID; on TPU pods and SLURM,
    setting only IMPREPRO_DISTRIBUTED=1 lets JAX detect them itself.
    """
    if os.environ.get("JAX_COORDINATOR_ADDRESS"):
        jax.distributed.initialize(
            coordinator_address=os.environ["JAX_COORDINATOR_ADDRESS"],
            num_processes=int(os.environ["JAX_NUM_PROCESSES"]),
            process_id=int(os.environ["JAX_PROCESS_ID"]),
        )
    elif os.environ.get("IMPREPRO_DISTRIBUTED") == "1":
        jax.distributed.initialize()


def make_mesh(expert_parallelism: int, num_experts: int, devices: list | None = None) -> Mesh:
    """A (data, expert) mesh over all devices; the expert axis is as large as both the requested
    parallelism and the expert count allow (it must divide both and the device count)."""
    devices = devices if devices is not None else jax.devices()
    n = len(devices)
    experts = math.gcd(math.gcd(max(1, expert_parallelism), max(1, num_experts)), n)
    return Mesh(np.asarray(devices).reshape(n // experts, experts), BATCH_AXES)


def param_spec(path: tuple, leaf) -> P:
    """Expert weights split on their leading (expert) axis; all other parameters replicated."""
    names = [getattr(k, "key", getattr(k, "name", str(k))) for k in path]
    if names and names[-1] in EXPERT_PARAMS and getattr(leaf, "ndim", 0) == 3:
        return P("expert", None, None)
    return P()


def tree_shardings(mesh: Mesh, tree):
    """NamedShardings for a tree of parameters (or optimizer state shaped like them)."""
    return jax.tree_util.tree_map_with_path(lambda path, leaf: NamedSharding(mesh, param_spec(path, leaf)), tree)


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over every device."""
    return NamedSharding(mesh, P(BATCH_AXES))


def put_batch(mesh: Mesh, batch: dict[str, np.ndarray]) -> dict[str, jax.Array]:
    """Places this process's share of a batch on the mesh as global arrays."""
    sharding = batch_sharding(mesh)
    return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in batch.items()}
