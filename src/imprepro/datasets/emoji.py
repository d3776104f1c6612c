"""Emoji rendered from two real fonts: Noto Color Emoji (training style) and Symbola (held-out style).

Each example is one single-code-point emoji drawn to a small RGB image, with its Unicode name as
the caption ("grinning face"). The Symbola build holds only a test split: its monochrome outline
style is never trained on, so classifying it by name is zero-shot transfer across art styles.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont

from imprepro.datasets.common import (
    MANUAL_DOWNLOAD_INSTRUCTIONS,
    NOTO_FONT,
    SYMBOLA_FONT,
    corrupt_source,
    require,
    split_items,
    square,
)

NOTO_BITMAP_SIZE = 109  # the only size the colour bitmap font renders at


def emoji_code_points(font_path: Path) -> list[int]:
    """Single-code-point pictographic emoji in a font (no flags' letters or skin-tone modifiers)."""
    require(font_path)
    try:
        cmap = TTFont(str(font_path), lazy=True).getBestCmap()
    except (TTLibError, OSError, AssertionError, KeyError) as e:
        raise corrupt_source(font_path, f"cannot read font ({e!r})") from e
    if not cmap:
        raise corrupt_source(font_path, "font has no character map")
    return sorted(
        c
        for c in cmap
        if c > 0x2000
        and unicodedata.category(chr(c)) == "So"
        and not 0x1F1E6 <= c <= 0x1F1FF  # regional indicator letters
        and not 0x1F3FB <= c <= 0x1F3FF  # skin-tone modifiers
        and unicodedata.name(chr(c), "")
    )


def emoji_name(code_point: int) -> str:
    """The caption for an emoji: its Unicode name in lower case."""
    return unicodedata.name(chr(code_point)).lower()


def render_noto(font: ImageFont.FreeTypeFont, code_point: int, size: int) -> np.ndarray:
    """Draws a colour emoji and fits it into a size x size RGB image."""
    canvas = Image.new("RGBA", (136, 128), (255, 255, 255, 0))
    ImageDraw.Draw(canvas).text((0, 0), chr(code_point), font=font, embedded_color=True)
    return _fit(canvas, size)


def render_outline(font: ImageFont.FreeTypeFont, code_point: int, size: int) -> np.ndarray:
    """Draws a monochrome glyph (black on white) and fits it into a size x size RGB image."""
    canvas = Image.new("RGBA", (160, 160), (255, 255, 255, 0))
    ImageDraw.Draw(canvas).text((80, 80), chr(code_point), font=font, fill="black", anchor="mm")
    return _fit(canvas, size)


def _fit(canvas: Image.Image, size: int) -> np.ndarray:
    box = canvas.getbbox() or (0, 0, canvas.width, canvas.height)
    glyph = canvas.crop(box)
    white = Image.new("RGBA", glyph.size, (255, 255, 255, 255))
    white.alpha_composite(glyph)
    return square(white.convert("RGB"), size)


class ImpEmoji(tfds.core.GeneratorBasedBuilder):
    """Noto Color Emoji (train/validation/test) or Symbola outlines (test only), named by Unicode."""

    VERSION = tfds.core.Version("1.0.0")
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    # Configs are made from params.yaml at run time: "noto" (training style) or "symbola".
    BUILDER_CONFIGS: list = []

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(size, size, 3)),
                    "caption": tfds.features.Text(),
                    "code_point": np.int64,
                }
            ),
            description=__doc__,
            homepage="https://packages.debian.org/bookworm/fonts-noto-color-emoji",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        raw = Path(dl_manager.manual_dir)
        noto = emoji_code_points(raw / NOTO_FONT)
        if self.builder_config.name == "noto":
            items = {f"{c:05x}": c for c in noto}
            return {name: self._generate_examples(raw, entries) for name, entries in split_items(items, self.builder_config).items()}
        outline = set(emoji_code_points(raw / SYMBOLA_FONT))
        entries = [(f"{c:05x}", c) for c in noto if c in outline]
        if self.builder_config.max_items:
            entries = entries[: self.builder_config.max_items]
        return {"test": self._generate_examples(raw, entries)}

    def _generate_examples(self, raw: Path, entries: list[tuple[str, int]]):
        size = self.builder_config.image_size
        noto = self.builder_config.name == "noto"
        path, size_pt, draw = (raw / NOTO_FONT, NOTO_BITMAP_SIZE, render_noto) if noto else (raw / SYMBOLA_FONT, 120, render_outline)
        try:
            font = ImageFont.truetype(str(path), size_pt)
        except OSError as e:
            raise corrupt_source(path, f"cannot load font ({e})") from e
        for key, code_point in entries:
            yield key, {"image": draw(font, code_point, size), "caption": emoji_name(code_point), "code_point": code_point}
