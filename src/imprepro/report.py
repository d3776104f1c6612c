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


def plot_training(records: list[dict[str, Any]], path: Path) -> None:
    """Training loss per task against step (each task's points joined in step order)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for task in sorted({r["task"] for r in records}):
        points = [(r["step"], r["loss"]) for r in records if r["task"] == task]
        ax.plot(*zip(*points), marker=".", linewidth=1, label=task)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (NCE + z-loss)")
    ax.set_title("Training loss per AGD task")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_selection(selection: dict[str, Any], path: Path) -> None:
    """Validation score of every checkpoint, the chosen one marked."""
    steps = [c["step"] for c in selection["candidates"]]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(steps, [c["score"] for c in selection["candidates"]], marker="o", label="score (all captions pooled)")
    for task, n in selection["candidates"][0]["examples"].items():
        ax.plot(steps, [c["per_task"][task] for c in selection["candidates"]], linewidth=0.8, alpha=0.6, label=f"{task} ({n})")
    ax.axvline(selection["step"], color="k", linestyle="--", linewidth=1, label=f"chosen: {selection['step']}")
    ax.set_xlabel("checkpoint step")
    ax.set_ylabel(selection["metric"])
    ax.set_title("Checkpoint selection (validation)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
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
        "| benchmark | modality | metric | score | chance | examples | classes | prompts | step | paper analogue |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in evals:
        for metric, value in e["metrics"].items():
            lines.append(
                f"| {e['benchmark']} | {e['modality']} | {metric} | **{fmt(value)}** | {fmt(e['chance'][metric])} | "
                f"{e['num_examples']} | {fmt(e['num_classes'])} | {e['num_prompts']} | {e['checkpoint_step']} | {e['paper_analogue']} |"
            )
    return lines


def paper_table() -> list[str]:
    lines = ["| model | params/token | " + " | ".join(PAPER_BENCHMARKS) + " |", "|---" * (len(PAPER_BENCHMARKS) + 2) + "|"]
    for model, row in TABLE_1.items():
        lines.append(f"| {model} | {row['params_per_token']} | " + " | ".join(f"{row[b]:.1f}" for b in PAPER_BENCHMARKS) + " |")
    return lines


def report(params: dict[str, Any], results: Path, out: Path) -> str:
    """Writes the report, results/metrics.json and results/plots/."""
    stages = {name: read_json(path) for name, path in STAGE_FILES.items()}
    evals = [read_json(results / "eval" / f"{b}.json") for b in params["evaluate"]["benchmarks"]]
    train, selection, sources = stages["train"], stages["select"], stages["download"]["sources"]
    records = read_metrics_log(results / "train" / "metrics.jsonl")

    with atomic_dir(results / "plots") as plots:
        plot_training(records, plots / "train_loss.png")
        plot_selection(selection, plots / "selection.png")
        write_csv(plots / "train_loss.csv", records, ["step", "task", "loss", "nce", "router_z_loss", "learning_rate"])
        write_csv(plots / "selection.csv", selection["candidates"], ["step", "score"])

    metrics = {e["benchmark"]: e["metrics"] for e in evals}
    metrics["selection"] = {"step": selection["step"], selection["metric"]: selection["score"]}
    write_json(results / "metrics.json", metrics)

    stage_times = {name: stage["wall_s"] for name, stage in stages.items()}
    stage_times["evaluate"] = round(sum(e["wall_s"] for e in evals), 2)
    starts = {name: datetime.datetime.fromisoformat(stage["started_at"]) for name, stage in stages.items()}
    starts["evaluate"] = min(datetime.datetime.fromisoformat(e["started_at"]) for e in evals)
    total = sum(stage_times.values())
    now = datetime.datetime.now(datetime.timezone.utc)
    first_start = min(starts.values())
    span = (now - first_start).total_seconds()
    above = [e["benchmark"] for e in evals if e["kind"] == "classification" and e["metrics"]["top1"] > 2 * e["chance"]["top1"]]
    dev = train["devices"]
    lines = [
        "# IMP reproduction report",
        "",
        f"Generated {now:%Y-%m-%d %H:%M UTC} from commit `{git_commit()}`.",
        "",
        "## Summary",
        "",
        "- Suite: the embedded default (real files from Debian packages, built offline; see Data).",
        f"- Model: {train['parameters']:,} parameters; recipe `{', '.join(params['train']['gin_files'])}` "
        f"(operative gin config below).",
        f"- Training: {train['steps']} AGD steps ({_schedule(train)}); run `{train['run_id']}`; "
        f"{len(train['checkpoints'])} checkpoints; selected step {selection['step']}.",
        f"- Devices: {dev['count']} x {dev['kind']} ({dev['backend']}), {dev['processes']} process(es); mesh {train['mesh']}.",
        f"- Wall time: {span / 60:.1f} min from the first stage's start ({first_start:%Y-%m-%d %H:%M:%S} UTC) to "
        f"this report, with process start-up and scheduling (and any pause between separately run stages); "
        f"{total / 60:.1f} min of stage work (per stage below).",
        f"- Classification benchmarks above twice chance: {', '.join(above) if above else 'none'}.",
        "",
        "## Results (default suite, zero-shot)",
        "",
        *results_table(evals),
        "",
        "Scores in percent except median rank. Chance is the expected score of random guessing "
        "with the same number of classes (or retrieval candidates).",
        "",
        *[f"- **{e['benchmark']}**: {e['description']}." for e in evals],
        "",
        "## The paper's Table 1 (zero-shot top-1, %)",
        "",
        *paper_table(),
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
        "![training loss](plots/train_loss.png)",
        "",
        "## Checkpoint selection",
        "",
        f"{selection['reason']}. Columns: each task's {selection['metric'].replace('mean_', '')} (validation captions in brackets).",
        "",
        "| step | score | " + " | ".join(f"{t} ({n})" for t, n in selection["candidates"][0]["examples"].items()) + " |",
        "|---" * (len(selection["candidates"][0]["per_task"]) + 2) + "|",
        *[
            f"| {c['step']}{' (chosen)' if c['step'] == selection['step'] else ''} | {c['score']:.1f} | "
            + " | ".join(f"{v:.1f}" for v in c["per_task"].values()) + " |"
            for c in selection["candidates"]
        ],
        "",
        "![checkpoint selection](plots/selection.png)",
        "",
        "## Data sources and licences",
        "",
        "| package | version | sha256 | licence | files used |",
        "|---|---|---|---|---|",
        *[f"| {name} | {s['version']} | `{s['sha256'][:16]}…` | {s['licence']} | {s['files_extracted']} |" for name, s in sources.items()],
        "",
        "| dataset | " + " | ".join(("train", "validation", "test")) + " |",
        "|---|---|---|---|",
        *[f"| {name} | " + " | ".join(str(splits.get(s, "-")) for s in ("train", "validation", "test")) + " |"
          for name, splits in stages["prepare"]["datasets"].items()],
        "",
        f"Vocabulary: {stages['vocab']['kind']} ({stages['vocab']['size']} pieces).",
        "",
        "## Wall time per stage",
        "",
        "| stage | started (UTC) | seconds |",
        "|---|---|---|",
        *[f"| {name} | {starts[name]:%Y-%m-%d %H:%M:%S} | {seconds:.1f} |" for name, seconds in stage_times.items()],
        f"| **total** | | **{total:.1f}** |",
        "",
        "## Package versions",
        "",
        "| package | version |",
        "|---|---|",
        *[f"| {name} | {version} |" for name, version in package_versions().items()],
        "",
        "## Configuration",
        "",
        "AGD tasks and weights: " + ", ".join(f"{t} {w}" for t, w in params["train"]["tasks"].items()) + ".",
        f"Steps per task in this run: {train['task_steps_this_run']}. Compiled step functions per input signature: {train['compiles_per_signature']}.",
        "",
        "```",
        train["recipe"].strip(),
        "```",
        "",
    ]
    text = "\n".join(lines)
    write_text(out, text)
    print(f"report: {out} ({len(evals)} benchmarks)")
    return text


def _schedule(train: dict[str, Any]) -> str:
    for line in train["recipe"].splitlines():
        if line.startswith("TrainConfig.schedule"):
            return "schedule " + line.split("=", 1)[1].strip()
    return "schedule random"
