"""Stage 8, report: results/report.md, results/metrics.json and the plots.

Everything here is read from the small JSON files the earlier stages wrote; nothing is
recomputed, so the report always shows what the pipeline actually measured.
"""

from __future__ import annotations

import csv
import datetime
import importlib.metadata
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from imprepro.io import atomic_dir, read_json, write_json, write_text  # noqa: E402
from imprepro.paper import PAPER_BENCHMARKS, TABLE_1  # noqa: E402

PACKAGES = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "tensorflow", "tensorflow-text",
            "tensorflow-datasets", "seqio", "gin-config", "sentencepiece", "snakemake", "dvc", "numpy")
STAGE_FILES = {
    "download": "data/raw/manifest.json",
    "prepare": "data/tfds/summary.json",
    "vocab": "data/vocab/vocab.json",
    "tokenize": "data/cache/cache.json",
    "train": "results/train/manifest.json",
    "select": "results/selection.json",
}


def git_commit() -> str:
    """The commit the run was made from, with '+dirty' when tracked files were modified."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def read_metrics_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def smooth(values: list[float], window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start)."""
    sums = np.cumsum([0.0, *values])
    end = np.arange(1, len(values) + 1)
    begin = np.maximum(end - window, 0)
    return (sums[end] - sums[begin]) / (end - begin)


