"""A seeded year of daily runs over four hops, under both alerting modes: how often does anyone
get paged? The parity error budget comes from the real dbt model (fct_parity_budget_daily) run
on a DuckDB warehouse; the daily runs go through the real judge and incident store.

Hops as scenarios (400 conversions on weekdays, 120 at weekends):
- marketing: healthy, true drop rate 0.4 %
- crm: healthy, true drop rate 0.8 %
- support: 0.4 %, and a total outage on one day
- support_assignment: 0.4 %, and a 10-day leak at 2.5 %
"""

import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from lead_parity.contract import load_contract, write_contract_tables
from lead_parity.pipeline.incidents import IncidentStore, policy_of
from lead_parity.pipeline.incidents.rules import EvaluationRow, judge
from lead_parity.pipeline.incidents.source import EvaluationSource

ROOT = Path(__file__).resolve().parents[3]
DBT = str(Path(sys.executable).with_name("dbt"))
START = date(2025, 1, 6)  # a Monday
DAYS = 365
OUTAGE = START + timedelta(days=200)
LEAK = START + timedelta(days=250)
RATES = {"marketing": 0.004, "crm": 0.008, "support": 0.004, "support_assignment": 0.004}
SINKS = ["pagerduty", "slack"]


def _volume(day: date) -> int:
    return 120 if day.weekday() >= 5 else 400


def _rate(hop: str, day: date) -> float:
    if hop == "support" and day == OUTAGE:
        return 1.0
    if hop == "support_assignment" and LEAK <= day < LEAK + timedelta(days=10):
        return 0.025
    return RATES[hop]


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> dict[tuple[str, date], tuple[int, int]]:
    rng = np.random.default_rng(20261207)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    return {
        (hop, d): (_volume(d), int(rng.binomial(_volume(d), _rate(hop, d))))
        for hop in RATES
        for d in days
    }


def as_of_for(day_made_final: date) -> datetime:
    """The 06:00 UTC daily run that first sees `day_made_final` final (24h drop_after)."""
    return datetime.combine(day_made_final + timedelta(days=2), time(6), tzinfo=UTC)


