"""The figures behind the report and dashboard: filters, missing tables, empty periods."""

from __future__ import annotations

import duckdb
import pytest

from lead_parity.pipeline.publish import open_snapshot
from lead_parity.readers.report import data
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