def plot_training(records: list[dict[str, Any]], path: Path, window: int = 20) -> None:
    """Training loss per task against step: every step a faint dot, a trailing mean as a line."""
    fig, ax = plt.subplots(figsize=(9, 4))
    for task in sorted({r["task"] for r in records}):
        steps, losses = zip(*[(r["step"], r["loss"]) for r in records if r["task"] == task])
        (line,) = ax.plot(steps, smooth(losses, window), linewidth=1.5, label=f"{task} ({len(steps)} steps)")
        ax.scatter(steps, losses, s=3, alpha=0.2, color=line.get_color())
    ax.set_xlabel("step")
    ax.set_ylabel(f"contrastive NCE + router z-loss\n(mean of a task's last {window} steps)")
    ax.set_title("Training loss per AGD task")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_selection(selection: dict[str, Any], path: Path) -> None:
    """Validation score of every checkpoint, the chosen one marked."""
    steps = [c["step"] for c in selection["candidates"]]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(steps, [c["score"] for c in selection["candidates"]], marker="o", label="score (all captions pooled)")
    ax.axhline(selection["chance"]["pooled"], color="tab:blue", linestyle=":", linewidth=1, label="score at chance")
    for task, n in selection["examples"].items():
        ax.plot(steps, [c["per_task"][task] for c in selection["candidates"]], linewidth=0.8, alpha=0.6, label=f"{task} ({n})")
    ax.axvline(selection["step"], color="k", linestyle="--", linewidth=1, label=f"chosen: {selection['step']}")
    ax.set_xlabel("checkpoint step")
    ax.set_ylabel(selection["metric"])
    ax.set_title("Checkpoint selection (validation)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_csv(path: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def results_table(evals: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| benchmark | modality | metric | score | chance | p vs chance | examples | classes | prompts | step | paper analogue |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in evals:
        for metric, value in e["metrics"].items():
            p = e["p_above_chance"].get(metric)
            lines.append(
                f"| {e['benchmark']} | {e['modality']} | {metric} | **{fmt(value)}** | {fmt(e['chance'][metric])} | "
                f"{'-' if p is None else f'{p:.1g}'} | {e['num_examples']} | {fmt(e['num_classes'])} | {e['num_prompts']} | "
                f"{e['checkpoint_step']} | {e['paper_analogue']} |"
            )
    return lines


def above_chance(evals: list[dict[str, Any]], level: float = 0.01) -> list[str]:
    """Benchmarks whose first metric (top-1 or R@1) beats chance at the given significance."""
    return [e["benchmark"] for e in evals if next(iter(e["p_above_chance"].values())) < level]


def training_summary(train: dict[str, Any]) -> str:
    """One sentence on how the checkpoints came to be (fresh, resumed, or reused as they were)."""
    if not train["resumed_from"]:
        return f"trained from scratch in this run ({train['steps_this_invocation']} steps)"
    if not train["steps_this_invocation"]:
        return f"all {train['steps']} steps were already done: the run's checkpoints were reused as they were"
    return f"resumed from step {train['resumed_from']}; {train['steps_this_invocation']} steps trained in this invocation"


def paper_table() -> list[str]:
    lines = ["| model | params/token | " + " | ".join(PAPER_BENCHMARKS) + " |", "|---" * (len(PAPER_BENCHMARKS) + 2) + "|"]
    for model, row in TABLE_1.items():
        lines.append(f"| {model} | {row['params_per_token']} | " + " | ".join(f"{row[b]:.1f}" for b in PAPER_BENCHMARKS) + " |")
    return lines


def report(params: dict[str, Any], results: Path, out: Path) -> str:
    """Writes the report, results/metrics.json and results/plots/."""
    stages = {name: read_json(path) for name, path in STAGE_FILES.items()}
    evals = [read_json(results / "eval" / f"{b}.json") for b in params["evaluate"]["benchmarks"]]
    records = read_metrics_log(results / "train" / "metrics.jsonl")
    selection = stages["select"]

    with atomic_dir(results / "plots") as plots:
        plot_training(records, plots / "train_loss.png")
        plot_selection(selection, plots / "selection.png")
        write_csv(plots / "train_loss.csv", records, ["step", "task", "loss", "nce", "router_z_loss", "learning_rate"])
        write_csv(plots / "selection.csv", selection["candidates"], ["step", "score"])

    metrics = {e["benchmark"]: e["metrics"] for e in evals}
    metrics["selection"] = {"step": selection["step"], selection["metric"]: selection["score"]}
    write_json(results / "metrics.json", metrics)

    now = datetime.datetime.now(datetime.timezone.utc)
    timings = stage_timings(stages, evals)
    lines = [
        "# IMP reproduction report",
        "",
        f"Generated {now:%Y-%m-%d %H:%M UTC} from commit `{git_commit()}`.",
        "",
        *summary_section(params, stages, evals, timings, now),
        *results_section(evals),
        *selection_section(selection),
        *data_section(stages),
        *timing_section(timings),
        *config_section(params, stages["train"]),
    ]
    text = "\n".join(lines)
    write_text(out, text)
    print(f"report: {out} ({len(evals)} benchmarks)")
    return text


def stage_timings(stages: dict[str, Any], evals: list[dict[str, Any]]) -> dict[str, tuple[datetime.datetime, float]]:
    """(start, seconds of work) per stage; the evaluate jobs count as one stage."""
    timings = {name: (datetime.datetime.fromisoformat(s["started_at"]), s["wall_s"]) for name, s in stages.items()}
    timings["evaluate"] = (
        min(datetime.datetime.fromisoformat(e["started_at"]) for e in evals),
        round(sum(e["wall_s"] for e in evals), 2),
    )
    return timings


def summary_section(params, stages, evals, timings, now) -> list[str]:
    train, selection, dev = stages["train"], stages["select"], stages["train"]["devices"]
    first_start = min(start for start, _ in timings.values())
    work = sum(seconds for _, seconds in timings.values())
    above = above_chance(evals)
    return [
        "## Summary",
        "",
        "- Suite: the embedded default (real files from Debian packages, built offline; see Data).",
        f"- Model: {train['parameters']:,} parameters; recipe `{', '.join(params['train']['gin_files'])}` "
        f"(operative gin config below).",
        f"- Training: {train['steps']} AGD steps ({_schedule(train)}), {training_summary(train)}; run "
        f"`{train['run_id']}`; {len(train['checkpoints'])} checkpoints; selected step {selection['step']}.",
        f"- Devices: {dev['count']} x {dev['kind']} ({dev['backend']}), {dev['processes']} process(es); mesh {train['mesh']}.",
        f"- Wall time: {(now - first_start).total_seconds() / 60:.1f} min from the first stage's start "
        f"({first_start:%Y-%m-%d %H:%M:%S} UTC) to this report, with process start-up and scheduling (and any "
        f"pause between separately run stages); {work / 60:.1f} min of stage work (per stage below).",
        f"- Benchmarks above chance (top-1 or R@1, one-sided binomial test, p < 0.01): {', '.join(above) or 'none'}.",
        "",
    ]


def results_section(evals: list[dict[str, Any]]) -> list[str]:
    return [
        "## Results (default suite, zero-shot)",
        "",
        *results_table(evals),
        "",
        "Scores in percent except median rank. Chance is the expected score of random guessing with "
        "the same classes (or retrieval candidates); *p vs chance* is the probability of scoring at "
        "least as well by guessing (one-sided binomial test).",
        "",
        *[f"- **{e['benchmark']}**: {e['description']}. Prompts: " + ", ".join(f"`{p}`" for p in e["prompts"]) + "."
          for e in evals],
        "",
        "## The paper's Table 1 (zero-shot top-1, %)",
        "",
        *paper_table(),
        "",
        "Table 1 has no retrieval column, so `emoji_retrieval` has no paper number beside it.",
        "",
        "**What the default suite is and is not.** It is a complete, real run of the IMP recipe "
        "(shared encoder, experts-choice MoE, AGD over image-, video- and audio-text tasks, "
        "zero-shot prompt-ensemble evaluation) on a few thousand real examples that ship inside "
        "Debian packages, with a model of about a million parameters trained for minutes on a "
        "CPU. It is *not* the paper's benchmark suite: its numbers measure whether the pipeline "
        "learns something transferable, and are not comparable with the table above. Each "
        "default benchmark names the paper benchmark it stands in for. The video clips are made "
        "from still images by camera motion, not recorded.",
        "",
        "## Training curves",
        "",
        "The loss is the symmetric contrastive NCE of the step's task plus the MoE router z-loss "
        "(which keeps router logits small). Each task is plotted against the steps that sampled it.",
        "",
        "![training loss](plots/train_loss.png)",
        "",
    ]


def selection_section(selection: dict[str, Any]) -> list[str]:
    tasks, chance = list(selection["examples"]), selection["chance"]
    metric = selection["metric"].replace("mean_", "")
    return [
        "## Checkpoint selection",
        "",
        f"{selection['reason']}. Columns: each task's {metric} (validation captions in brackets); "
        "the last row is the chance level of random scores.",
        "",
        "| step | score | " + " | ".join(f"{t} ({selection['examples'][t]})" for t in tasks) + " |",
        "|---" * (len(tasks) + 2) + "|",
        *[
            f"| {c['step']}{' (chosen)' if c['step'] == selection['step'] else ''} | {c['score']:.1f} | "
            + " | ".join(f"{c['per_task'][t]:.1f}" for t in tasks) + " |"
            for c in selection["candidates"]
        ],
        f"| chance | {chance['pooled']:.1f} | " + " | ".join(f"{chance[t]:.1f}" for t in tasks) + " |",
        "",
        "![checkpoint selection](plots/selection.png)",
        "",
    ]


def data_section(stages: dict[str, Any]) -> list[str]:
    sources, datasets = stages["download"]["sources"], stages["prepare"]["datasets"]
    return [
        "## Data sources and licences",
        "",
        "| package | version | sha256 | licence | files extracted |",
        "|---|---|---|---|---|",
        *[f"| {name} | {s['version']} | `{s['sha256'][:16]}…` | {s['licence']} | {s['files_extracted']} |" for name, s in sources.items()],
        "",
        "Files extracted include each package's copyright file (a font package holds one font file).",
        "",
        "| dataset | train | validation | test |",
        "|---|---|---|---|",
        *[f"| {name} | " + " | ".join(str(splits.get(s, "-")) for s in ("train", "validation", "test")) + " |"
          for name, splits in datasets.items()],
        "",
        f"Vocabulary: {stages['vocab']['kind']} ({stages['vocab']['size']} pieces).",
        "",
    ]


def timing_section(timings: dict[str, tuple[datetime.datetime, float]]) -> list[str]:
    return [
        "## Wall time per stage",
        "",
        "| stage | started (UTC) | seconds |",
        "|---|---|---|",
        *[f"| {name} | {start:%Y-%m-%d %H:%M:%S} | {seconds:.1f} |" for name, (start, seconds) in timings.items()],
        f"| **total** | | **{sum(seconds for _, seconds in timings.values()):.1f}** |",
        "",
        "## Package versions",
        "",
        "| package | version |",
        "|---|---|",
        *[f"| {name} | {version} |" for name, version in package_versions().items()],
        "",
    ]


def config_section(params: dict[str, Any], train: dict[str, Any]) -> list[str]:
    compiles = train["compiles_per_signature_this_invocation"]
    verdict = "one each: no recompilation" if max(compiles.values(), default=0) <= 1 else "**more than one: a step recompiled**"
    return [
        "## Configuration",
        "",
        "AGD tasks and weights: " + ", ".join(f"{t} {w}" for t, w in params["train"]["tasks"].items()) + ".",
        f"Steps per task over the whole run: {train['task_steps']}. In this invocation: "
        f"{train['task_steps_this_invocation']}, with compiled step functions per input signature "
        f"{compiles} ({verdict}).",
        "",
        "```",
        train["recipe"].strip(),
        "```",
        "",
    ]


def _schedule(train: dict[str, Any]) -> str:
    for line in train["recipe"].splitlines():
        if line.startswith("TrainConfig.schedule"):
            return "schedule " + line.split("=", 1)[1].strip()
    return "schedule random"
