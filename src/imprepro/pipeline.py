"""The pipeline's stages in one table: which params.yaml sections each stage reads.

The Snakefile's rules take their ``params`` from :func:`stage_params`, and a test checks that
dvc.yaml declares the same sections, so a changed setting re-runs exactly the stages that read
it, under either engine.
"""

from __future__ import annotations

from typing import Any

STAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "download": ("sources",),
    "prepare": ("seed", "prepare"),
    "vocab": ("vocab",),
    "tokenize": ("tokenize",),
    "train": ("seed", "train"),
    "select": ("select",),
    "evaluate": ("evaluate",),
    "report": (),
}


def stage_params(config: dict[str, Any], stage: str) -> dict[str, Any]:
    """The params.yaml sections a stage reads (Snakemake re-runs a job when they change)."""
    return {key: config[key] for key in STAGE_PARAMS[stage]}
