"""The paper recipes build (shapes only, no memory) and have the paper's sizes."""

import jax
import numpy as np
import pytest

from imprepro.model import IMPModel
from imprepro.recipe import load_recipe
from tests.conftest import REPO


def encoder_params(gin_file):
    recipe = load_recipe([str(REPO / "configs" / gin_file)], [])
    c = recipe.model
    batch = {"image": jax.ShapeDtypeStruct((1, 256, 256, 3), np.int32), "text": jax.ShapeDtypeStruct((1, 16), np.int32),
             "video": jax.ShapeDtypeStruct((1, 16, 256, 256, 3), np.int32), "audio": jax.ShapeDtypeStruct((1, 512, 128), np.float32)}
    shapes = jax.eval_shape(lambda b: IMPModel(c).init(jax.random.key(0), b), batch)["params"]
    layers = shapes["encoder"]
    total = sum(x.size for x in jax.tree.leaves(layers))
    experts = sum(x.size for path, x in jax.tree_util.tree_leaves_with_path(layers) if "experts_" in jax.tree_util.keystr(path))
    per_token = total - experts + experts // max(1, c.num_experts)  # experts-choice, capacity 1: one expert per token on average
    return c, total, per_token


@pytest.mark.parametrize(
    "gin_file, depth, width, per_token_m",
    [("imp_b.gin", 12, 768, 85.0), ("imp_moe_b.gin", 12, 768, 85.0), ("imp_moe_l.gin", 24, 1024, 302.0)],
)
def test_paper_sizes(gin_file, depth, width, per_token_m):
    c, total, per_token = encoder_params(gin_file)
    assert (c.depth, c.width) == (depth, width)
    assert abs(per_token / 1e6 - per_token_m) / per_token_m < 0.02, per_token / 1e6
    if c.num_moe_layers:
        assert c.num_experts == 16 and c.num_moe_layers == 6
        # 15 extra expert MLPs in 6 layers: total parameters grow ~6x15 MLPs beyond the dense model
        mlp = 2 * width * c.mlp_dim
        assert total - per_token == pytest.approx(6 * 15 * mlp, rel=0.01)
