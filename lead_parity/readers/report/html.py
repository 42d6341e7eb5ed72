"""The reconciliation report as one self-contained HTML page (inline CSS and SVG, no requests).

Written for a content leader who forwards it: no email addresses (conversion ids and lead keys
only; the dashboard holds the contact list), every value HTML-escaped (ids contain quotes and
angle brackets), and no timestamp of its own, so the same snapshot gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from lead_parity.readers.report import charts, data

FIX_ADVICE = {
    "identity_mismatch": (
        "The person is in the system under another email or lead: merge the duplicate "
        "records and make the integration match on lead_id as well as email."
    ),
    "integration_failure": (
        "Deliveries failed until retries ran out: fix the destination error shown in the "
        "receipts (status codes), then replay the dead-letter queue."
    ),
    "silent_drop": (
        "The integration reported success but no record exists: audit the destination's "
        "import, workflow and de-duplication rules for these conversions."
    ),
    "enrichment_failure": (
        "Enrichment failed, so routing had nothing to assign on: fix the enrichment "
        "provider and add a fallback routing rule."
    ),
    "unassigned": (
        "The record exists but nobody owns it: check assignment rules and round-robin "
        "coverage for these conversion types and origins."
    ),
    "no_trace": (
        "Nothing reached the integration layer: check the form embed / tag wiring that "
        "should create the record for this origin."
    ),
}

CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1d1d1f;
margin:0;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid
#e3e3e3;padding-bottom:4px}p.sub{color:#555;margin:0 0 16px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.kpi{flex:1 1 140px;border:1px solid
#e3e3e3;border-radius:6px;padding:10px 12px}.kpi b{display:block;font-size:22px}
.kpi span{color:#555;font-size:12px}.bad b{color:#c0392b}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}th,td{text-align:left;
padding:4px 8px;border-bottom:1px solid #eee}th{background:#fafafa}td.n,th.n{text-align:right}
tr.breach td{background:#fdecea}figure.chart{margin:8px 0}figure.chart svg{width:100%;
height:auto}figcaption{font-size:12px;color:#555}ol.fix li{margin-bottom:10px}code{font-size:12px}
.note{font-size:12px;color:#555}
"""


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _num(value: object, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):,.{digits}f}"


