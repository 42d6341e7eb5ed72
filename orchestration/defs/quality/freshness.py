"""Freshness of the marts: a daily pipeline whose marts are older than a day and a bit has
stopped running, which no SLO check can say (they only run when the pipeline does). Dagster
evaluates the policy itself and shows it on each mart; no sensor or check run is needed."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from orchestration.defs.marts import SPEC_MARTS

MART_NAMES = frozenset(SPEC_MARTS)
# Warn after a day and two hours (the daily run may start late or queue); fail after two days.
MART_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=26), fail_window=timedelta(hours=50)
)


def freshness_of(model_name: str) -> dg.FreshnessPolicy | None:
    return MART_FRESHNESS if model_name in MART_NAMES else None
