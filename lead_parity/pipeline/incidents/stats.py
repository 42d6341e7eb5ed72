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


def _log_pmf(k: int, j: int, log_p: float, log_q: float) -> float:
    return (
        math.lgamma(k + 1)
        - math.lgamma(j + 1)
        - math.lgamma(k - j + 1)
        + j * log_p
        + (k - j) * log_q
    )


def binomial_upper_tail(x: int, k: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(k, p)."""
    if x <= 0:
        return 1.0
    if x > k or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [_log_pmf(k, j, log_p, log_q) for j in range(x, k + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


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