def _when(value: object) -> str:
    """A day or a UTC time, without the midnight noise pandas adds to dates."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    if stamp.hour == stamp.minute == stamp.second == 0:
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M")


def _usd(value: object) -> str:
    return "$" + _num(value)


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: set[int] = frozenset(),
    row_classes: Sequence[str] | None = None,
) -> str:
    head = "".join(
        f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for r, cells in enumerate(rows):
        css = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        tds = "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(cells)
        )
        body.append(f"<tr{css}>{tds}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">none in this period</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(svg: str, caption: str) -> str:
    return f'<figure class="chart">{svg}<figcaption>{_e(caption)}</figcaption></figure>'


def _kpis(head: dict, incidents: int) -> str:
    cards = [
        ("conversions", _num(head["conversions"]), ""),
        ("delivered", _num(head["delivered"]), ""),
        ("dropped", f"{_num(head['dropped'])} ({head['dropped_pct']:.1f}%)", "bad"),
        ("pending (inside drop_after)", _num(head["pending"]), ""),
        ("revenue at risk", _usd(head["revenue_at_risk"]), "bad"),
        ("open incidents", _num(incidents), "bad" if incidents else ""),
    ]
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi {css}"><b>{value}</b><span>{_e(label)}</span></div>'
            for label, value, css in cards
        )
        + "</div>"
    )


def _fix_first(top: pd.DataFrame, owners: dict[str, str], limit: int = 5) -> str:
    if top.empty:
        return "<p>No dropped conversions in this period: nothing to fix.</p>"
    items = []
    for row in top.head(limit).itertuples():
        owner = row.owner or owners.get(row.dropped_at_hop) or "unowned"
        samples = ", ".join(f"<code>{_e(s)}</code>" for s in list(row.sample_ids)[:3])
        items.append(
            f"<li><b>{_e(row.dropped_at_hop)} / {_e(row.root_cause)}</b>: "
            f"{_num(row.dropped)} dropped, {_usd(row.value_usd)} at risk, "
            f"{_num(row.high_intent)} high-intent; most from <b>{_e(row.top_origin)}</b>; "
            f"owner <b>{_e(owner)}</b>.<br>{_e(FIX_ADVICE.get(row.root_cause, ''))}"
            f"<br><span class='note'>e.g. {samples}</span></li>"
        )
    return '<ol class="fix">' + "".join(items) + "</ol>"


def _reconciliation(funnel: pd.DataFrame, systems: dict[str, str]) -> str:
    rows = []
    for r in funnel.itertuples():
        expected = float(r.expected or 0)
        pct = 100.0 * float(r.dropped) / expected if expected else None
        rows.append([
            _e(r.conversion_type), _e(r.hop), _e(systems.get(r.hop, "")), _num(r.expected),
            _num(r.reached), _num(r.dropped), _num(r.pending),
            "–" if pct is None else f"{pct:.2f}%",
        ])  # fmt: skip
    headers = [
        "conversion type", "hop", "system", "expected", "reached", "dropped", "pending",
        "discrepancy",
    ]  # fmt: skip
    return _table(headers, rows, numeric={3, 4, 5, 6, 7})


def _campaigns(by_campaign: pd.DataFrame, threshold: float, min_volume: float) -> str:
    rows, classes = [], []
    for r in by_campaign.itertuples():
        if not r.expected:
            continue
        judged = r.expected >= min_volume
        breach = judged and r.discrepancy_pct is not None and r.discrepancy_pct >= threshold
        rows.append([
            _e(r.hop), _e(r.origin), _num(r.expected), _num(r.dropped),
            f"{_num(r.discrepancy_pct, 2)}%", "breach" if breach else ("ok" if judged else
                                                                      "too small to judge"),
        ])  # fmt: skip
        classes.append("breach" if breach else "")
    headers = ["hop", "campaign (origin)", "expected", "dropped", "discrepancy", "SLO"]
    return _table(headers, rows, numeric={2, 3, 4}, row_classes=classes)


def _causes_table(top: pd.DataFrame) -> str:
    rows = [
        [
            _e(r.root_cause), _e(r.dropped_at_hop), _num(r.dropped), _usd(r.value_usd),
            ", ".join(f"<code>{_e(s)}</code>" for s in r.sample_ids),
        ]
        for r in top.itertuples()
    ]  # fmt: skip
    headers = ["root cause", "hop", "dropped", "value at risk", "sample conversion ids"]
    return _table(headers, rows, numeric={2, 3})


def _latency_table(summary: pd.DataFrame) -> str:
    rows = [
        [_e(r.conversion_type), _num(r.assigned), _num(r.median_min, 1), _num(r.p95_min, 1)]
        for r in summary.itertuples()
    ]
    return _table(["conversion type", "assigned", "median min", "P95 min"], rows, {1, 2, 3})


def _dead_letter_table(summary: pd.DataFrame) -> str:
    rows = [
        [_e(r.hop), _num(r.dead_lettered), _num(r.replayed), f"{_num(r.replay_success_pct, 1)}%"]
        for r in summary.itertuples()
    ]
    return _table(["hop", "dead-lettered", "replayed", "replay success"], rows, {1, 2, 3})


def _revenue_by_origin(revenue: pd.DataFrame) -> str:
    if revenue.empty:
        return _table(["campaign (origin)", "dropped", "value at risk"], [])
    by_origin = (
        revenue.groupby("origin", as_index=False, dropna=False)[["dropped", "value_usd"]]
        .sum()
        .sort_values(["value_usd", "origin"], ascending=[False, True])
    )
    rows = [[_e(r.origin), _num(r.dropped), _usd(r.value_usd)] for r in by_origin.itertuples()]
    return _table(["campaign (origin)", "dropped", "value at risk"], rows, {1, 2})


def _pct(value: object, digits: int = 1) -> str:
    return "" if value is None or pd.isna(value) else f"{_num(value, digits)}%"


def _compliance_table(frame: pd.DataFrame) -> str:
    rows = [
        [_e(r.origin), _num(r.conversions), _pct(r.lead_id_pct), _pct(r.stable_lead_id_pct),
         _pct(r.origin_tag_pct), _pct(r.email_pct)]
        for r in frame.itertuples()
    ]  # fmt: skip
    headers = ["campaign (origin)", "conversions", "with lead_id", "stable lead_id",
               "origin tag", "email"]  # fmt: skip
    return _table(headers, rows, {1, 2, 3, 4, 5})


def _receipts_table(frame: pd.DataFrame) -> str:
    rows = [
        [_e(r.hop), _e(r.destination), _num(r.attempts), _num(r.delivered), _num(r.failed_4xx),
         _num(r.rate_limited), _num(r.failed_5xx), _num(r.timeouts), _num(r.dead_lettered),
         _pct(r.replay_success_pct), _num(r.retries_per_delivered, 2)]
        for r in frame.itertuples()
    ]  # fmt: skip
    headers = ["hop", "destination", "attempts", "delivered", "4xx", "429", "5xx", "timeouts",
               "dead-lettered", "replay success", "retries per delivered"]  # fmt: skip
    return _table(headers, rows, set(range(2, 11)))


def _rate_limit_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return _table(["destination", "seen by", "attempts", "429s", "share", "worst day"], [])
    rows = []
    for (destination, observed_by), days in frame.groupby(["destination", "observed_by"]):
        worst = days.sort_values("rate_limited_pct", ascending=False).iloc[0]
        attempts, limited = days["attempts"].sum(), days["rate_limited"].sum()
        rows.append(
            [_e(destination), _e(observed_by), _num(attempts), _num(limited),
             _pct(100.0 * limited / attempts if attempts else None, 2),
             f"{_when(worst['attempt_date'])} ({_pct(worst['rate_limited_pct'], 1)})"]
        )  # fmt: skip
    return _table(
        ["destination", "seen by", "attempts", "429s", "share", "worst day"], rows, {2, 3, 4}
    )


def _enrichment_table(frame: pd.DataFrame) -> str:
    rows = [
        [_when(r.conversion_date), _num(r.attempted), _pct(r.success_pct, 2),
         _num(r.median_s), _num(r.p95_s)]
        for r in frame.tail(14).itertuples()
    ]  # fmt: skip
    return _table(["day", "attempted", "success", "median s", "P95 s"], rows, {1, 2, 3, 4})


def _weekly_revenue_table(frame: pd.DataFrame) -> str:
    rows = [
        [_when(r.week_start) + (" (baseline)" if r.is_baseline else ""), _num(r.dropped),
         _usd(r.revenue_at_risk_usd), _usd(r.baseline_revenue_at_risk_usd),
         _pct(r.change_vs_baseline_pct, 0)]
        for r in frame.tail(12).itertuples()
    ]  # fmt: skip
    headers = ["week of", "dropped", "revenue at risk", "baseline", "vs baseline"]
    return _table(headers, rows, {1, 2, 3, 4})


def _clock_table(frame: pd.DataFrame) -> str:
    rows = [
        [_when(r.week_start), _num(r.items), _num(r.detection_median_min, 1), _num(r.handled),
         _num(r.handling_median_min, 1)]
        for r in frame.itertuples()
    ]  # fmt: skip
    headers = ["week of", "work items", "detection, median min", "handled",
               "handling, median min"]  # fmt: skip
    return _table(headers, rows, {1, 2, 3, 4})


def _telemetry(con: duckdb.DuckDBPyConnection, since) -> list[str]:
    return [
        "<h2 id='telemetry'>Telemetry</h2>",
        "<h3>Capture compliance</h3>",
        "<p>Share of conversions that carried a lead_id (stable: the lead has only that one), "
        "a campaign tag and an email at capture.</p>",
        _compliance_table(data.capture_compliance(con, since)),
        "<h3>Delivery receipts per hop</h3>",
        _receipts_table(data.delivery_receipts(con, since)),
        "<h3>Vendor rate limiting (HTTP 429)</h3>",
        _rate_limit_table(data.rate_limits_daily(con, since)),
        "<h3>Enrichment success and latency (last 14 days)</h3>",
        _enrichment_table(data.enrichment_daily(con, since)),
        "<h3>Revenue at risk per week against the baseline</h3>",
        _weekly_revenue_table(data.revenue_weekly(con)),
        "<h3>Time to detection and to handling (review queue)</h3>",
        "<p>Minutes from conversion to its work item opening, and from opening to done: the "
        "reconciliation time the playbook promises to cut.</p>",
        _clock_table(data.detection_and_handling(con, since)),
    ]


def _incidents_table(incidents: pd.DataFrame, limit: int = 25) -> str:
    rows = [
        [
            _e(r.severity), _e(r.rule), _e(r.hop), _when(r.conversion_date), _e(r.conversion_type),
            _e(r.origin), f"{_num(r.discrepancy_pct, 2)}%" if r.rule == "parity" else "",
            _e(r.owner), _when(r.opened_at),
        ]
        for r in incidents.head(limit).itertuples()
    ]  # fmt: skip
    headers = [
        "severity", "rule", "hop", "day", "type", "origin", "discrepancy", "owner", "opened",
    ]  # fmt: skip
    more = len(incidents) - limit
    note = f"<p class='note'>and {more} more in the dashboard.</p>" if more > 0 else ""
    return _table(headers, rows, {6}) + note


def _budget_table(latest: pd.DataFrame) -> str:
    rows, classes = [], []
    for r in latest.itertuples():
        exhausted = bool(r.is_budget_exhausted)
        alert = r.burn_alert if isinstance(r.burn_alert, str) else ""  # null reads as NA/None
        classes.append("breach" if exhausted or alert == "page" else "")
        rows.append(
            [_e(r.hop), _e(_when(r.budget_date)), _num(r.error_budget, 1), _num(r.dropped_28d),
             _num(r.budget_remaining, 1), _num(r.budget_remaining_pct, 1),
             _num(r.burn_rate_1d, 2), _num(r.burn_rate_3d, 2), _num(r.burn_rate_28d, 2),
             _e(alert), "exhausted" if exhausted else "left"]
        )  # fmt: skip
    headers = [
        "hop", "latest final day", "budget (conversions)", "consumed (dropped)", "remaining",
        "remaining %", "burn 1d", "burn 3d", "burn 28d", "alert", "budget",
    ]  # fmt: skip
    return _table(headers, rows, numeric=set(range(2, 9)), row_classes=classes)


def _budget_section(con: duckdb.DuckDBPyConnection, since, hops: list[str], threshold) -> list:
    if not data.has_table(con, data.BUDGET_MART):
        return []
    latest = data.parity_budget_latest(con)
    exhausted = [h for h, x in zip(latest["hop"], latest["is_budget_exhausted"], strict=True) if x]
    if latest.empty:
        verdict = "<p>No final day with expected conversions yet.</p>"
    elif exhausted:
        verdict = (
            f"<p><b>Budget exhausted at {_e(', '.join(exhausted))}</b>: more conversions "
            "dropped in the last 28 final days than the SLO allows.</p>"
        )
    else:
        verdict = "<p>Every hop has error budget left.</p>"
    return [
        "<h2 id='error-budget'>Error budget of the parity SLO</h2>",
        f"<p>Per hop, the rolling 28-day budget is {threshold:g}% of the expected conversions "
        "of the last 28 final days; a burn rate of 1 spends it exactly over the window (a fast "
        "burn pages, a slow one opens a ticket).</p>",
        verdict,
        _budget_table(latest),
        _figure(
            charts.budget_chart(data.parity_budget_daily(con, since), hops),
            "Budget left per final day and hop (% of the 28-day budget); dashed line: exhausted",
        ),
    ]


def render_report(con: duckdb.DuckDBPyConnection, manifest: dict, days: int = 30) -> str:
    """The report's HTML for the snapshot behind `con` (its manifest names the version)."""
    per = data.period(con, days)
    limits = data.thresholds(con)
    min_volume = _min_slice_volume(con)
    hops = data.hop_order(con)
    owners = data.hop_owners(con)
    systems = {**_hop_systems(con), **data.HOP_SYSTEMS}
    head = data.headline(con, per.since)
    funnel = data.funnel(con, per.since)
    daily = data.daily_parity(con, per.since)
    by_campaign = data.parity_by_campaign(con, per.since)
    top = data.top_causes(con, per.since)
    causes = data.causes_daily(con, per.since)
    latency = data.latency_daily(con, per.since, by_type=False)
    latency_summary = data.latency_summary(con, per.since)
    dead = data.dead_letters_daily(con, per.since)
    dead_summary = data.dead_letters_summary(con, per.since)
    revenue = data.revenue_at_risk(con, per.since)
    incidents = data.open_incidents(con)
    threshold = limits["parity_discrepancy_pct"]
    slo_latency_min = limits["median_assignment_latency_s"] / 60.0
    title = f"Lead parity: {days}-day reconciliation"
    sections = [
        f"<h1>{_e(title)}</h1>",
        f"<p class='sub'>Conversions from {per.since:%b %d, %Y} to {per.as_of:%b %d, %Y %H:%M} "
        f"UTC, checked against every system they must reach. Snapshot "
        f"<code>{_e(manifest.get('version', ''))}</code>.</p>",
        _kpis(head, len(incidents)),
        "<h2 id='fix-first'>What to fix first</h2>",
        "<p>Drop groups ranked by the value of the conversions they lost.</p>",
        _fix_first(top, owners),
        "<h2 id='reconciliation'>Reconciliation across systems</h2>",
        "<p>Each conversion type's chain of hops: how many conversions were expected at each "
        "system, how many arrived, how many were lost there.</p>",
        _figure(charts.funnel_chart(funnel), "Funnel per conversion type (30 days)"),
        _reconciliation(funnel, systems),
        "<h2 id='discrepancy'>Discrepancy per hop and campaign</h2>",
        _figure(
            charts.daily_parity_chart(daily, threshold, hops),
            f"Daily discrepancy per hop; dashed line: SLO {threshold:g}%",
        ),
        f"<p class='note'>Campaign slices with fewer than {min_volume:g} expected conversions "
        "are judged only inside their day's hop total.</p>",
        _campaigns(by_campaign, threshold, min_volume),
        *_budget_section(con, per.since, hops, threshold),
        "<h2 id='causes'>Top causes, with samples</h2>",
        _figure(charts.causes_chart(causes), "Dropped conversions per day by root cause"),
        _causes_table(top),
        "<h2 id='latency'>Assignment latency</h2>",
        _figure(
            charts.latency_chart(latency, slo_latency_min),
            "Minutes from conversion to an owner (median and P95 per day)",
        ),
        _latency_table(latency_summary),
        "<h2 id='dead-letters'>Dead letters and replay success</h2>",
        _figure(charts.dead_letters_chart(dead), "Dead-lettered vs replayed per day"),
        _dead_letter_table(dead_summary),
        "<h2 id='revenue'>Revenue at risk</h2>",
        f"<p>{_usd(head['revenue_at_risk'])} of pipeline value sits in dropped conversions "
        "(contract value per conversion type).</p>",
        _figure(charts.revenue_chart(top), "Value at risk per hop and root cause"),
        _revenue_by_origin(revenue),
        *_telemetry(con, per.since),
        "<h2 id='incidents'>Open incidents</h2>",
        _incidents_table(incidents),
        "<p class='note'>This report holds no email addresses; the dropped-leads list with "
        "contact details is in the dashboard (<code>lead-parity dashboard</code>).</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        + "\n".join(sections)
        + "</main></body></html>\n"
    )


def _min_slice_volume(con: duckdb.DuckDBPyConnection) -> float:
    if data.has_table(con, "contract.settings"):
        try:
            value = con.execute("select max(min_slice_volume) from contract.settings").fetchone()[0]
        except duckdb.Error:
            value = None
        if value is not None:
            return float(value)
    return 30.0


def _hop_systems(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not data.has_table(con, "contract.hops"):
        return {}
    try:
        rows = con.execute("select hop, source_system from contract.hops").fetchall()
    except duckdb.Error:
        return {}
    return {hop: system for hop, system in rows if system}
