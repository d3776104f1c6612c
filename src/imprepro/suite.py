"""The embedded default suite by name: its pretraining tasks and zero-shot benchmarks.

A plain table with no framework imports, so that params.yaml can be checked against it at once
(by every stage and by the Snakefile) before any data or model code loads.
"""

from __future__ import annotations

import dataclasses

MOTIONS = ("the camera zooms in", "the camera zooms out", "the camera pans left", "the camera pans right")
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# seqio task -> (prepared TFDS dataset, modality paired with text, label feature or None)
TASKS = {
    "emoji_image_text": ("emoji_noto", "image", None),
    "symbola_image_text": ("emoji_symbola", "image", None),
    "stamp_image_text": ("stamps", "image", None),
    "stamp_video_text": ("stamp_clips", "video", "motion"),
    "sound_audio_text": ("sounds", "audio", None),
    "digit_audio_text": ("spoken_digits", "audio", "label"),
}
# Tasks with no training split: evaluation only.
EVAL_ONLY_TASKS = ("symbola_image_text",)


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """A zero-shot benchmark over one split of a seqio task."""

    task: str
    split: str
    kind: str                          # "classification" or "retrieval"
    classes: tuple[str, ...] | None    # class names by label id; None = one class per caption
    description: str
    paper_analogue: str


BENCHMARKS = {
    "symbola_emoji": Benchmark(
        "symbola_image_text", "test", "classification", None,
        "Symbola outline emoji (an art style never trained on), classified among all their Unicode names",
        "ImageNet-1k / CIFAR-100 zero-shot classification",
    ),
    "stamp_motion": Benchmark(
        "stamp_video_text", "test", "classification", MOTIONS,
        "camera-motion clips of held-out Tux Paint stamps, classified by motion (4 classes); the four "
        "motion sentences end the training clips' captions, so the images are new but the classes are not",
        "Kinetics-400/600/700, UCF101, HMDB51 zero-shot classification",
    ),
    "spoken_digits": Benchmark(
        "digit_audio_text", "test", "classification", DIGITS,
        "digits 0-9 spoken in languages never heard in training (10 classes); only cognates "
        "(tres/três/tre, drei/drie) carry over, so little above chance is expected",
        "ESC-50 zero-shot classification",
    ),
    "emoji_retrieval": Benchmark(
        "emoji_image_text", "test", "retrieval", None,
        "text-to-image retrieval of held-out Noto emoji by their names",
        "COCO / Flickr30k text-to-image retrieval",
    ),
}


def check_benchmark(params: dict, benchmark: str) -> None:
    """A benchmark may run only when params.yaml lists it (and so names a known one)."""
    if benchmark not in params["evaluate"]["benchmarks"]:
        raise ValueError(
            f"benchmark {benchmark!r} is not listed in params.yaml evaluate.benchmarks "
            f"({', '.join(params['evaluate']['benchmarks'])}); known: {', '.join(BENCHMARKS)}"
        )


# params.yaml select.metric -> the retrieval metric it pools over the validation captions
SELECT_METRICS = {"mean_recall_at_1": "R@1", "mean_recall_at_5": "R@5", "mean_recall_at_10": "R@10"}
