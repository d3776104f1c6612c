"""Alternating Gradient Descent schedules: which task each step trains on.

Both schedules are pure functions of (seed, step), so a resumed run picks the same tasks as an
uninterrupted one.

- ``random`` (the paper): each step samples a task with probability proportional to its weight.
- ``interval`` (the official code): task i is due every ``interval_i`` steps; among the tasks due
  at a step the rarest (largest interval) goes first, ties taken in turn.
"""

from __future__ import annotations

import numpy as np


def random_task(seed: int, step: int, tasks: list[str], weights: list[float]) -> str:
    """The task for ``step`` under the random schedule."""
    p = np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng([seed, step])
    return tasks[int(rng.choice(len(tasks), p=p / p.sum()))]


def interval_task(step: int, tasks: list[str], intervals: list[int]) -> str:
    """The task for ``step`` under the interval schedule."""
    due = [i for i, every in enumerate(intervals) if step % max(1, int(every)) == 0]
    if not due:  # no interval divides this step: fall back to the most frequent task
        due = [int(np.argmin(intervals))]
    rarest = max(intervals[i] for i in due)
    ties = [i for i in due if intervals[i] == rarest]
    return tasks[ties[(step // max(1, rarest)) % len(ties)]]


def task_for_step(schedule: str, seed: int, step: int, tasks: dict[str, float]) -> str:
    """Dispatches on the schedule's name; ``tasks`` maps names to weights (or intervals)."""
    names, values = list(tasks), list(tasks.values())
    if schedule == "random":
        return random_task(seed, step, names, values)
    if schedule == "interval":
        return interval_task(step, names, [int(v) for v in values])
    raise ValueError(f"unknown AGD schedule {schedule!r} (expected 'random' or 'interval')")
