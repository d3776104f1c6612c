"""Tux Paint stamps: real photo cut-outs with English captions, their sound effects, spoken digits,
and short clips made from the stamps by camera motion.

- ``imp_stamps``: image + caption ("A frog.").
- ``imp_stamp_clips``: clips made from a stamp by a known camera motion (zoom in/out, pan left/right),
  captioned "A frog. The camera zooms in."; the motion is also a label. These are synthetic
  motions over real images, not recorded video.
- ``imp_sounds``: a stamp's sound effect (a real recording) + the stamp's caption.
- ``imp_spoken_digits``: the digits 0-9 spoken by real voices in many languages; the split is by
  language, so the test split holds languages never heard in training.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import soundfile
import tensorflow_datasets as tfds
from PIL import Image
from scipy.signal import resample_poly

from imprepro.datasets.common import (
    MANUAL_DOWNLOAD_INSTRUCTIONS,
    STAMPS_DIR,
    SuiteConfig,
    corrupt_source,
    load_stamp,
    require,
    split_items,
    square,
)
from imprepro.suite import DIGITS, MOTIONS

_DIGIT_CLIP = re.compile(r"^(\d)(?:_([a-z]{2}(?:_[a-z]{2})?))?\.ogg$", re.IGNORECASE)


def read_caption(txt: Path) -> str:
    """The English caption of a stamp: the first line of its .txt file."""
    try:
        lines = require(txt).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise corrupt_source(txt, f"cannot read caption ({e})") from e
    caption = lines[0].strip() if lines else ""
    if not caption:
        raise corrupt_source(txt, "empty caption file")
    return caption


def stamp_index(raw: Path) -> dict[str, tuple[Path, str]]:
    """Maps each stamp id (path without extension) to its PNG and English caption."""
    root = require(raw / STAMPS_DIR)
    index = {}
    for png in sorted(root.rglob("*.png")):
        txt = png.with_suffix(".txt")
        if txt.exists():
            index[str(png.relative_to(root).with_suffix(""))] = (png, read_caption(txt))
    if not index:
        raise FileNotFoundError(f"{root}: no captioned stamps found; re-run `imprepro download`")
    return index


def camera_motion_clip(image: Image.Image, motion: str, frames: int, size: int) -> np.ndarray:
    """Renders ``frames`` frames of a camera moving over a still image."""
    base = Image.fromarray(square(image, size * 4, margin=0.1))
    full = base.width
    clip = []
    for t in np.linspace(0.0, 1.0, frames):
        if motion.endswith("zooms in"):
            scale, cx = 1.0 - 0.5 * t, 0.5
        elif motion.endswith("zooms out"):
            scale, cx = 0.5 + 0.5 * t, 0.5
        elif motion.endswith("pans left"):
            scale, cx = 0.55, 0.7 - 0.4 * t
        elif motion.endswith("pans right"):
            scale, cx = 0.55, 0.3 + 0.4 * t
        else:
            raise ValueError(f"unknown camera motion {motion!r}")
        half = scale * full / 2
        box = tuple(float(np.clip(v, 0, full)) for v in (cx * full - half, full / 2 - half, cx * full + half, full / 2 + half))
        clip.append(np.asarray(base.resize((size, size), Image.Resampling.BILINEAR, box=box)))
    return np.stack(clip).astype(np.uint8)


def load_audio(path: Path, sample_rate: int, seconds: float) -> np.ndarray:
    """Decodes a sound file to mono int16 at ``sample_rate``: leading silence trimmed, fixed length."""
    try:
        wave, rate = soundfile.read(str(require(path)), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as e:
        raise corrupt_source(path, f"cannot decode audio ({e})") from e
    wave = wave.mean(axis=1)
    if rate != sample_rate:
        gcd = np.gcd(rate, sample_rate)
        wave = resample_poly(wave, sample_rate // gcd, rate // gcd).astype(np.float32)
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    if peak > 0:
        loud = np.nonzero(np.abs(wave) > 0.05 * peak)[0]
        wave = wave[loud[0] :] / peak * 0.9
    length = int(round(sample_rate * seconds))
    wave = np.pad(wave[:length], (0, max(0, length - wave.size)))
    return (wave * 32767).astype(np.int16)


class _StampBuilder(tfds.core.GeneratorBasedBuilder):
    VERSION = tfds.core.Version("1.0.0")
    MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
    BUILDER_CONFIGS: list = []  # made from params.yaml at run time
    HOMEPAGE = "https://packages.debian.org/bookworm/tuxpaint-stamps-default"


class ImpStamps(_StampBuilder):
    """Tux Paint stamp photos with their English captions."""

    def _info(self):
        size = self.builder_config.image_size
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {"image": tfds.features.Image(shape=(size, size, 3)), "caption": tfds.features.Text(), "id": tfds.features.Text()}
            ),
            description=__doc__,
            homepage=self.HOMEPAGE,
        )

    def _split_generators(self, dl_manager):
        splits = split_items(stamp_index(Path(dl_manager.manual_dir)), self.builder_config)
        return {name: self._generate_examples(entries) for name, entries in splits.items()}

    def _generate_examples(self, entries):
        size = self.builder_config.image_size
        for key, (png, caption) in entries:
            yield key, {"image": square(load_stamp(png), size), "caption": caption, "id": key}


class ImpStampClips(_StampBuilder):
    """Clips made from stamps by camera motion; training stamps get random motions, others all four."""

    def _info(self):
        c = self.builder_config
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "video": tfds.features.Video(shape=(c.video_frames, c.image_size, c.image_size, 3)),
                    "caption": tfds.features.Text(),
                    "motion": tfds.features.ClassLabel(names=list(MOTIONS)),
                    "id": tfds.features.Text(),
                }
            ),
            description=__doc__,
            homepage=self.HOMEPAGE,
        )

    def _split_generators(self, dl_manager):
        splits = split_items(stamp_index(Path(dl_manager.manual_dir)), self.builder_config)
        return {name: self._generate_examples(name, entries) for name, entries in splits.items()}

    def _generate_examples(self, split, entries):
        c = self.builder_config
        for key, (png, caption) in entries:
            image = load_stamp(png)
            motions = MOTIONS
            if split == "train":
                rng = np.random.default_rng([c.seed, int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)])
                motions = tuple(rng.choice(MOTIONS, size=min(c.clips_per_image, len(MOTIONS)), replace=False))
            for motion in motions:
                yield f"{key}|{motion}", {
                    "video": camera_motion_clip(image, motion, c.video_frames, c.image_size),
                    "caption": f"{caption} {motion[0].upper()}{motion[1:]}.",
                    "motion": motion,
                    "id": key,
                }


class ImpSounds(_StampBuilder):
    """Real sound effects of Tux Paint stamps, captioned with the stamp's caption."""

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "audio": tfds.features.Audio(shape=(None,), dtype=np.int16, sample_rate=self.builder_config.audio_sample_rate),
                    "caption": tfds.features.Text(),
                    "id": tfds.features.Text(),
                }
            ),
            description=__doc__,
            homepage=self.HOMEPAGE,
        )

    def _split_generators(self, dl_manager):
        root = require(Path(dl_manager.manual_dir) / STAMPS_DIR)
        items = {}
        for ogg in sorted(root.rglob("*.ogg")):
            txt = ogg.with_suffix(".txt")
            if txt.exists() and "math" not in ogg.parts:
                items[str(ogg.relative_to(root).with_suffix(""))] = (ogg, read_caption(txt))
        splits = split_items(items, self.builder_config)
        return {name: self._generate_examples(entries) for name, entries in splits.items()}

    def _generate_examples(self, entries):
        c = self.builder_config
        for key, (ogg, caption) in entries:
            yield key, {"audio": load_audio(ogg, c.audio_sample_rate, c.audio_seconds), "caption": caption, "id": key}