@pytest.fixture(scope="module")
def budget_rows(year, tmp_path_factory) -> list[EvaluationRow]:
    """fct_parity_budget_daily built by dbt from a year of day x hop counts."""
    tmp = tmp_path_factory.mktemp("budget")
    warehouse, landed = tmp / "w.duckdb", tmp / "landed"
    last = START + timedelta(days=DAYS - 1)
    write_contract_tables(load_contract(), landed / "_contract", as_of_for(last))
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_hop_parity_daily (conversion_date date, conversion_type "
        "varchar, origin varchar, hop varchar, coverage varchar, expected bigint, "
        "dropped bigint, pending bigint)"
    )
    con.executemany(
        "insert into marts.fct_hop_parity_daily values (?, 'demo_request', 'direct', ?, "
        "'covered', ?, ?, 0)",
        [[d, hop, n, k] for (hop, d), (n, k) in year.items()],
    )
    con.close()
    env = {
        **os.environ,
        "LEAD_PARITY_WAREHOUSE": str(warehouse),
        "LEAD_PARITY_LANDED_DIR": str(landed),
    }
    built = subprocess.run(
        [
            DBT, "run", "--select", "stg_contract__hops", "stg_contract__settings",
            "fct_parity_budget_daily", "--project-dir", str(ROOT / "dbt_project"),
            "--profiles-dir", str(ROOT / "dbt_project"), "--target", "duckdb",
            "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
        ],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        source = EvaluationSource(con, None, None, "test", "marts.fct_parity_budget_daily")
        return source.budget_rows(as_of_for(last))
    finally:
        con.close()


def daily_rows(year) -> list[EvaluationRow]:
    """What the slo_evaluations asset writes for the day x hop totals (SPEC section 6)."""
    contract = load_contract()
    rows = []
    for (hop, d), (n, k) in year.items():
        pct = 100.0 * k / n
        critical = pct >= contract.slo.critical_discrepancy_pct
        rows.append(
            EvaluationRow(
                evaluated_at=as_of_for(d),
                rule="parity",
                scope=f"{d}|{hop}|all|all",
                passed=pct < contract.slo.parity_discrepancy_pct,
                severity="ok" if pct < 1 else "critical" if critical else "warning",
                conversion_date=d,
                conversion_type="all",
                origin="all",
                hop=hop,
                observed=pct,
                threshold=contract.slo.parity_discrepancy_pct,
                expected=n,
                dropped=k,
            )
        )
    return rows


def replay(rows: list[EvaluationRow], history: Path) -> IncidentStore:
    """One run a day at 06:00 UTC for the year; each sees the units of the last 35 days (the
    store's per-scope watermark makes older days change nothing)."""
    contract = load_contract()
    store = IncidentStore.in_history(history)
    by_day: dict[date, list[EvaluationRow]] = {}
    for row in rows:
        by_day.setdefault(row.conversion_date, []).append(row)
    days = sorted(by_day)
    for i, day in enumerate(days):
        as_of = as_of_for(day)
        seen = [replace(r, evaluated_at=as_of) for d in days[max(0, i - 34) : i + 1]
                for r in by_day[d]]  # fmt: skip
        store.apply(
            as_of, judge(seen, contract), samples={}, run_url=None, sinks=SINKS,
            source="simulation", fingerprint=str(day), policy=policy_of(contract),
        )  # fmt: skip
    return store


def pages(store: IncidentStore) -> dict[str, list[str]]:
    """PagerDuty events that would page someone (trigger/escalate), by hop, with their time."""
    incidents = {i["incident_id"]: i for i in store.incidents()}
    out: dict[str, list[str]] = {}
    for row in store.outbox():
        if row["sink"] == "pagerduty" and row["kind"] in ("trigger", "escalate"):
            hop = incidents[row["incident_id"]]["hop"]
            out.setdefault(hop, []).append(row["event_id"])
    return out


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_year_of_daily_breach_alerting_pages_only_for_the_outage(year, tmp_path):
    store = replay(daily_rows(year), tmp_path / "daily")
    paged = pages(store)
    assert "marketing" not in paged  # healthy at 0.4 %: zero pages thanks to the volume rule
    outage = [i for i in store.incidents() if i["hop"] == "support" and i["notified"] == "paged"]
    assert [i["first_breach_date"] for i in outage] == [OUTAGE.isoformat()]
    # Paged by the first run after the outage day was final, not a day later.
    assert outage[0]["notified_at"].startswith(as_of_for(OUTAGE).strftime("%Y-%m-%dT%H:%M"))
    print(f"\ndaily_breach pages in a year: { {h: len(v) for h, v in paged.items()} }")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_year_of_burn_rate_alerting_pages_for_the_outage_and_tickets_the_leak(
    budget_rows, tmp_path
):
    assert {r.hop for r in budget_rows} == set(RATES)
    assert len(budget_rows) == len(RATES) * DAYS
    store = replay(budget_rows, tmp_path / "burn")
    paged = pages(store)
    # Healthy hops never page, at 0.4 % or at 0.8 %.
    assert "marketing" not in paged and "crm" not in paged
    assert len(paged.get("support", [])) == 1  # the outage, once
    outage = next(
        i for i in store.incidents() if i["hop"] == "support" and i["notified"] == "paged"
    )
    assert outage["first_breach_date"] == OUTAGE.isoformat()
    assert outage["notified_at"].startswith(as_of_for(OUTAGE).strftime("%Y-%m-%dT%H:%M"))
    # The 10-day leak at 2.5 % opens a ticket (a warning: chat, not the pager) within 3 days.
    tickets = [
        i
        for i in store.incidents()
        if i["hop"] == "support_assignment"
        and i["severity"] == "warning"
        and LEAK.isoformat() <= i["first_breach_date"] < (LEAK + timedelta(days=10)).isoformat()
    ]
    assert tickets and tickets[0]["first_breach_date"] <= (LEAK + timedelta(days=2)).isoformat()
    assert "support_assignment" not in paged
    noise = [i for i in store.incidents() if i["hop"] in ("marketing", "crm")]
    print(
        f"\nburn_rate pages in a year: { {h: len(v) for h, v in paged.items()} }; "
        f"tickets on healthy hops: {len(noise)}"
    )
