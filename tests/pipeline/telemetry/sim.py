"""A seeded simulation of the telemetry marts over a few weeks, written to a real DuckDB file.

It draws what the dbt marts would hold for a stack of a few thousand conversions a day (weekday
and weekend volumes, per-campaign drop rates well under the 1% SLO) and can inject what the
early warnings and checks exist for: a 0.4% leak on one campaign from a given day, a 429 storm
on one day, an enrichment slowdown, a dead-letter surge, a lead_id tagging break. Marts, not
raw input: the daily figures are what the rules read, and drawing them directly keeps a
six-week, quarter-million-conversion scenario to a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

START = date(2026, 9, 7)  # a Monday
CHAINS = {
    "demo_request": ("marketing", "crm", "crm_assignment"),
    "contact_sales": ("marketing", "crm", "crm_assignment"),
    "question": ("support", "support_assignment"),
}
DAILY_VOLUME = {"demo_request": 3000, "contact_sales": 800, "question": 1200}
ORIGIN_SHARE = {
    "google_ads": 0.30, "linkedin": 0.14, "newsletter": 0.11, "webinar": 0.08,
    "partner": 0.07, "organic": 0.16, "direct": 0.14,
}  # fmt: skip
# The simulator's campaign spread (partner forms are flaky), on a clean 0.2% base.
ORIGIN_DROP = {
    "google_ads": 1.0, "linkedin": 1.5, "newsletter": 0.5, "webinar": 1.3,
    "partner": 2.6, "organic": 0.8, "direct": 1.0,
}  # fmt: skip
DESTINATIONS = {
    "marketing": "hubspot-forms", "crm": "hubspot-crm", "crm_assignment": "hubspot-crm",
    "support": "zendesk", "support_assignment": "zendesk", "enrichment": "clearbit-enrichment",
}  # fmt: skip
BACKGROUND_CAUSES = ("integration_failure", "identity_mismatch", "no_trace")


@dataclass(frozen=True)
class Leak:
    hop: str = "crm"
    conversion_type: str = "demo_request"
    origin: str = "google_ads"
    start_day: int = 28  # the Monday of the fifth week
    rate: float = 0.004
    root_cause: str = "silent_drop"


@dataclass(frozen=True)
class Scenario:
    seed: int = 7
    weeks: int = 6
    base_drop: float = 0.002
    leak: Leak | None = None
    storm_day: int | None = None  # a 429 storm (25% of attempts) at hubspot-crm
    slowdown_from: int | None = None  # enrichment P95 latency x4 from this day on
    lead_id_break_day: int | None = None  # lead_id carried by 70% instead of 96%
    volume_scale: float = 1.0

    @property
    def days(self) -> list[date]:
        return [START + timedelta(days=i) for i in range(7 * self.weeks)]

    @property
    def as_of(self) -> datetime:
        """Two days after the last conversion day: every day is final."""
        last = self.days[-1]
        return datetime(last.year, last.month, last.day, 6, tzinfo=UTC) + timedelta(days=2)


@dataclass
class Marts:
    parity: pd.DataFrame
    totals: pd.DataFrame
    dropped: pd.DataFrame
    receipts: pd.DataFrame
    rate_limits: pd.DataFrame
    enrichment: pd.DataFrame
    compliance: pd.DataFrame
    leak_rows: list[dict] = field(default_factory=list)


def simulate(scenario: Scenario) -> Marts:
    rng = np.random.default_rng(scenario.seed)
    parity, dropped_rows, receipts, rates, enrichment, compliance = [], [], [], [], [], []
    for index, day in enumerate(scenario.days):
        weekend = day.weekday() >= 5
        hop_arrivals: dict[str, int] = {}
        for ctype, hops in CHAINS.items():
            for origin, share in ORIGIN_SHARE.items():
                mean = DAILY_VOLUME[ctype] * share * scenario.volume_scale * (0.4 if weekend else 1)
                arriving = int(rng.poisson(mean))
                leads_with_id = int(
                    rng.binomial(arriving, 0.70 if index == scenario.lead_id_break_day else 0.96)
                )
                compliance.append(
                    {"conversion_date": day, "origin": origin, "conversion_type": ctype,
                     "conversions": arriving, "with_lead_id": leads_with_id}
                )  # fmt: skip
                for order, hop in enumerate(hops, start=1):
                    rate = scenario.base_drop * ORIGIN_DROP[origin]
                    dropped = int(rng.binomial(arriving, rate))
                    causes = list(rng.choice(BACKGROUND_CAUSES, size=dropped))
                    leak = scenario.leak
                    if (
                        leak is not None
                        and index >= leak.start_day
                        and (hop, ctype, origin) == (leak.hop, leak.conversion_type, leak.origin)
                    ):
                        leaked = int(rng.binomial(arriving - dropped, leak.rate))
                        dropped += leaked
                        causes += [leak.root_cause] * leaked
                    parity.append(
                        {"conversion_date": day, "conversion_type": ctype, "origin": origin,
                         "hop": hop, "hop_order": order, "coverage": "covered",
                         "expected": arriving, "reached": arriving - dropped, "dropped": dropped,
                         "pending": 0, "unknown": 0}
                    )  # fmt: skip
                    for n, cause in enumerate(causes):
                        dropped_rows.append(
                            {"conversion_id": f"{day:%m%d}-{ctype}-{origin}-{hop}-{n}",
                             "conversion_type": ctype, "origin": origin,
                             "converted_at": datetime(day.year, day.month, day.day, 12),
                             "dropped_at_hop": hop, "root_cause": str(cause),
                             "intent_score": 50, "value_usd": 1000.0}
                        )  # fmt: skip
                    hop_arrivals[hop] = hop_arrivals.get(hop, 0) + arriving
                    arriving -= dropped
        hop_arrivals["enrichment"] = hop_arrivals["crm_assignment"]
        for hop, arrivals in hop_arrivals.items():
            attempts = int(rng.poisson(arrivals * 1.1))
            dead_rate = 0.03 if (index == scenario.storm_day and hop == "crm") else 0.0005
            receipts.append(
                {"attempt_date": day, "hop": hop, "destination": DESTINATIONS[hop],
                 "attempts": attempts, "dead_lettered": int(rng.binomial(attempts, dead_rate))}
            )  # fmt: skip
        by_destination: dict[str, int] = {}
        for row in receipts[-len(hop_arrivals) :]:
            by_destination[row["destination"]] = (
                by_destination.get(row["destination"], 0) + row["attempts"]
            )
        for destination, attempts in by_destination.items():
            share = (
                0.25 if (index == scenario.storm_day and destination == "hubspot-crm") else 0.003
            )
            limited = int(rng.binomial(attempts, share))
            rates.append(
                {"attempt_date": day, "destination": destination, "observed_by": "receipts",
                 "requests": attempts, "attempts": attempts, "rate_limited": limited,
                 "rate_limited_pct": 100.0 * limited / attempts if attempts else None}
            )  # fmt: skip
        tried = hop_arrivals["enrichment"]
        enriched = int(rng.binomial(tried, 0.998))
        slow = scenario.slowdown_from is not None and index >= scenario.slowdown_from
        latencies = rng.lognormal(np.log(40 * (4 if slow else 1)), 0.5, size=max(enriched, 1))
        enrichment.append(
            {"conversion_date": day, "attempted": tried, "enriched": enriched,
             "failed": tried - enriched, "success_pct": 100.0 * enriched / tried,
             "median_s": float(np.median(latencies)),
             "p95_s": float(np.quantile(latencies, 0.95))}
        )  # fmt: skip
    parity_frame = pd.DataFrame(parity)
    totals = (
        parity_frame.groupby(["conversion_date", "hop"], as_index=False)[
            ["expected", "reached", "dropped"]
        ]
        .sum()
        .assign(conversion_type="all", origin="all", coverage="covered", pending=0)
    )
    for frame in (parity_frame, totals):
        frame["discrepancy_pct"] = (
            100.0 * frame["dropped"] / frame["expected"].where(frame["expected"] > 0)
        )
    return Marts(
        parity=parity_frame,
        totals=totals,
        dropped=pd.DataFrame(dropped_rows),
        receipts=pd.DataFrame(receipts),
        rate_limits=pd.DataFrame(rates),
        enrichment=pd.DataFrame(enrichment),
        compliance=pd.DataFrame(compliance),
    )


def parity_evaluations(marts: Marts, evaluated_at: datetime) -> pd.DataFrame:
    """ops.slo_evaluations rows of the parity rule as the slo_evaluations asset writes them:
    every day total, and every slice with at least 30 expected (SPEC 6)."""
    at = evaluated_at.astimezone(UTC).replace(tzinfo=None)
    judged = pd.concat(
        [marts.totals, marts.parity[marts.parity["expected"] >= 30]], ignore_index=True
    )
    judged = judged[judged["expected"] > 0]
    scope = (
        judged["conversion_date"].astype(str)
        + "|" + judged["hop"] + "|" + judged["conversion_type"] + "|" + judged["origin"]
    )  # fmt: skip
    passed = judged["discrepancy_pct"] < 1.0
    return pd.DataFrame(
        {
            "evaluated_at": at, "rule": "parity", "scope": scope,
            "conversion_date": judged["conversion_date"],
            "conversion_type": judged["conversion_type"], "origin": judged["origin"],
            "hop": judged["hop"], "observed": judged["discrepancy_pct"], "threshold": 1.0,
            "passed": passed, "severity": passed.map({True: "ok", False: "warning"}),
            "expected": judged["expected"], "dropped": judged["dropped"], "details": "{}",
        }
    )  # fmt: skip


def write_warehouse(marts: Marts, path: Path, evaluated_at: datetime) -> Path:
    """The marts (and the parity evaluation) in a DuckDB file laid out like the pipeline's."""
    tables = {
        "marts.fct_hop_parity_daily": marts.parity,
        "marts.fct_hop_parity_daily_totals": marts.totals,
        "marts.rpt_dropped_leads": marts.dropped,
        "marts.fct_delivery_receipts_daily": marts.receipts,
        "marts.fct_vendor_rate_limits_daily": marts.rate_limits,
        "marts.fct_enrichment_daily": marts.enrichment,
        "marts.fct_capture_compliance_daily": marts.compliance,
        "ops.slo_evaluations": parity_evaluations(marts, evaluated_at),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts; create schema if not exists ops")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"create or replace table {name} as select * from frame")
            con.unregister("frame")
    return path
