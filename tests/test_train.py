"""Training on the tiny workspace: real orbax checkpoints, resume, selection and evaluation."""

import json
import shutil

import jax
import numpy as np

from imprepro.evaluate import evaluate
from imprepro.select import select
from imprepro.train import symmetric_nce, train


def test_nce_is_low_for_matching_pairs_and_symmetric():
    a = np.eye(4, dtype=np.float32)
    assert float(symmetric_nce(a, a, 20.0)) < 0.01
    shuffled = a[::-1]
    assert float(symmetric_nce(a, shuffled, 20.0)) > 5
    b = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
    assert np.isclose(float(symmetric_nce(a, b, 3.0)), float(symmetric_nce(b, a, 3.0)), rtol=1e-5)


def test_nce_treats_identical_captions_as_positives():
    # Rows 0 and 1 share a caption and an embedding: plain NCE can never fit them, the
    # caption-aware targets can (both rows put half their mass on each of the two matches).
    a = np.array([[1, 0], [1, 0], [0, 1]], np.float32)
    text = np.array([[5, 1], [5, 1], [7, 1]], np.int32)
    plain = float(symmetric_nce(a, a, 50.0))
    shared = float(symmetric_nce(a, a, 50.0, text))
    assert np.isclose(plain, 2 / 3 * np.log(2), rtol=1e-3)
    assert np.isclose(shared, 2 / 3 * np.log(2), rtol=1e-3)  # the entropy of the 50/50 targets
    # ...but a model that tells the two apart is rewarded only by plain NCE
    apart = np.array([[1, 0.1], [1, -0.1], [0, 1]], np.float32)
    apart /= np.linalg.norm(apart, axis=1, keepdims=True)
    assert float(symmetric_nce(apart, apart, 50.0)) < plain
    assert float(symmetric_nce(apart, apart, 50.0, text)) > shared
    # unique captions: both forms agree
    unique = np.array([[1, 1], [2, 1], [3, 1]], np.int32)
    assert np.isclose(float(symmetric_nce(a, a[::-1], 3.0)), float(symmetric_nce(a, a[::-1], 3.0, unique)), rtol=1e-6)


def test_train_resume_select_evaluate(workspace, tmp_path):
    root, params = workspace["root"], workspace["params"]
    cache, vocab, ckpts = root / "cache", root / "vocab", tmp_path / "checkpoints"
    assert len(jax.devices()) == 8

    short = dict(params, train=dict(params["train"], gin_bindings=["TrainConfig.steps = 4"]))
    first = train(short, cache, vocab, ckpts, tmp_path / "train_a")
    assert [c["step"] for c in first["checkpoints"]] == [4]
    assert first["mesh"] == {"data": 2, "expert": 4}

    # Same configuration but more steps is another run; the same configuration resumes.
    manifest = train(params, cache, vocab, ckpts, tmp_path / "train")
    assert manifest["resumed_from"] == 0 and [c["step"] for c in manifest["checkpoints"]] == [4, 8]
    compiles = manifest["compiles_per_signature_this_invocation"]
    assert all(n <= 1 for n in compiles.values()) and sum(compiles.values()) >= 2, compiles  # one per signature used
    shutil.rmtree(ckpts / manifest["run_id"] / "8")
    resumed = train(params, cache, vocab, ckpts, tmp_path / "train")
    assert resumed["resumed_from"] == 4 and resumed["run_id"] == manifest["run_id"]
    assert sum(resumed["task_steps_this_invocation"].values()) == 4 == resumed["steps_this_invocation"]
    assert resumed["task_steps"] == manifest["task_steps"] and sum(resumed["task_steps"].values()) == 8
    records = [json.loads(line) for line in (tmp_path / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 9)), "every step logged once, across the resume"
    assert all(np.isfinite(r["loss"]) for r in records)

    selection = select(params, cache, vocab, tmp_path / "train", tmp_path / "selection.json")
    assert {c["step"] for c in selection["candidates"]} == {4, 8}
    assert selection["step"] in (4, 8) and "highest" in selection["reason"]

    for benchmark in params["evaluate"]["benchmarks"]:
        result = evaluate(params, benchmark, cache, vocab, tmp_path / "train", tmp_path / "selection.json", tmp_path / f"{benchmark}.json")
        assert result["checkpoint_step"] == selection["step"] and result["num_examples"] > 0
        for metric, value in result["metrics"].items():
            assert np.isfinite(value) and metric in result["chance"]
        if result["kind"] == "classification":
            assert result["num_prompts"] == len(params["evaluate"]["prompts"][result["modality"]])
