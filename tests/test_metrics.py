"""Zero-shot metrics on hand-made scores: retrieval ranks, recall, top-k, chance levels."""

import numpy as np

from imprepro.metrics import (
    caption_matches,
    classification_chance,
    p_above_chance,
    retrieval_chance,
    retrieval_metrics,
    retrieval_ranks,
    topk_accuracy,
)


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
    match = caption_matches(captions)
    assert match.sum(axis=1).tolist() == [2, 2, 1]
    assert list(retrieval_ranks(queries, targets, match)) == [1, 1, 1]
    # a non-matching target above every match still costs a rank
    targets_wrong = np.array([[0.5, 0.6], [0.6, 0.5], [0, 1]], np.float32)
    assert list(retrieval_ranks(queries, targets_wrong, match)) == [2, 2, 3]


def test_topk_and_chance():
    logits = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.2]], np.float32)
    labels = np.array([1, 2])
    assert topk_accuracy(logits, labels, 1) == 50.0
    assert topk_accuracy(logits, labels, 2) == 100.0
    assert topk_accuracy(logits, labels, 5) == 100.0  # k capped at the number of classes
    assert classification_chance(4) == {"top1": 25.0}, "top-5 of four classes says nothing"
    assert classification_chance(10) == {"top1": 10.0, "top5": 50.0}


def test_retrieval_chance_matches_random_scores():
    unique = retrieval_chance(np.ones(145, int), 145)
    assert np.isclose(unique["R@1"], 100 / 145) and np.isclose(unique["R@10"], 1000 / 145)
    assert unique["median_rank"] == 73.0
    # ten captions with two matching clips each, as in the spoken-digit validation split
    groups = np.repeat(np.arange(10), 2)
    match = groups[:, None] == groups[None, :]
    rng = np.random.default_rng(0)
    ranks = np.concatenate([retrieval_ranks(rng.normal(size=(20, 8)), rng.normal(size=(20, 8)), match) for _ in range(3000)])
    simulated = retrieval_metrics(ranks)
    exact = retrieval_chance(match.sum(axis=1), 20)
    assert np.isclose(exact["R@1"], 100 * 2 / 20)
    for metric in ("R@1", "R@5", "R@10"):
        assert abs(simulated[metric] - exact[metric]) < 1.5, (metric, simulated[metric], exact[metric])


def test_p_above_chance():
    assert p_above_chance(25.0, 25.0, 400) > 0.4  # at chance: no evidence
    assert p_above_chance(98.3, 25.0, 344) < 1e-100
    assert np.isclose(p_above_chance(100.0, 50.0, 3), 0.125)  # three coin flips all right
    assert 0.01 < p_above_chance(25.0, 10.0, 20) < 0.1  # 5 of 20 against 2 expected: suggestive only
