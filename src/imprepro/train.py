"""Stage 5, train: AGD pretraining of the IMP encoder with MoE layers on a (data, expert) mesh.

Every step takes ONE task from the AGD schedule (a pure function of seed and step) and updates
all shared parameters with one optimizer. Each task has its own compiled step (one compile per
input signature; nothing else recompiles). Checkpoints go to
``data/checkpoints/<run fingerprint>/`` every ``train.checkpoint_every`` steps; a re-run with the
same configuration resumes from the latest one. The stage's declared output is a small manifest.
"""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path
from typing import Any, Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec as P
from tqdm import tqdm

from imprepro import agd
from imprepro.checkpoints import create_state, digest_dir, fingerprint, learning_rate, manager
from imprepro.io import read_json, sha256_file, timing, write_json, write_text
from imprepro.metrics import caption_matches
from imprepro.runtime import Runtime, device_summary, setup
from imprepro.sharding import initialize_distributed, put_batch, tree_shardings
from imprepro.tasks import load_split, modality_of


def symmetric_nce(a: jnp.ndarray, b: jnp.ndarray, scale: jnp.ndarray, text: jnp.ndarray | None = None) -> jnp.ndarray:
    """Contrastive NCE in both directions over the (global) batch of L2-normalised embeddings.

    With ``text`` (token ids [B, L]), pairs whose captions are identical all count as positives
    (the target mass is shared among them) instead of as negatives of each other: tasks with
    class-name captions, such as spoken digits, otherwise push apart examples that match.
    """
    logits = scale * a @ b.T
    if text is None:
        same = jnp.eye(a.shape[0], dtype=logits.dtype)
    else:
        same = caption_matches(text).astype(logits.dtype)
    targets = same / same.sum(axis=1, keepdims=True)  # `same` is symmetric: one matrix serves both ways
    forward = optax.softmax_cross_entropy(logits, targets).mean()
    backward = optax.softmax_cross_entropy(logits.T, targets).mean()
    return (forward + backward) / 2


def router_z_loss(intermediates: dict) -> jnp.ndarray:
    """Mean router z-loss over the MoE layers (0 for a dense model)."""
    leaves = [v for path, v in jax.tree_util.tree_leaves_with_path(intermediates) if "router_z_loss" in jax.tree_util.keystr(path)]
    return jnp.mean(jnp.stack(leaves)) if leaves else jnp.zeros(())


def make_train_step(rt: Runtime, modality: str, state_shardings=None):
    """The jitted update for tasks pairing ``modality`` with text.

    The state's output shardings are pinned to its input shardings, so that the state a step
    returns never differs in layout from the one it took (which would compile the step again).
    """
    model, z_weight = rt.model, rt.recipe.train.router_z_loss_weight
    shared_positives = rt.recipe.train.shared_caption_positives
    pair = f"{modality}_text"

    def loss_fn(params, batch, rng):
        out, state = model.apply(
            {"params": params}, batch, train=True, rngs={"droptoken": rng}, mutable=["intermediates"]
        )
        text = batch["text"] if shared_positives else None
        nce = symmetric_nce(out[modality], out["text"], out["logit_scales"][pair], text)
        z_loss = router_z_loss(state.get("intermediates", {}))
        return nce + z_weight * z_loss, {"nce": nce, "router_z_loss": z_loss, "scale": out["logit_scales"][pair]}

    def step(state, batch, rng):
        (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, rng)
        metrics = dict(metrics, loss=loss, grad_norm=optax.tree.norm(grads))
        return state.apply_gradients(grads=grads), metrics

    if state_shardings is None:
        return jax.jit(step, donate_argnums=0)
    replicated = NamedSharding(rt.mesh, P())
    return jax.jit(step, donate_argnums=0, out_shardings=(state_shardings, replicated))


def task_batches(task: str, split: str, batch_size: int, text_length: int, seed: int) -> Iterator[dict[str, np.ndarray]]:
    """Endless shuffled batches of one task's materialised split (model inputs only)."""
    modality = modality_of(task)
    ds = load_split(task, split, text_length, shuffle=True, seed=seed).repeat()
    ds = ds.map(lambda ex: {modality: ex[modality], "text": ex["text"]})
    ds = ds.batch(batch_size, drop_remainder=True).prefetch(2)
    return ds.as_numpy_iterator()


