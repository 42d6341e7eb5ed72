"""Exact tests for the early warnings: a binomial upper tail and Benjamini-Hochberg.

A day's drops are compared with a baseline's by the conditional binomial test of two rates:
given k = x + y drops over n (today) and m (baseline) expected conversions, equal drop rates
make x ~ Binomial(k, n / (n + m)). It is exact for Poisson-like counts and, unlike a test
against a point estimate of the baseline rate, stays sound when the baseline saw no drop at
all. Computed in log space, so tails of thousands of trials neither overflow nor underflow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _log_pmf(j: int, k: int, p: float) -> float:
    return (
        math.lgamma(k + 1) - math.lgamma(j + 1) - math.lgamma(k - j + 1)
        + j * math.log(p) + (k - j) * math.log1p(-p)
    )  # fmt: skip


def _tail_from(j: int, k: int, p: float, step: int) -> float:
    """Sum of pmf(j), pmf(j + step), ... walking away from the mode: the terms only shrink,
    so it starts at its largest term (no overflow) and stops once the rest no longer count."""
    ratio = p / (1.0 - p)
    term = total = 1.0
    while (j > 0) if step < 0 else (j < k):
        # pmf(j + 1) / pmf(j) = (k - j) / (j + 1) * p / q, and its inverse one step down.
        term *= (k - j) / (j + 1) * ratio if step > 0 else j / (k - j + 1) / ratio
        j += step
        total += term
        if term < total * 1e-17:
            break
    return total


def binomial_upper_tail(x: int, k: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(k, p)."""
    if x <= 0:
        return 1.0
    if x > k or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    if x > k * p:
        return min(1.0, math.exp(_log_pmf(x, k, p)) * _tail_from(x, k, p, +1))
    # At or below the mean the upper tail is most of the mass: 1 - P(X <= x - 1).
    lower = math.exp(_log_pmf(x - 1, k, p)) * _tail_from(x - 1, k, p, -1)
    return min(1.0, max(0.0, 1.0 - lower))


def rate_increase_p_value(x: int, n: int, y: int, m: int) -> float:
    """One-sided p-value that x drops of n exceed the rate of y drops of m (conditional test)."""
    if n <= 0 or m <= 0:
        return 1.0
    return binomial_upper_tail(x, x + y, n / (n + m))


def benjamini_hochberg(p_values: Sequence[float], fdr: float) -> list[bool]:
    """Which hypotheses BH rejects at false discovery rate `fdr` (same order as given)."""
    count = len(p_values)
    order = sorted(range(count), key=lambda i: p_values[i])
    cutoff = -1
    for rank, index in enumerate(order, start=1):
        if p_values[index] <= fdr * rank / count:
            cutoff = rank
    rejected = [False] * count
    for rank, index in enumerate(order, start=1):
        rejected[index] = rank <= cutoff
    return rejected
