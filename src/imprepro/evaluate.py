"""Stage 7, evaluate: zero-shot evaluation of the selected checkpoint on one benchmark.

Classification uses prompt ensembles (params.yaml ``evaluate.prompts``): each class name is put
into every template of the benchmark's modality, the normalised prompt embeddings are averaged
and re-normalised. Retrieval ranks every item of the split for each caption (text to media).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from imprepro.embedding import class_embeddings, embed, load_examples, restore_params, task_retrieval
from imprepro.io import read_json, timing, write_json
from imprepro.metrics import classification_chance, classification_topk, p_above_chance, topk_accuracy
from imprepro.runtime import setup
from imprepro.suite import BENCHMARKS, Benchmark, check_benchmark
from imprepro.tasks import modality_of


def run_benchmark(rt, weights, bench: Benchmark, params: dict[str, Any]) -> dict[str, Any]:
    """Scores one benchmark; returns metrics, counts, chance levels and the prompts used."""
    batch_size = params["evaluate"]["batch_size"]
    modality = modality_of(bench.task)
    if bench.kind == "retrieval":
        result = task_retrieval(rt, weights, bench.task, bench.split, 0, batch_size)
        return {**result, "num_prompts": 1, "prompts": ["{}"], "num_classes": None}
    data = load_examples(bench.task, bench.split, params["tokenize"]["text_length"])
    media = embed(rt, weights, modality, data[modality], batch_size)
    if bench.classes is None:
        captions = [c.decode() for c in data["text_pretokenized"]]
        names = sorted(set(captions))
        index = {name: i for i, name in enumerate(names)}
        labels = np.array([index[c] for c in captions])
    else:
        names, labels = list(bench.classes), data["label"]
    templates = params["evaluate"]["prompts"][modality]
    logits = media @ class_embeddings(rt, weights, names, templates, batch_size).T
    return {
        "metrics": {f"top{k}": topk_accuracy(logits, labels, k) for k in classification_topk(len(names))},
        "num_examples": int(len(labels)),
        "num_prompts": len(templates),
        "prompts": list(templates),
        "num_classes": len(names),
        "chance": classification_chance(len(names)),
    }


def significance(result: dict[str, Any]) -> dict[str, float]:
    """One-sided binomial p-value of each percentage metric against its chance level (exact when
    every example has the same chance, as in every default benchmark)."""
    return {
        metric: p_above_chance(value, result["chance"][metric], result["num_examples"])
        for metric, value in result["metrics"].items()
        if metric != "median_rank"
    }


def evaluate(params: dict[str, Any], benchmark: str, cache: Path, vocab: Path, train_dir: Path,
             selection_file: Path, out: Path) -> dict[str, Any]:
    """Evaluates the selected checkpoint on ``benchmark``; writes ``out`` (results/eval/<benchmark>.json)."""
    check_benchmark(params, benchmark)
    start = time.time()
    selection = read_json(selection_file)
    rt = setup(params, cache, vocab)
    weights = restore_params(rt, train_dir, selection["step"])
    bench = BENCHMARKS[benchmark]
    scores = run_benchmark(rt, weights, bench, params)
    result = {
        "benchmark": benchmark,
        "kind": bench.kind,
        "modality": modality_of(bench.task),
        "description": bench.description,
        "paper_analogue": bench.paper_analogue,
        **scores,
        "p_above_chance": significance(scores),
        "checkpoint_step": selection["step"],
        **timing(start),
    }
    write_json(out, result)
    print(f"evaluate: {benchmark} {result['metrics']} (chance {result['chance']})")
    return result
