import jax
import jax.numpy as jnp
import numpy as np
import pytest

from imprepro.model import IMPModel, ModelConfig
from imprepro.model.embeddings import bucket
from imprepro.model.moe import MoeMlp, experts_choice, group_tokens

TINY = ModelConfig(width=32, depth=2, num_heads=2, mlp_dim=64, num_experts=4, num_moe_layers=1, embed_dim=16, vocab_size=50)


def batch(b=4):
    rng = np.random.default_rng(0)
    return {
        "image": rng.integers(0, 256, (b, 32, 32, 3), dtype=np.int32),
        "video": rng.integers(0, 256, (b, 8, 32, 32, 3), dtype=np.int32),
        "audio": rng.normal(size=(b, 30, 64)).astype(np.float32),
        "text": rng.integers(1, 50, (b, 16), dtype=np.int32),
    }


def test_every_modality_embeds_to_unit_vectors():
    model = IMPModel(TINY)
    variables = model.init(jax.random.key(0), batch())
    out = model.apply(variables, batch())
    for modality in ("image", "video", "audio", "text"):
        assert out[modality].shape == (4, 16)
        np.testing.assert_allclose(np.linalg.norm(out[modality], axis=-1), 1.0, rtol=1e-5)
    assert set(out["logit_scales"]) == {"image_text", "video_text", "audio_text"}


def test_positions_bucket_any_resolution_onto_the_same_table():
    model = IMPModel(TINY)
    variables = model.init(jax.random.key(0), batch())
    small = model.apply(variables, {"image": batch()["image"]})["image"]
    large = model.apply(variables, {"image": np.zeros((2, 64, 48, 3), np.int32)})["image"]
    assert small.shape[1] == large.shape[1] == 16
    assert list(bucket(4, 16)) == [0, 4, 8, 12]
    assert list(bucket(16, 16)) == list(range(16))


def test_text_padding_does_not_change_the_embedding():
    model = IMPModel(TINY)
    variables = model.init(jax.random.key(0), batch())
    ids = np.array([[5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], np.int32)
    other_padding = ids.copy()
    other_padding[0, 3:] = 0
    a = model.apply(variables, {"text": ids})["text"]
    shorter = model.apply(variables, {"text": ids[:, :8]})["text"]
    assert a.shape == shorter.shape
    np.testing.assert_allclose(a, model.apply(variables, {"text": other_padding})["text"], atol=1e-6)


def test_experts_choice_gives_every_expert_exactly_its_capacity():
    probs = jax.nn.softmax(jax.random.normal(jax.random.key(1), (3, 12, 4)), axis=-1)
    gates, dispatch = experts_choice(probs, capacity=3)
    assert gates.shape == (3, 4, 3) and dispatch.shape == (3, 4, 3, 12)
    np.testing.assert_allclose(dispatch.sum(axis=-1), 1.0)  # each slot holds one token
    # the chosen tokens are each expert's highest-probability tokens
    chosen = np.asarray(dispatch.argmax(-1))
    for g in range(3):
        for e in range(4):
            best = np.sort(np.argsort(-np.asarray(probs[g, :, e]))[:3])
            assert sorted(chosen[g, e]) == list(best)


def test_moe_layer_matches_a_per_expert_reference():
    layer = MoeMlp(num_experts=2, mlp_dim=8, capacity_factor=1.0, group_size=4)
    x = jax.random.normal(jax.random.key(2), (2, 4, 6))
    variables = layer.init(jax.random.key(3), x)
    out, state = layer.apply(variables, x, mutable=["intermediates"])
    p = variables["params"]
    probs = jax.nn.softmax(x @ p["router"], axis=-1)  # groups are whole examples here
    expected = np.zeros_like(np.asarray(x))
    for b in range(2):
        for e in range(2):
            top = np.argsort(-np.asarray(probs[b, :, e]))[:2]
            for t in top:
                h = jax.nn.gelu(x[b, t] @ p["experts_in"][e]) @ p["experts_out"][e]
                expected[b, t] += float(probs[b, t, e]) * np.asarray(h)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert float(state["intermediates"]["router_z_loss"][0]) > 0


def test_group_tokens_keeps_whole_examples():
    groups, per_group = group_tokens(jnp.zeros((6, 5, 3)), group_size=12)
    assert per_group == 2 and groups.shape == (3, 10, 3)
    groups, per_group = group_tokens(jnp.zeros((5, 5, 3)), group_size=12)
    assert per_group == 1 and groups.shape == (5, 5, 3)


def test_vision_input_must_fit_the_tubelet():
    model = IMPModel(TINY)
    variables = model.init(jax.random.key(0), batch())
    with pytest.raises(ValueError, match="tubelet"):
        model.apply(variables, {"video": np.zeros((1, 3, 32, 32, 3), np.int32)})
