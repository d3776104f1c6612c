"""Zero-shot metrics on plain arrays: retrieval ranks and recall, top-k accuracy, the chance level
of each, and how surely a score beats chance. No model or framework code, so it is cheap to test.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

RECALL_AT = (1, 5, 10)


def caption_matches(captions: np.ndarray) -> np.ndarray:
    """[N, N] booleans: pair j's caption (token ids [N, L]) is identical to pair i's.
    Works on numpy and jax arrays alike (the training loss uses it under jit)."""
    return (captions[:, None, :] == captions[None, :, :]).all(axis=-1)


def retrieval_ranks(queries: np.ndarray, targets: np.ndarray, match: np.ndarray | None = None) -> np.ndarray:
    """1-based rank, for each query i, of the best-scoring target that matches it; ties count
    against the query.

    Without ``match`` only target i matches query i. With ``match`` (from
    :func:`caption_matches`), every target whose caption is identical to query i's matches it
    too: a clip of "three" spoken in another language is not a wrong answer to the query "three".
    """
    scores = queries @ targets.T
    if match is None:
        match = np.eye(len(queries), dtype=bool)
    best = np.where(match, scores, -np.inf).max(axis=1, keepdims=True)
    return 1 + ((scores >= best) & ~match).sum(axis=1)


def retrieval_metrics(ranks: np.ndarray) -> dict[str, float]:
    """R@1/5/10 (percent) and median rank."""
    metrics = {f"R@{k}": float(100 * np.mean(ranks <= k)) for k in RECALL_AT}
    return {**metrics, "median_rank": float(np.median(ranks))}


def retrieval_chance(matches_per_query: np.ndarray, n: int) -> dict[str, float]:
    """The metrics of :func:`retrieval_metrics` when scores are random.

    A query with m matching targets among n has its first match at position p with
    P(p <= k) = 1 - prod_{i<m} (n - k - i) / (n - i). R@k is the mean of that over the queries;
    the median rank is the smallest k at which the mean reaches one half.
    """
    counts, queries = np.unique(np.asarray(matches_per_query), return_counts=True)
    k = np.arange(1, n + 1)
    within = np.zeros(n)  # P(rank <= k), k = 1..n, averaged over the queries
    for m, q in zip(counts, queries):
        i = np.arange(m)[None, :]
        miss = np.clip((n - k[:, None] - i) / (n - i), 0, 1).prod(axis=1)
        within += q * (1 - miss)
    within /= queries.sum()
    chance = {f"R@{r}": float(100 * within[min(r, n) - 1]) for r in RECALL_AT}
    return {**chance, "median_rank": float(np.argmax(within >= 0.5) + 1)}


def topk_accuracy(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Top-k accuracy in percent."""
    k = min(k, logits.shape[1])
    top = np.argsort(-logits, axis=1)[:, :k]
    return float(100 * np.mean((top == labels[:, None]).any(axis=1)))


def classification_topk(num_classes: int) -> tuple[int, ...]:
    """The top-k metrics worth reporting: top-5 only when there are more than five classes."""
    return (1, 5) if num_classes > 5 else (1,)


def classification_chance(num_classes: int) -> dict[str, float]:
    """Expected top-k accuracy (percent) of random guessing among ``num_classes`` classes."""
    return {f"top{k}": 100.0 * min(k, num_classes) / num_classes for k in classification_topk(num_classes)}


def p_above_chance(score: float, chance: float, n: int) -> float:
    """One-sided binomial test: the probability of scoring at least ``score`` percent on ``n``
    independent examples by guessing with success rate ``chance`` percent."""
    successes = int(round(score / 100 * n))
    return float(stats.binom.sf(successes - 1, n, chance / 100))
