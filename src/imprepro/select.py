"""Stage 6, select: score every saved checkpoint on validation data and choose one.

The score is text-to-media R@5 over the validation splits of the pretraining tasks
(``select.max_examples`` examples each, the same examples for every checkpoint), pooled over all
their captions: each task weighs as many captions as it has, so that a task with ten validation
clips cannot swing the choice. The best score wins; a tie goes to the later step.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from imprepro.embedding import restore_params, task_retrieval
from imprepro.io import read_json, timing, write_json
from imprepro.runtime import setup

METRICS = {"mean_recall_at_5": "R@5", "mean_recall_at_1": "R@1", "mean_recall_at_10": "R@10"}


def select(params: dict[str, Any], cache: Path, vocab: Path, train_dir: Path, out: Path) -> dict[str, Any]:
    """Writes ``out`` (selection.json): chosen step, why, and every candidate's scores."""
    start = time.time()
    metric = params["select"]["metric"]
    if metric not in METRICS:
        raise ValueError(f"params.yaml select.metric: {metric!r} is not one of {sorted(METRICS)}")
    rt = setup(params, cache, vocab)
    manifest = read_json(train_dir / "manifest.json")
    tasks = [t for t, w in params["train"]["tasks"].items() if w > 0]
    candidates = []
    for checkpoint in tqdm(manifest["checkpoints"], desc="select", unit="ckpt"):
        weights = restore_params(rt, train_dir, checkpoint["step"])
        results = {
            task: task_retrieval(rt, weights, task, "validation", params["select"]["max_examples"], params["select"]["batch_size"])
            for task in tasks
        }
        per_task = {task: r["metrics"][METRICS[metric]] for task, r in results.items()}
        sizes = {task: r["num_examples"] for task, r in results.items()}
        score = sum(per_task[t] * sizes[t] for t in tasks) / sum(sizes.values())
        candidates.append({"step": checkpoint["step"], "score": float(score), "per_task": per_task, "examples": sizes})
    if not candidates:
        raise ValueError(f"{train_dir / 'manifest.json'}: lists no checkpoints; re-run `imprepro train`")
    best = max(candidates, key=lambda c: (c["score"], c["step"]))
    selection = {
        "step": best["step"],
        "metric": metric,
        "score": best["score"],
        "reason": (
            f"highest {metric} ({best['score']:.2f}, pooled over "
            f"{sum(best['examples'].values())} validation captions) among {len(candidates)} checkpoints, "
            f"on the validation splits of {', '.join(tasks)}"
        ),
        "candidates": candidates,
        "run_id": manifest["run_id"],
        **timing(start),
    }
    write_json(out, selection)
    print(f"select: step {best['step']} ({selection['reason']})")
    return selection
