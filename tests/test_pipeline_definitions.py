"""dvc.yaml and the Snakefile must describe the same pipeline: stages, commands, dependencies,
params and outputs. The Snakemake side is read from a real dry run of the full DAG."""

import re
import subprocess

import pytest
import yaml

from imprepro.pipeline import STAGE_PARAMS
from tests.conftest import REPO, copy_project


def snakemake_jobs(workdir):
    out = subprocess.run(
        ["snakemake", "-n", "-p", "--forceall", "results/report.md"], cwd=workdir, capture_output=True, text=True, check=True
    ).stdout
    jobs = {}
    for block in re.split(r"\n(?=\[[^\]]+\]\nrule )", out):
        match = re.search(r"^rule (\w+):", block, re.M)
        if not match:
            continue
        rule = match.group(1)
        field = lambda name: set(re.search(rf"^\s+{name}: (.*)$", block, re.M).group(1).split(", ")) if re.search(rf"^\s+{name}: ", block, re.M) else set()  # noqa: E731
        wildcards = re.search(r"wildcards: benchmark=(\S+)", block)
        name = f"{rule}@{wildcards.group(1)}" if wildcards else rule
        jobs[name] = {
            "cmd": re.search(r"^Shell command: (.*)$", block, re.M).group(1).strip(),
            "deps": field("input"),
            "outs": field("output"),
        }
    return jobs


def dvc_stages():
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    stages = {}
    for name, stage in spec["stages"].items():
        if "foreach" in stage:
            assert stage["foreach"] == "${evaluate.benchmarks}"
            for item in params["evaluate"]["benchmarks"]:
                body = yaml.safe_load(yaml.safe_dump(stage["do"]).replace("${item}", item))
                stages[f"{name}@{item}"] = body
        else:
            stages[name] = stage
    result = {}
    for name, stage in stages.items():
        outs = {o if isinstance(o, str) else next(iter(o)) for o in stage.get("outs", []) + stage.get("metrics", [])}
        result[name] = {"cmd": stage["cmd"], "deps": set(stage.get("deps", [])), "outs": outs, "params": set(stage.get("params", []))}
    return result


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    return snakemake_jobs(copy_project(tmp_path_factory.mktemp("dry"))), dvc_stages()


def test_same_stages(both):
    snake, dvc = both
    assert set(snake) == set(dvc)


@pytest.mark.parametrize("key", ["cmd", "deps", "outs"])
def test_same_commands_dependencies_and_outputs(both, key):
    snake, dvc = both
    for stage in snake:
        assert snake[stage][key] == dvc[stage][key], f"{stage}: {key} differ (Snakefile vs dvc.yaml)"


def test_training_watches_every_recipe_file(both):
    _, dvc = both
    recipes = {str(p.relative_to(REPO)) for p in (REPO / "configs").glob("*.gin")}
    assert recipes <= dvc["train"]["deps"], f"dvc.yaml train deps miss {sorted(recipes - dvc['train']['deps'])}"


def test_same_params(both):
    _, dvc = both
    for stage, spec in dvc.items():
        assert spec["params"] == set(STAGE_PARAMS[stage.split("@")[0]]), stage
    rules = "\n".join(p.read_text() for p in (REPO / "rules").glob("*.smk"))
    for rule, body in re.findall(r"^rule (\w+):\n((?:    .*\n|\n)+)", rules, re.M):
        assert f'stage_params(config, "{rule}")' in body, f"rule {rule} must take params from stage_params"