class ImpSpokenDigits(_StampBuilder):
    """Digits 0-9 spoken by real voices in many languages; split by language."""

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "audio": tfds.features.Audio(shape=(None,), dtype=np.int16, sample_rate=self.builder_config.audio_sample_rate),
                    "label": tfds.features.ClassLabel(names=list(DIGITS)),
                    "caption": tfds.features.Text(),
                    "language": tfds.features.Text(),
                }
            ),
            description=__doc__,
            homepage=self.HOMEPAGE,
        )

    def _split_generators(self, dl_manager):
        math = require(Path(dl_manager.manual_dir) / STAMPS_DIR / "symbols" / "math")
        clips = {}
        for ogg in sorted(math.glob("*.ogg")):
            if match := _DIGIT_CLIP.match(ogg.name):
                clips[(match.group(2) or "en").lower(), int(match.group(1))] = ogg
        languages = language_splits(sorted({lang for lang, _ in clips}), self.builder_config)
        splits = {"train": [], "validation": [], "test": []}
        for (lang, digit), ogg in sorted(clips.items()):
            splits[languages[lang]].append((f"{lang}/{digit}", (ogg, digit, lang)))
        return {name: self._generate_examples(entries) for name, entries in splits.items()}

    def _generate_examples(self, entries):
        c = self.builder_config
        for key, (ogg, digit, lang) in entries:
            yield key, {
                "audio": load_audio(ogg, c.audio_sample_rate, c.audio_seconds),
                "label": digit,
                "caption": DIGITS[digit],
                "language": lang,
            }


def language_splits(languages: list[str], config: SuiteConfig) -> dict[str, str]:
    """Holds out whole languages: at least one for test and one for validation, ranked by hash."""
    ranked = sorted(languages, key=lambda lang: hashlib.sha256(lang.encode()).hexdigest())
    n_test = max(1, round(len(ranked) * config.test_percent / 100))
    n_val = max(1, round(len(ranked) * config.validation_percent / 100))
    return {
        lang: "test" if i < n_test else "validation" if i < n_test + n_val else "train"
        for i, lang in enumerate(ranked)
    }
