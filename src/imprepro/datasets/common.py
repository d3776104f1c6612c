"""Helpers shared by the TFDS builders: fixed splits, image loading and the builder config."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds
from PIL import Image

STAMPS_DIR = "tuxpaint-stamps-default/usr/share/tuxpaint/stamps"
NOTO_FONT = "fonts-noto-color-emoji/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
SYMBOLA_FONT = "fonts-symbola/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"


@dataclasses.dataclass
class SuiteConfig(tfds.core.BuilderConfig):
    """Builder config carrying the prepare stage's settings from params.yaml."""

    image_size: int = 32
    video_frames: int = 8
    clips_per_image: int = 2
    audio_sample_rate: int = 16000
    audio_seconds: float = 2.0
    validation_percent: int = 10
    test_percent: int = 10
    max_items: int = 0
    seed: int = 0


MANUAL_DOWNLOAD_INSTRUCTIONS = (
    "Run `imprepro download`: it fetches the Debian packages named in params.yaml `sources`, "
    "checks their sha256 and unpacks them into data/raw, the manual folder of these builders."
)


def split_of(key: str, validation_percent: int, test_percent: int) -> str:
    """Assigns an item to a split by a hash of its id: stable across runs, machines and orders."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    if bucket < test_percent:
        return "test"
    if bucket < test_percent + validation_percent:
        return "validation"
    return "train"


def split_items(items: dict[str, object], config: SuiteConfig) -> dict[str, list[tuple[str, object]]]:
    """Groups ``{key: item}`` into splits (sorted by key), capped at ``config.max_items`` each."""
    splits: dict[str, list[tuple[str, object]]] = {"train": [], "validation": [], "test": []}
    for key in sorted(items):
        splits[split_of(key, config.validation_percent, config.test_percent)].append((key, items[key]))
    if config.max_items:
        splits = {name: entries[: config.max_items] for name, entries in splits.items()}
    return splits


def corrupt_source(path: Path, problem: str) -> ValueError:
    """The error for an unreadable file under data/raw: what went wrong, and how to recover."""
    return ValueError(
        f"{path}: {problem}; the source file may be corrupt. Unpack the verified packages again with "
        "`imprepro download` (under Snakemake: `snakemake --cores all -R download results/report.md`)"
    )


def require(path: Path) -> Path:
    """Returns ``path`` or raises naming it and the stage that provides it."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: missing source file; run `imprepro download` (or check data/raw/manifest.json)"
        )
    return path


def flatten_rgba(image: Image.Image, background: int = 255) -> Image.Image:
    """Composites a possibly transparent image onto a plain background, as RGB."""
    image = image.convert("RGBA")
    canvas = Image.new("RGBA", image.size, (background,) * 3 + (255,))
    canvas.alpha_composite(image)
    return canvas.convert("RGB")


def square(image: Image.Image, size: int, margin: float = 0.05) -> np.ndarray:
    """Fits an RGB image into a white size x size square, keeping its aspect ratio."""
    inner = max(1, int(round(size * (1 - 2 * margin))))
    scale = inner / max(image.size)
    resized = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    canvas.paste(resized, ((size - resized.width) // 2, (size - resized.height) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def load_stamp(path: Path) -> Image.Image:
    """Loads a Tux Paint stamp PNG and flattens its transparency onto white."""
    try:
        with Image.open(require(path)) as image:
            return flatten_rgba(image)
    except (OSError, SyntaxError) as e:
        raise corrupt_source(path, f"cannot decode image ({e})") from e
