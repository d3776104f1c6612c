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
from imprepro.suite import SELECT_METRICS



def select(params: dict[str, Any], cache: Path, vocab: Path, train_dir: Path, out: Path) -> dict[str, Any]:
    """Writes ``out`` (selection.json): chosen step, why, and every candidate's scores."""
    start = time.time()
    metric = params["select"]["metric"]
    rt = setup(params, cache, vocab)
    manifest = read_json(train_dir / "manifest.json")
    tasks = [t for t, w in params["train"]["tasks"].items() if w > 0]
    key = SELECT_METRICS[metric]
    candidates, chance, sizes = [], {}, {}
    for checkpoint in tqdm(manifest["checkpoints"], desc="select", unit="ckpt"):
        weights = restore_params(rt, train_dir, checkpoint["step"])
        results = {
            task: task_retrieval(rt, weights, task, "validation", params["select"]["max_examples"], params["select"]["batch_size"])
            for task in tasks
        }
        # The same examples for every checkpoint, so sizes and chance levels are the same too.
        sizes = {task: r["num_examples"] for task, r in results.items()}
        chance = {task: r["chance"][key] for task, r in results.items()}
        per_task = {task: r["metrics"][key] for task, r in results.items()}
        candidates.append({"step": checkpoint["step"], "score": pooled(per_task, sizes), "per_task": per_task})
    if not candidates:
        raise ValueError(f"{train_dir / 'manifest.json'}: lists no checkpoints; re-run `imprepro train`")
    best = max(candidates, key=lambda c: (c["score"], c["step"]))
    selection = {
        "step": best["step"],
        "metric": metric,
        "score": best["score"],
        "reason": (
            f"highest {metric} ({best['score']:.2f}, pooled over {sum(sizes.values())} validation "
            f"captions; chance {pooled(chance, sizes):.2f}) among {len(candidates)} checkpoints, on the "
            f"validation splits of {', '.join(tasks)} (at most {params['select']['max_examples']} each)"
        ),
        "examples": sizes,
        "chance": {**chance, "pooled": pooled(chance, sizes)},
        "candidates": candidates,
        "run_id": manifest["run_id"],
        **timing(start),
    }
    write_json(out, selection)
    print(f"select: step {best['step']} ({selection['reason']})")
    return selection


def pooled(per_task: dict[str, float], sizes: dict[str, int]) -> float:
    """A per-task recall pooled over all captions: each task weighs as many as it has."""
    return float(sum(per_task[t] * sizes[t] for t in per_task) / sum(sizes.values()))
