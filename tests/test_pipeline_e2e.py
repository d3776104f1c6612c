"""End-to-end: the real pipeline under Snakemake and under DVC, on a shrunken configuration.

Each run downloads (verified .debs are shared), prepares, tokenises, trains, selects,
evaluates and reports, exactly as `snakemake --cores all results/report.md` and `dvc repro` do.
"""

import json
import os
import re
import subprocess

import pytest
import yaml

from tests.conftest import copy_project, tiny_params

pytestmark = pytest.mark.slow


def make_workspace(path):
    copy_project(path)
    params = tiny_params(path)
    params["train"]["gin_files"] = ["tests/tiny.gin"]
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def run(cmd, cwd):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # one device, like a laptop
    env["IMPREPRO_JAX_CACHE"] = str(cwd / "data" / "jax_cache")
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def planned_jobs(cwd):
    out = run(["snakemake", "-n", "results/report.md"], cwd)
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_snakemake_end_to_end(tmp_path):
    ws = make_workspace(tmp_path / "snake")
    run(["snakemake", "--cores", "2", "results/report.md"], ws)

    report = (ws / "results" / "report.md").read_text()
    metrics = json.loads((ws / "results" / "metrics.json").read_text())
    for benchmark in yaml.safe_load((ws / "params.yaml").read_text())["evaluate"]["benchmarks"]:
        assert re.search(rf"\| {benchmark} \| \w+ \| \S+ \| \*\*\d+\.\d\*\* \|", report), benchmark
        assert metrics[benchmark]
    for needed in ("Table 1", "chance", "GPL-2", "Wall time per stage", "Checkpoint selection", "jax"):
        assert needed in report
    assert (ws / "results" / "plots" / "train_loss.png").stat().st_size > 1000
    assert planned_jobs(ws) == {}, "a second run must have nothing to do"

    # Changing only an evaluation setting re-runs only evaluation and the report.
    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["evaluate"]["prompts"]["image"].append("a small icon of {}")
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    jobs = planned_jobs(ws)
    assert set(jobs) == {"evaluate", "report"}, jobs
    assert jobs["evaluate"] == len(params["evaluate"]["benchmarks"])


def test_dvc_repro_end_to_end(tmp_path):
    ws = make_workspace(tmp_path / "dvc")
    run(["git", "init", "-q"], ws)
    run(["dvc", "init", "-q"], ws)
    run(["dvc", "config", "core.analytics", "false"], ws)
    out = run(["dvc", "repro"], ws)
    assert "Running stage 'report'" in out
    assert json.loads((ws / "results" / "metrics.json").read_text())
    assert (ws / "dvc.lock").exists()
    again = run(["dvc", "repro"], ws)
    assert "Running stage" not in again, again
    shown = run(["dvc", "metrics", "show", "--json"], ws)
    assert "emoji_retrieval" in shown
