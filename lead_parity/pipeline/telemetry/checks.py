"""Warnings on the telemetry marts: each judges the days of the last week up to as_of.

A check returns the units it judged and the ones that breach; the Dagster asset checks
(orchestration/defs/quality/telemetry.py) turn them into WARN results with the breaches in
their metadata. Baselines are each destination's or metric's own recent history (the median
of the previous `BASELINE_DAYS` days), so a vendor that always rate-limits a little does not
warn every day, and one that never does warns on its first real storm.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb

from lead_parity.contract import Contract

WINDOW_DAYS = 7  # judged: the days of the last week up to as_of
BASELINE_DAYS = 14
MIN_BASELINE_DAYS = 3
SPIKE_MIN_PCT = 1.0  # a share below this is no storm, whatever its baseline
SPIKE_MIN_429 = 10
LATENCY_MIN_ENRICHED = 10


@dataclass
class CheckOutcome:
    name: str
    mart: str
    description: str
    judged: int = 0
    breaches: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.breaches

    def judge(self, breached: bool, facts: dict) -> None:
        """Count one judged unit (a day, or a destination's day); keep its facts if it breaches."""
        self.judged += 1
        if breached:
            self.breaches.append(facts)


def _window(as_of: datetime) -> tuple[date, date]:
    last = as_of.date()
    return last - timedelta(days=WINDOW_DAYS - 1), last


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def _history_since(first: date) -> date:
    """The first day a baseline of the window starting at `first` can reach back to."""
    return first - timedelta(days=BASELINE_DAYS)


def _against_baseline(
    history: dict[date, float], first: date, last: date
) -> Iterator[tuple[date, float, int]]:
    """The days from `first` to `last` with enough history before them to judge, each with the
    median of its previous `BASELINE_DAYS` days and how many of those days had a value."""
    for day in sorted(d for d in history if first <= d <= last):
        before = [
            history[d]
            for d in (day - timedelta(days=back) for back in range(1, BASELINE_DAYS + 1))
            if d in history
        ]
        if len(before) >= MIN_BASELINE_DAYS:
            yield day, statistics.median(before), len(before)


def lead_id_coverage(
    con: duckdb.DuckDBPyConnection, contract: Contract, as_of: datetime
) -> CheckOutcome:
    threshold = contract.telemetry.lead_id_coverage_pct
    out = CheckOutcome(
        "lead_id_coverage",
        "fct_capture_compliance_daily",
        f"Share of a day's conversions carrying a lead_id (Rule 1 of the playbook) is at least "
        f"telemetry.lead_id_coverage_pct ({threshold:g}%).",
    )
    first, last = _window(as_of)
    for day, conversions, with_lead_id in _rows(
        con,
        "select conversion_date, sum(conversions), sum(with_lead_id) "
        "from marts.fct_capture_compliance_daily where conversion_date between ? and ? "
        "group by conversion_date order by conversion_date",
        [first, last],
    ):
        pct = 100.0 * with_lead_id / conversions
        out.judge(
            pct < threshold,
            {
                "date": day.isoformat(),
                "conversions": int(conversions),
                "with_lead_id": int(with_lead_id),
                "lead_id_pct": round(pct, 2),
                "threshold_pct": threshold,
            },
        )
    return out


def rate_limit_spikes(
    con: duckdb.DuckDBPyConnection, contract: Contract, as_of: datetime
) -> CheckOutcome:
    ratio = contract.telemetry.rate_limit_spike_ratio
    out = CheckOutcome(
        "rate_limit_spike",
        "fct_vendor_rate_limits_daily",
        f"A destination's 429 share stays below {ratio:g}x the median of its previous "
        f"{BASELINE_DAYS} days (and below {SPIKE_MIN_PCT:g}% or {SPIKE_MIN_429} answers).",
    )
    first, last = _window(as_of)
    history: dict[tuple[str, str], dict[date, float]] = {}
    counts: dict[tuple[str, str, date], tuple[int, int]] = {}
    for day, destination, observed_by, attempts, limited in _rows(
        con,
        "select attempt_date, destination, observed_by, attempts, rate_limited "
        "from marts.fct_vendor_rate_limits_daily where attempt_date between ? and ? "
        "and attempts > 0",
        [_history_since(first), last],
    ):
        history.setdefault((destination, observed_by), {})[day] = 100.0 * limited / attempts
        counts[(destination, observed_by, day)] = (int(attempts), int(limited))
    for (destination, observed_by), days in sorted(history.items()):
        for day, baseline, n_days in _against_baseline(days, first, last):
            pct = days[day]
            attempts, limited = counts[(destination, observed_by, day)]
            out.judge(
                pct >= SPIKE_MIN_PCT and limited >= SPIKE_MIN_429 and pct >= ratio * baseline,
                {
                    "date": day.isoformat(),
                    "destination": destination,
                    "observed_by": observed_by,
                    "attempts": attempts,
                    "rate_limited": limited,
                    "rate_limited_pct": round(pct, 2),
                    "baseline_pct": round(baseline, 3),
                    "baseline_days": n_days,
                },
            )
    return out


def enrichment_success(
    con: duckdb.DuckDBPyConnection, contract: Contract, as_of: datetime
) -> CheckOutcome:
    floor = contract.slo.enrichment_success_pct
    out = CheckOutcome(
        "enrichment_success_daily",
        "fct_enrichment_daily",
        f"Enrichment succeeds for more than slo.enrichment_success_pct ({floor:g}%) of a "
        "day's conversions (SPEC section 3).",
    )
    first, last = _window(as_of)
    for day, attempted, enriched, pct in _rows(
        con,
        "select conversion_date, attempted, enriched, success_pct from marts.fct_enrichment_daily "
        "where conversion_date between ? and ? and attempted > 0 order by conversion_date",
        [first, last],
    ):
        out.judge(
            pct < floor,
            {
                "date": day.isoformat(),
                "attempted": int(attempted),
                "enriched": int(enriched),
                "success_pct": round(pct, 3),
                "threshold_pct": floor,
            },
        )
    return out


def enrichment_latency(
    con: duckdb.DuckDBPyConnection, contract: Contract, as_of: datetime
) -> CheckOutcome:
    ratio = contract.telemetry.enrichment_p95_degradation_ratio
    out = CheckOutcome(
        "enrichment_latency",
        "fct_enrichment_daily",
        f"A day's P95 enrichment latency stays below {ratio:g}x the median P95 of the previous "
        f"{BASELINE_DAYS} days.",
    )
    first, last = _window(as_of)
    history: dict[date, float] = {}
    enriched: dict[date, int] = {}
    for day, count, p95 in _rows(
        con,
        "select conversion_date, enriched, p95_s from marts.fct_enrichment_daily "
        "where conversion_date between ? and ? and p95_s is not null",
        [_history_since(first), last],
    ):
        history[day] = float(p95)
        enriched[day] = int(count)
    for day, baseline, n_days in _against_baseline(history, first, last):
        if enriched[day] < LATENCY_MIN_ENRICHED:
            continue  # too few enriched conversions for a P95 worth judging
        out.judge(
            baseline > 0 and history[day] >= ratio * baseline,
            {
                "date": day.isoformat(),
                "enriched": enriched[day],
                "p95_s": round(history[day], 1),
                "baseline_p95_s": round(baseline, 1),
                "baseline_days": n_days,
            },
        )
    return out


CHECKS: dict[str, Callable[[duckdb.DuckDBPyConnection, Contract, datetime], CheckOutcome]] = {
    "lead_id_coverage": lead_id_coverage,
    "rate_limit_spike": rate_limit_spikes,
    "enrichment_success_daily": enrichment_success,
    "enrichment_latency": enrichment_latency,
}
