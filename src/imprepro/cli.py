"""``imprepro``: one thin command per pipeline stage, called alike by Snakemake and DVC."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from imprepro import __version__

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


def _download(args, params):
    from imprepro.sources import download

    download(params, Path(args.downloads), Path(args.out))


def _prepare(args, params):
    from imprepro.prepare import prepare

    prepare(params, Path(args.raw), Path(args.out))


def _vocab(args, params):
    from imprepro.vocab import build_vocab

    build_vocab(params, Path(args.tfds), Path(args.out))


def _tokenize(args, params):
    from imprepro.cache import materialise

    materialise(params, Path(args.tfds), Path(args.vocab), Path(args.out))


def _train(args, params):
    from imprepro.train import train

    train(params, Path(args.cache), Path(args.vocab), Path(args.checkpoints), Path(args.out))


def _select(args, params):
    from imprepro.select import select

    select(params, Path(args.cache), Path(args.vocab), Path(args.train), Path(args.out))


def _evaluate(args, params):
    from imprepro.suite import check_benchmark

    check_benchmark(params, args.benchmark)  # before the slow imports below
    from imprepro.evaluate import evaluate

    out = Path(args.out.replace("BENCHMARK", args.benchmark))
    evaluate(params, args.benchmark, Path(args.cache), Path(args.vocab), Path(args.train), Path(args.selection), out)


def _report(args, params):
    from imprepro.report import report

    report(params, Path(args.results), Path(args.out))


PATH_HELP = {
    "downloads": "folder of verified .deb files (fetched when missing)",
    "raw": "unpacked source files (download stage)",
    "tfds": "prepared TFDS datasets (prepare stage)",
    "vocab": "SentencePiece vocabulary (vocab stage)",
    "cache": "materialised seqio tasks (tokenize stage)",
    "checkpoints": "orbax checkpoints, one folder per training run",
    "train": "train stage outputs (manifest.json, metrics.jsonl)",
    "selection": "checkpoint selection (select stage)",
    "results": "results folder the report reads",
    "out": "where this stage writes",
}


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface: ``imprepro [--params FILE] STAGE [paths...]``."""
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(prog="imprepro", description=__doc__, formatter_class=formatter)
    parser.add_argument("--params", default="params.yaml", help="pipeline parameters")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")

    def stage(name, func, help_text, **paths):
        p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=formatter)
        for flag, default in paths.items():
            p.add_argument(f"--{flag}", default=default, metavar="PATH", help=PATH_HELP[flag])
        p.set_defaults(func=func)
        return p

    stage("download", _download, "fetch and verify the default suite's source files",
          downloads="data/downloads", out="data/raw")
    stage("prepare", _prepare, "build TFDS datasets from the raw files", raw="data/raw", out="data/tfds")
    stage("vocab", _vocab, "train the SentencePiece vocabulary (or take a T5 one)", tfds="data/tfds", out="data/vocab")
    stage("tokenize", _tokenize, "materialise every seqio task into the cache",
          tfds="data/tfds", vocab="data/vocab", out="data/cache")
    stage("train", _train, "AGD pretraining with MoE; writes a manifest of checkpoints",
          cache="data/cache", vocab="data/vocab", checkpoints="data/checkpoints", out="results/train")
    stage("select", _select, "score every checkpoint on validation data and pick one",
          cache="data/cache", vocab="data/vocab", train="results/train", out="results/selection.json")
    p = stage("evaluate", _evaluate, "zero-shot evaluation of the selected checkpoint on one benchmark",
              cache="data/cache", vocab="data/vocab", train="results/train",
              selection="results/selection.json", out="results/eval/BENCHMARK.json")
    p.add_argument("benchmark", help="benchmark name (params.yaml evaluate.benchmarks)")
    stage("report", _report, "write results/report.md, metrics.json and plots", results="results", out="results/report.md")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns a process exit code (2 for bad configuration or input)."""
    args = build_parser().parse_args(argv)
    from imprepro.config import ConfigError, load_params

    try:
        params = load_params(args.params)
        args.func(args, params)
    except (ConfigError, FileNotFoundError, ValueError, RuntimeError) as e:
        print(f"imprepro {args.stage}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
