"""The figures behind the report and dashboard: filters, missing tables, empty periods."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from lead_parity.pipeline.publish import open_snapshot
from lead_parity.readers.report import data, palette
from lead_parity.readers.report.html import render_report


def test_dropped_leads_filters_match_a_plain_filter(synthetic_stack):
    conv = synthetic_stack["conversions"]
    with open_snapshot(synthetic_stack["published"]) as con:
        since = data.period(con).since
        everything = data.dropped_leads(con, since)
        picked = data.dropped_leads(
            con, since, hops=["crm", "support"], causes=["no_trace", "silent_drop"],
            origins=["google_ads", "direct"], owners=["platform"], min_intent=40,
        )  # fmt: skip
        assert data.distinct_values(con, "dropped_at_hop") == sorted(
            conv["dropped_at_hop"].dropna().unique()
        )
        with pytest.raises(ValueError):
            data.distinct_values(con, "email; drop table x")
    expected = everything[
        everything["dropped_at_hop"].isin(["crm", "support"])
        & everything["root_cause"].isin(["no_trace", "silent_drop"])
        & everything["origin"].isin(["google_ads", "direct"])
        & (everything["owner"] == "platform")
        & (everything["intent_score"] >= 40)
    ]
    assert 0 < len(picked) < len(everything)
    assert sorted(picked["conversion_id"]) == sorted(expected["conversion_id"])
    dropped = conv[conv["status"] == "dropped"]
    in_window = dropped[dropped["converted_at"].dt.date >= since]
    assert len(everything) == len(in_window)


def test_funnel_adds_up_to_the_conversions(synthetic_stack):
    conv = synthetic_stack["conversions"]
    with open_snapshot(synthetic_stack["published"]) as con:
        per = data.period(con)
        funnel = data.funnel(con, per.since)
        head = data.headline(con, per.since)
        hops = data.hop_order(con)
    assert hops == ["marketing", "crm", "crm_assignment", "support", "support_assignment"]
    window = conv[conv["converted_at"].dt.date >= per.since]
    assert int(funnel["dropped"].sum()) == int((window["status"] == "dropped").sum())
    assert head["dropped"] == int((window["status"] == "dropped").sum())
    assert head["revenue_at_risk"] == window.loc[window["status"] == "dropped", "value_usd"].sum()
    first = funnel[funnel["conversion_type"] == "question"].iloc[0]
    assert first["hop"] == "support"  # chain order, not alphabetical


def test_a_snapshot_missing_tables_still_renders():
    con = duckdb.connect(":memory:")
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_conversions as select 'm1' as conversion_id, "
        "'demo_request' as conversion_type, timestamp '2026-10-10 10:00' as converted_at, "
        "'delivered' as status, false as late, 120.0 as assignment_latency_s"
    )
    page = render_report(con, {"version": "test"})
    assert page.count('<figure class="chart">') == 6
    assert "none in this period" in page
    assert data.open_incidents(con).empty
    assert data.dropped_leads(con, data.period(con).since).empty
    con.close()


def test_daily_latency_totals_come_from_the_totals_mart_with_medians_over_conversions():
    con = duckdb.connect(":memory:")
    con.execute("create schema marts")
    # Slices of the day: google_ads 60 s; linkedin 30, 120, 300, 360 s (medians 60 and 210).
    latencies = [("google_ads", 60.0), *(("linkedin", s) for s in (30.0, 120.0, 300.0, 360.0))]
    con.execute(
        "create table marts.fct_conversions (conversion_id varchar, conversion_type varchar, "
        "origin varchar, converted_at timestamp, assignment_latency_s double)"
    )
    con.executemany(
        "insert into marts.fct_conversions values (?, 'demo_request', ?, "
        "timestamp '2026-10-10 10:00', ?)",
        [(f"c{i}", origin, s) for i, (origin, s) in enumerate(latencies)],
    )
    con.execute(
        "create table marts.fct_assignment_latency_daily_totals as select date '2026-10-10' "
        "as conversion_date, 6 as conversions, 5 as assigned, 120.0 as median_s, 348.0 as p95_s "
        "union all select date '2026-10-11', 2, 0, null, null"
    )
    since = data.period(con).since.replace(day=1)

    totals = data.latency_daily(con, since, by_type=False)
    per_type = data.latency_daily(con, since, by_type=True)

    # The day's median over its five conversions (2 min), not a median of slice medians; a day
    # with nobody assigned has no latency to draw.
    assert totals.values.tolist() == [[pd.Timestamp("2026-10-10"), "all", 5, 2.0, 5.8]]
    assert per_type[["conversion_type", "assigned", "median_min"]].values.tolist() == [
        ["demo_request", 5, 2.0]
    ]
    con.close()


def _section_cells(page: str, section: str) -> list[list[str]]:
    body = page.split(f"id='{section}'")[1].split("<h2")[0]
    rows = re.findall(r"<tr.*?</tr>", body)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows if "<td" in row]


def test_the_report_shows_each_hops_error_budget_and_says_when_it_is_exhausted():
    con = duckdb.connect(":memory:")
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_conversions as select 'm1' as conversion_id, "
        "'demo_request' as conversion_type, timestamp '2026-10-12 10:00' as converted_at, "
        "'delivered' as status, false as late, 120.0 as assignment_latency_s"
    )
    # By hand, SLO 1%. crm on its latest final day: 300 expected, 3 dropped (burn 1.0); 3 days
    # 900/18 (2.0); 28 days 4,000 expected, 30 dropped: budget 40, 10 left (25%), burn 0.75.
    # support: 28 days 1,000 expected, 12 dropped: budget 10, overspent by 2 (-20%, 1.2).
    con.execute(
        "create table marts.fct_parity_budget_daily as select * from (values "
        "('crm', date '2026-10-09', 4000, 30, 40.0, 10.0, 25.0, 1.0, 2.0, 0.75, 'ticket', false),"
        "('crm', date '2026-10-08', 3700, 27, 37.0, 10.0, 27.03, 0.5, 1.0, 0.73, null, false),"
        "('support', date '2026-10-09', 1000, 12, 10.0, -2.0, -20.0, 0.0, 0.5, 1.2, null, true),"
        "('support', date '2026-08-01', 900, 1, 9.0, 8.0, 88.9, 0.0, 0.0, 0.11, null, false)) "
        "t(hop, budget_date, expected_28d, dropped_28d, error_budget, budget_remaining, "
        "budget_remaining_pct, burn_rate_1d, burn_rate_3d, burn_rate_28d, burn_alert, "
        "is_budget_exhausted)"
    )

    page = render_report(con, {"version": "test"})

    assert _section_cells(page, "error-budget") == [
        ["crm", "2026-10-09", "40.0", "30", "10.0", "25.0", "1.00", "2.00", "0.75", "ticket",
         "left"],
        ["support", "2026-10-09", "10.0", "12", "-2.0", "-20.0", "0.00", "0.50", "1.20", "",
         "exhausted"],
    ]  # fmt: skip
    section = page.split("id='error-budget'")[1].split("<h2")[0]
    assert "<b>Budget exhausted at support</b>" in section
    assert section.count('<tr class="breach">') == 1
    # The chart draws the 30-day window's final days (not August's), one line per hop.
    chart = data.parity_budget_daily(con, data.period(con).since)
    assert sorted(zip(chart["hop"], chart["budget_date"].astype(str), strict=True)) == [
        ("crm", "2026-10-08"), ("crm", "2026-10-09"), ("support", "2026-10-09"),
    ]  # fmt: skip
    assert 'aria-label="error-budget"' in section
    assert palette.HOPS["crm"] in section and palette.HOPS["support"] in section
    con.close()