def train(params: dict[str, Any], cache: Path, vocab: Path, checkpoints: Path, out: Path) -> dict[str, Any]:
    """Runs (or resumes) AGD pretraining and writes ``out/manifest.json`` and ``out/metrics.jsonl``."""
    start = time.time()
    initialize_distributed()
    rt = setup(params, cache, vocab)
    cfg, seed = rt.recipe.train, params["seed"]
    tasks = {t: w for t, w in params["train"]["tasks"].items() if w > 0}
    schedule_values = tasks if cfg.schedule == "random" else {t: cfg.intervals.get(t, 1) for t in tasks}
    if cfg.batch_size % len(jax.devices()):
        raise ValueError(f"TrainConfig.batch_size {cfg.batch_size} must divide evenly over {len(jax.devices())} devices")

    run_id = run_fingerprint(rt.recipe.operative_config, params, vocab, cache)
    run_dir = checkpoints / run_id
    mngr = manager(run_dir, params["train"]["checkpoint_every"])

    state = create_state(rt.model, rt.recipe, params, seed)
    state_shardings = tree_shardings(rt.mesh, state)
    state = jax.device_put(state, state_shardings)
    start_step = 0
    if mngr.latest_step() is not None:
        import orbax.checkpoint as ocp

        start_step = mngr.latest_step()
        state = mngr.restore(start_step, args=ocp.args.StandardRestore(state))
        print(f"train: resuming run {run_id} from step {start_step}")

    # One compiled step per input signature: tasks that share a modality (and so shapes) share it.
    step_fns = {m: make_train_step(rt, m, state_shardings) for m in sorted({modality_of(t) for t in tasks})}
    streams = {t: task_batches(t, "train", cfg.batch_size, params["tokenize"]["text_length"], seed) for t in tasks}
    metrics_path = run_dir / "metrics.jsonl"
    keep_metrics_until(metrics_path, start_step)
    ran = {t: 0 for t in tasks}
    log_every, checkpoint_every = params["train"]["log_every"], params["train"]["checkpoint_every"]
    pending: list[tuple[int, str, dict]] = []  # metrics stay on device until the next flush
    window_start = time.time()
    with open(metrics_path, "a") as log, tqdm(total=cfg.steps, initial=start_step, desc="train", unit="step") as bar:
        for step in range(start_step + 1, cfg.steps + 1):
            task = agd.task_for_step(cfg.schedule, seed, step, schedule_values)
            batch = put_batch(rt.mesh, next(streams[task]))
            rng = jax.random.fold_in(jax.random.key(seed), step)
            state, metrics = step_fns[modality_of(task)](state, batch, rng)
            pending.append((step, task, metrics))
            ran[task] += 1
            at_checkpoint = step % checkpoint_every == 0 or step == cfg.steps
            if step % log_every == 0 or at_checkpoint:
                # One host transfer per window, so the device never waits for the log; the log
                # is complete up to every checkpoint, which is where a resumed run continues.
                fetched = jax.device_get(pending)  # waits for the window's steps to finish
                rate = len(pending) / max(time.time() - window_start, 1e-9)
                last = write_metrics(log, fetched, cfg, rate)
                pending, window_start = [], time.time()
                bar.set_postfix(task=last["task"], loss=f"{last['loss']:.3f}")
            if at_checkpoint:
                mngr.save(step, args=_save_args(state), force=True)
            bar.update(1)
    mngr.wait_until_finished()
    saved = sorted(mngr.all_steps())
    mngr.close()

    log_text = metrics_path.read_text()
    records = [json.loads(line) for line in log_text.splitlines() if line.strip()]
    manifest = {
        "run_id": run_id,
        "checkpoint_dir": str(run_dir),
        "steps": cfg.steps,
        "resumed_from": start_step,
        "steps_this_invocation": cfg.steps - start_step,
        "checkpoints": [{"step": s, "sha256": digest_dir(run_dir / str(s))} for s in saved],
        "task_steps": dict(collections.Counter(r["task"] for r in records)),
        "task_steps_this_invocation": ran,
        "compiles_per_signature_this_invocation": {m: fn._cache_size() for m, fn in step_fns.items()},
        "parameters": int(sum(x.size for x in jax.tree.leaves(state.params))),
        "mesh": dict(rt.mesh.shape),
        "devices": device_summary(),
        "recipe": rt.recipe.operative_config,
        **timing(start),
    }
    write_text(out / "metrics.jsonl", log_text)
    write_json(out / "manifest.json", manifest)
    print(f"train: {cfg.steps} steps, {len(saved)} checkpoints in {run_dir}")
    return manifest


def write_metrics(log, window: list[tuple[int, str, dict]], cfg, steps_per_s: float) -> dict[str, Any]:
    """Appends one JSON line per step of a window of fetched metrics; returns the last record."""
    record: dict[str, Any] = {}
    for step, task, metrics in window:
        record = {"step": step, "task": task, **{k: float(v) for k, v in metrics.items()},
                  "learning_rate": learning_rate(cfg, step), "steps_per_s": round(steps_per_s, 2)}
        log.write(json.dumps(record) + "\n")
    log.flush()
    return record


def keep_metrics_until(path: Path, step: int) -> None:
    """Drops log lines past the checkpoint a run resumes from (they will be logged again)."""
    if path.exists():
        lines = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
        write_text(path, "".join(line + "\n" for line in lines))


def run_fingerprint(operative_config: str, params: dict[str, Any], vocab: Path, cache: Path) -> str:
    """Names a training run by everything that defines it: the recipe, the train settings and
    seed, the vocabulary, the training data and the model code. The data enter through the
    per-split digests in cache.json, so changed sources or prepare/tokenize settings start a new
    run instead of resuming checkpoints trained on other inputs."""
    return fingerprint(
        operative_config, params["train"], params["seed"], sha256_file(vocab / "spm.model"),
        read_json(cache / "cache.json")["tasks"], model_code_digest(),
    )


def model_code_digest() -> str:
    """Hash of the code that defines the model and its training: changing it starts a new run
    folder instead of resuming checkpoints written by different code."""
    package = Path(__file__).parent
    files = sorted((package / "model").glob("*.py")) + [package / n for n in ("train.py", "checkpoints.py", "recipe.py")]
    return fingerprint(*[sha256_file(f) for f in files])


def _save_args(state):
    import orbax.checkpoint as ocp

    return ocp.args.StandardSave(state)
