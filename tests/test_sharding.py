"""The mesh and the MoE on eight fake CPU devices (XLA_FLAGS set in conftest)."""

import jax
import numpy as np
import pytest

from imprepro.model import IMPModel, ModelConfig
from imprepro.sharding import make_mesh, put_batch, tree_shardings

CONFIG = ModelConfig(width=32, depth=2, num_heads=2, mlp_dim=64, num_experts=4, num_moe_layers=1, embed_dim=16, vocab_size=50)


def test_eight_devices_are_visible():
    assert len(jax.devices()) == 8


@pytest.mark.parametrize("parallelism, shape", [(4, {"data": 2, "expert": 4}), (1, {"data": 8, "expert": 1}), (3, {"data": 8, "expert": 1})])
def test_mesh_shape(parallelism, shape):
    assert dict(make_mesh(parallelism, num_experts=4).shape) == shape


def test_expert_weights_are_sharded_and_results_match_one_device():
    mesh = make_mesh(4, CONFIG.num_experts)
    batch = {"image": np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.int32)}
    single = IMPModel(CONFIG)
    params = single.init(jax.random.key(0), {**batch, "text": np.ones((8, 16), np.int32)})["params"]
    expected = single.apply({"params": params}, batch)["image"]

    sharded_model = IMPModel(CONFIG, mesh)
    shardings = tree_shardings(mesh, params)
    sharded_params = jax.device_put(params, shardings)
    w = sharded_params["encoder"]["layer1"]["moe"]["experts_in"]
    assert w.sharding.spec[0] == "expert"
    assert len({s.index[0].start for s in w.addressable_shards}) == 4  # four distinct expert slices
    placed = put_batch(mesh, batch)
    assert len(placed["image"].addressable_shards) == 8
    out = jax.jit(lambda p, b: sharded_model.apply({"params": p}, b)["image"])(sharded_params, placed)
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), atol=1e-4)
