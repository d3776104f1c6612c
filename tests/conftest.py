"""Shared fixtures. Eight fake CPU devices are configured before JAX is imported, so the mesh
and MoE sharding code runs on a (data, expert) mesh here as it would on an accelerator host."""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

import copy  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import yaml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Shared across test runs: the verified .debs (about 170 MB) are fetched once per machine.
DOWNLOADS = Path(os.environ.get("IMPREPRO_TEST_DOWNLOADS", REPO / "data" / "downloads"))
TINY_GIN = REPO / "tests" / "tiny.gin"


def tiny_params(tmp: Path) -> dict:
    """params.yaml shrunk for tests: a handful of items per split and the tiny gin recipe."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params = copy.deepcopy(params)
    params["prepare"].update(max_items=12, clips_per_image=1, audio_seconds=1.0)
    params["vocab"]["size"] = 200
    params["train"].update(gin_files=[str(TINY_GIN)], checkpoint_every=4, log_every=2)
    params["select"].update(max_examples=16, batch_size=16)
    params["evaluate"]["batch_size"] = 16
    return params


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """A session-wide data folder built by the real stages (download, prepare, vocab, tokenize)
    on the tiny parameters; tests read it, and must not modify it."""
    from imprepro.cache import materialise
    from imprepro.config import validate_params
    from imprepro.prepare import prepare
    from imprepro.sources import download
    from imprepro.vocab import build_vocab

    root = tmp_path_factory.mktemp("workspace")
    params = tiny_params(root)
    validate_params(params, "tiny params")
    download(params, DOWNLOADS, root / "raw")
    prepare(params, root / "raw", root / "tfds")
    build_vocab(params, root / "tfds", root / "vocab")
    materialise(params, root / "tfds", root / "vocab", root / "cache")
    return {"root": root, "params": params}


def copy_project(dest: Path) -> Path:
    """Copies what a pipeline run needs (not data/ or results/) into ``dest``."""
    for name in ("Snakefile", "dvc.yaml", "params.yaml", "rules", "configs", "tests/tiny.gin"):
        src = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            shutil.copy(src, target)
    (dest / "data").mkdir(exist_ok=True)
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    (dest / "data" / "downloads").symlink_to(DOWNLOADS)
    return dest
