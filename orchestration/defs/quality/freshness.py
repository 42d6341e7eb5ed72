"""Freshness checks on the marts: a daily pipeline whose marts are older than a day and a bit
has stopped running, which no SLO check can say (they only run when the pipeline does)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

# SPEC section 6's marts. A day plus two hours: the daily schedule's run may start late or queue.
MART_KEYS = [
    dg.AssetKey(name)
    for name in (
        "dim_leads",
        "fct_conversions",
        "fct_hop_parity_daily",
        "fct_assignment_latency_daily",
        "fct_dead_letters_daily",
        "rpt_dropped_leads",
    )
]
MAX_AGE = timedelta(hours=26)

mart_freshness_checks = dg.build_last_update_freshness_checks(
    assets=MART_KEYS, lower_bound_delta=MAX_AGE
)
mart_freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=mart_freshness_checks,
    name="mart_freshness_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
