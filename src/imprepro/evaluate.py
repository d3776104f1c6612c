"""Stage 7, evaluate: zero-shot evaluation of the selected checkpoint on one benchmark.

Classification uses prompt ensembles (params.yaml ``evaluate.prompts``): each class name is put
into every template of the benchmark's modality, the normalised prompt embeddings are averaged
and re-normalised. Retrieval ranks every item of the split for each caption (text to media).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from imprepro.datasets.stamps import DIGITS, MOTIONS
from imprepro.embedding import (
    class_embeddings,
    embed,
    load_examples,
    restore_params,
    task_retrieval,
    topk_accuracy,
)
from imprepro.io import read_json, timing, write_json
from imprepro.runtime import setup
from imprepro.tasks import modality_of


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A zero-shot benchmark over one split of a seqio task."""

    task: str
    split: str
    kind: str                          # "classification" or "retrieval"
    classes: tuple[str, ...] | None    # class names by label id; None = one class per caption
    description: str
    paper_analogue: str


BENCHMARKS = {
    "symbola_emoji": Benchmark(
        "symbola_image_text", "test", "classification", None,
        "Symbola outline emoji (an art style never trained on), classified among all their Unicode names",
        "ImageNet-1k / CIFAR-100 zero-shot classification",
    ),
    "stamp_motion": Benchmark(
        "stamp_video_text", "test", "classification", MOTIONS,
        "camera-motion clips of held-out Tux Paint stamps, classified by motion (4 classes)",
        "Kinetics-400/600/700, UCF101, HMDB51 zero-shot classification",
    ),
    "spoken_digits": Benchmark(
        "digit_audio_text", "test", "classification", DIGITS,
        "digits 0-9 spoken in languages never heard in training (10 classes)",
        "ESC-50 zero-shot classification",
    ),
    "emoji_retrieval": Benchmark(
        "emoji_image_text", "test", "retrieval", None,
        "text-to-image retrieval of held-out Noto emoji by their names",
        "COCO / Flickr30k text-to-image retrieval",
    ),
}


def chance_level(kind: str, n: int) -> dict[str, float]:
    """Expected scores of random guessing with ``n`` classes (or ``n`` retrieval candidates)."""
    if kind == "classification":
        return {"top1": 100.0 / n, "top5": 100.0 * min(5, n) / n}
    return {"R@1": 100.0 / n, "R@5": 100.0 * min(5, n) / n, "R@10": 100.0 * min(10, n) / n, "median_rank": (n + 1) / 2}


def run_benchmark(rt, weights, bench: Benchmark, params: dict[str, Any]) -> dict[str, Any]:
    """Scores one benchmark; returns metrics, counts and chance levels."""
    batch_size = params["evaluate"]["batch_size"]
    modality = modality_of(bench.task)
    if bench.kind == "retrieval":
        result = task_retrieval(rt, weights, bench.task, bench.split, 0, batch_size)
        return {**result, "num_prompts": 1, "num_classes": None, "chance": chance_level("retrieval", result["num_examples"])}
    data = load_examples(bench.task, bench.split, params["tokenize"]["text_length"])
    media = embed(rt, weights, modality, data[modality], batch_size)
    if bench.classes is None:
        captions = [c.decode() for c in data["text_pretokenized"]]
        names = sorted(set(captions))
        labels = np.array([names.index(c) for c in captions])
    else:
        names, labels = list(bench.classes), data["label"]
    templates = params["evaluate"]["prompts"][modality]
    logits = media @ class_embeddings(rt, weights, names, templates, batch_size).T
    return {
        "metrics": {"top1": topk_accuracy(logits, labels, 1), "top5": topk_accuracy(logits, labels, 5)},
        "num_examples": int(len(labels)),
        "num_prompts": len(templates),
        "num_classes": len(names),
        "chance": chance_level("classification", len(names)),
    }


def evaluate(params: dict[str, Any], benchmark: str, cache: Path, vocab: Path, train_dir: Path,
             selection_file: Path, out: Path | None) -> dict[str, Any]:
    """Evaluates the selected checkpoint on ``benchmark``; writes results/eval/<benchmark>.json."""
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARKS)}")
    if benchmark not in params["evaluate"]["benchmarks"]:
        raise ValueError(f"benchmark {benchmark!r} is not listed in params.yaml evaluate.benchmarks")
    start = time.time()
    selection = read_json(selection_file)
    rt = setup(params, cache, vocab)
    weights = restore_params(rt, train_dir, selection["step"])
    bench = BENCHMARKS[benchmark]
    result = {
        "benchmark": benchmark,
        "kind": bench.kind,
        "modality": modality_of(bench.task),
        "description": bench.description,
        "paper_analogue": bench.paper_analogue,
        **run_benchmark(rt, weights, bench, params),
        "checkpoint_step": selection["step"],
        **timing(start),
    }
    write_json(out or Path("results/eval") / f"{benchmark}.json", result)
    print(f"evaluate: {benchmark} {result['metrics']} (chance {result['chance']})")
    return result
