"""Zero-shot metrics on hand-made scores: retrieval ranks, recall, top-k, chance levels."""

import numpy as np

from imprepro.embedding import retrieval_metrics, retrieval_ranks, topk_accuracy
from imprepro.evaluate import chance_level


def test_ranks_of_unique_captions():
    queries = np.eye(3, dtype=np.float32)
    targets = np.array([[0.2, 1, 0], [0, 0.5, 0], [0, 0, 1]], np.float32)
    # query 1 scores target 0 (1.0) above its own target (0.5): rank 2
    ranks = retrieval_ranks(queries, targets)
    assert list(ranks) == [1, 2, 1]
    metrics = retrieval_metrics(ranks)
    assert np.isclose(metrics["R@1"], 100 * 2 / 3) and metrics["R@5"] == 100 and metrics["median_rank"] == 1


def test_ties_count_against_the_query():
    queries = np.ones((2, 2), np.float32)
    targets = np.ones((2, 2), np.float32)
    assert list(retrieval_ranks(queries, targets)) == [2, 2]


def test_identical_captions_match_each_other():
    # Two clips of "three" (captions 0 and 1) and one of "four": query 0 retrieving clip 1
    # first is right, not a miss.
    queries = np.array([[0, 1], [0, 1], [1, 0]], np.float32)
    targets = np.array([[0.5, 0.6], [0, 1], [1, 0]], np.float32)
    captions = np.array([[3, 1], [3, 1], [4, 1]], np.int32)
    assert list(retrieval_ranks(queries, targets)) == [2, 1, 1]
    assert list(retrieval_ranks(queries, targets, captions)) == [1, 1, 1]
    # a non-matching target above every match still costs a rank
    targets_wrong = np.array([[0.5, 0.6], [0.6, 0.5], [0, 1]], np.float32)
    assert list(retrieval_ranks(queries, targets_wrong, captions)) == [2, 2, 3]


def test_topk_and_chance():
    logits = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.2]], np.float32)
    labels = np.array([1, 2])
    assert topk_accuracy(logits, labels, 1) == 50.0
    assert topk_accuracy(logits, labels, 2) == 100.0
    assert topk_accuracy(logits, labels, 5) == 100.0  # k capped at the number of classes
    assert chance_level("classification", 4) == {"top1": 25.0, "top5": 100.0}
    assert chance_level("retrieval", 145)["median_rank"] == 73.0
