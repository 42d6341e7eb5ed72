"""The playbook's cadence: the weekly reconciliation and the monthly root-cause review.

Both read the published snapshot only and are written as HTML files kept by date under the
reports folder (`weekly/<as_of date>.html`, `monthly/<YYYY-MM>.html`), self-contained like the
reconciliation report and free of email addresses. The weekly one answers "how did the week go":
parity per hop against the SLO, drops by cause and campaign, what the work queue took in and
finished and how fast, incidents and their time to resolve, and the error budget left. The
monthly one answers "what keeps breaking": dropped conversions per month and root cause over the
last months, and the (hop, cause) pairs seen for the first time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from lead_parity.files import write_text
from lead_parity.pipeline.publish import open_snapshot, read_manifest
from lead_parity.readers.report import data
from lead_parity.readers.report.html import CSS, _e, _num, _table, _usd, _when

KINDS = ("weekly", "monthly")
MONTHS = 6


@dataclass(frozen=True)
class Review:
    kind: str
    label: str  # the period, e.g. "week to 2026-10-12" or "2026-10"
    path: Path
    figures: dict


def _rows(con: duckdb.DuckDBPyConnection, table: str, sql: str, params: list) -> pd.DataFrame:
    if not data.has_table(con, table):
        return pd.DataFrame()
    return con.execute(sql, params).df()


def _page(title: str, sections: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        + "\n".join(sections)
        + "</main></body></html>\n"
    )


def _parity(con, since: date, until: date, threshold: float) -> tuple[str, dict]:
    frame = _rows(
        con,
        "marts.fct_hop_parity_daily_totals",
        """
        select hop, min(hop_order) as hop_order, sum(expected) as expected,
            sum(dropped) as dropped, sum(pending) as pending,
            count(*) filter (where slo_breached) as days_breached
        from marts.fct_hop_parity_daily_totals
        where conversion_date >= ? and conversion_date < ?
        group by hop order by hop_order
        """,
        [since, until],
    )
    rows, classes, breached = [], [], 0
    for r in frame.itertuples():
        pct = 100.0 * r.dropped / r.expected if r.expected else None
        bad = pct is not None and pct >= threshold
        breached += int(bad)
        classes.append("breach" if bad else "")
        rows.append([_e(r.hop), _num(r.expected), _num(r.dropped), _num(pct, 2),
                     _num(r.days_breached), "breached" if bad else "held"])  # fmt: skip
    table = _table(
        ["hop", "expected", "dropped", "discrepancy %", "days breached", f"SLO <{threshold:g}%"],
        rows, numeric={1, 2, 3, 4}, row_classes=classes,
    )  # fmt: skip
    return table, {"hops_breached": breached, "dropped": int(frame["dropped"].sum() or 0)
                   if len(frame) else 0}  # fmt: skip


def _drops(con, since: date, until: date) -> str:
    frame = _rows(
        con,
        "marts.fct_conversions",
        """
        select dropped_at_hop, root_cause, origin, count(*) as dropped,
            sum(coalesce(value_usd, 0)) as value_usd
        from marts.fct_conversions
        where status = 'dropped' and conversion_date >= ? and conversion_date < ?
        group by all order by value_usd desc, dropped desc, dropped_at_hop, root_cause, origin
        limit 25
        """,
        [since, until],
    )
    rows = [
        [_e(r.dropped_at_hop), _e(r.root_cause), _e(r.origin), _num(r.dropped), _usd(r.value_usd)]
        for r in frame.itertuples()
    ]
    return _table(["hop", "root cause", "campaign (origin)", "dropped", "value at risk"], rows,
                  numeric={3, 4})  # fmt: skip


def _queue(con, since: date, until: date) -> tuple[str, dict]:
    frame = _rows(
        con,
        "ops.review_queue",
        """
        select kind,
            count(*) filter (where opened_at >= ? and opened_at < ?) as opened,
            count(*) filter (where state = 'done' and closed_at >= ? and closed_at < ?
                and resolution != 'reached') as handled,
            count(*) filter (where state = 'done' and closed_at >= ? and closed_at < ?
                and resolution = 'reached') as closed_itself,
            count(*) filter (where state != 'done') as still_open,
            count(*) filter (where escalated_at >= ? and escalated_at < ?) as escalated,
            median(epoch(closed_at - opened_at) / 60.0) filter (
                where state = 'done' and closed_at >= ? and closed_at < ?
                and resolution != 'reached') as median_minutes_to_handle
        from ops.review_queue group by kind order by kind
        """,
        [since, until] * 5,
    )
    rows = [
        [_e(r.kind), _num(r.opened), _num(r.handled), _num(r.closed_itself), _num(r.still_open),
         _num(r.escalated), _num(r.median_minutes_to_handle, 1)]
        for r in frame.itertuples()
    ]  # fmt: skip
    table = _table(
        ["kind", "opened", "handled", "closed itself", "still open", "escalated",
         "median minutes to handle"],
        rows, numeric={1, 2, 3, 4, 5, 6},
    )  # fmt: skip
    handled = int(frame["handled"].sum()) if len(frame) else 0
    return table, {"queue_opened": int(frame["opened"].sum()) if len(frame) else 0,
                   "queue_handled": handled}  # fmt: skip


def _incidents(con, since: date, until: date) -> str:
    frame = _rows(
        con,
        "ops.incidents",
        """
        select severity,
            count(*) filter (where opened_at >= ? and opened_at < ?) as opened,
            count(*) filter (where resolved_at >= ? and resolved_at < ?) as resolved,
            count(*) filter (where status != 'resolved') as live,
            median(epoch(resolved_at - opened_at) / 3600.0) filter (
                where resolved_at >= ? and resolved_at < ?) as median_hours_to_resolve
        from ops.incidents group by severity order by severity
        """,
        [since, until] * 3,
    )
    rows = [
        [_e(r.severity), _num(r.opened), _num(r.resolved), _num(r.live),
         _num(r.median_hours_to_resolve, 1)]
        for r in frame.itertuples()
    ]  # fmt: skip
    return _table(["severity", "opened", "resolved", "live now", "median hours to resolve"],
                  rows, numeric={1, 2, 3, 4})  # fmt: skip


def _budget(con) -> tuple[str, dict]:
    """Per hop, the error budget at its latest final day; a spent budget says "exhausted"."""
    frame = data.parity_budget_latest(con)
    rows, classes = [], []
    for r in frame.itertuples():
        exhausted = bool(r.is_budget_exhausted)
        alert = r.burn_alert if isinstance(r.burn_alert, str) else ""  # null reads as NA/None
        classes.append("breach" if exhausted else "")
        rows.append(
            [_e(r.hop), _e(_when(r.budget_date)), _num(r.budget_remaining_pct, 1),
             _num(r.burn_rate_28d, 2), _e(alert), "exhausted" if exhausted else "left"]
        )  # fmt: skip
    exhausted = [str(r.hop) for r in frame.itertuples() if r.is_budget_exhausted]
    note = (
        f"<p><b>Budget exhausted at {_e(', '.join(exhausted))}</b>: more conversions dropped in "
        "the last 28 final days than the SLO allows; no more drops are affordable until old "
        "days leave the window.</p>"
        if exhausted
        else ""
    )
    table = _table(["hop", "latest final day", "budget left %", "28-day burn rate", "alert",
                    "budget"], rows, numeric={2, 3}, row_classes=classes)  # fmt: skip
    return note + table, {"budgets_exhausted": len(exhausted)}


def weekly_review(con: duckdb.DuckDBPyConnection, manifest: dict) -> tuple[str, dict, date]:
    """(HTML, headline figures, the week's last day) for the 7 days up to the run's as_of."""
    per = data.period(con, 7)
    until = per.as_of.date() + timedelta(days=1)
    since = until - timedelta(days=7)
    threshold = data.thresholds(con)["parity_discrepancy_pct"]
    parity, figures = _parity(con, since, until, threshold)
    queue, queue_figures = _queue(con, since, until)
    budget, budget_figures = _budget(con)
    title = f"Lead parity: weekly reconciliation, {since:%b %d} to {per.as_of:%b %d, %Y}"
    sections = [
        f"<h1>{_e(title)}</h1>",
        f"<p class='sub'>Conversions of {since} to {per.as_of.date()} (as of {per.as_of} UTC), "
        f"snapshot <code>{_e(manifest.get('version', ''))}</code>.</p>",
        "<h2 id='parity'>Parity per hop</h2>", parity,
        "<h2 id='drops'>Drops by cause and campaign</h2>", _drops(con, since, until),
        "<h2 id='queue'>Work queue throughput</h2>", queue,
        "<h2 id='incidents'>Incidents and time to resolve</h2>", _incidents(con, since, until),
        "<h2 id='budget'>Error budget left</h2>", budget,
        "<p class='note'>No email addresses; the dropped-leads list is in the dashboard.</p>",
    ]  # fmt: skip
    return _page(title, sections), {**figures, **queue_figures, **budget_figures}, per.as_of.date()


def _months(con, as_of: date, months: int) -> pd.DataFrame:
    first = (pd.Timestamp(as_of).to_period("M") - (months - 1)).to_timestamp().date()
    return _rows(
        con,
        "marts.fct_conversions",
        """
        select strftime(conversion_date, '%Y-%m') as month, dropped_at_hop as hop, root_cause,
            count(*) as dropped
        from marts.fct_conversions
        where status = 'dropped' and conversion_date >= ? and conversion_date <= ?
        group by all
        """,
        [first, as_of],
    )


def monthly_review(
    con: duckdb.DuckDBPyConnection, manifest: dict, months: int = MONTHS
) -> tuple[str, dict, str]:
    """(HTML, headline figures, the month) for the months up to the run's as_of."""
    per = data.period(con, 1)
    as_of = per.as_of.date()
    month = f"{as_of:%Y-%m}"
    frame = _months(con, as_of, months)
    labels = sorted(frame["month"].unique()) if len(frame) else [month]
    trend_rows = []
    if len(frame):
        pivot = frame.pivot_table(index=["hop", "root_cause"], columns="month",
                                  values="dropped", aggfunc="sum", fill_value=0)  # fmt: skip
        for (hop, cause), counts in pivot.iterrows():
            trend_rows.append([_e(hop), _e(cause), *(_num(counts.get(m, 0)) for m in labels)])
    trend = _table(["hop", "root cause", *labels], trend_rows,
                   numeric=set(range(2, 2 + len(labels))))  # fmt: skip
    first_seen = (
        frame.groupby(["hop", "root_cause"])["month"].min().reset_index()
        if len(frame) else pd.DataFrame(columns=["hop", "root_cause", "month"])
    )  # fmt: skip
    new = first_seen[first_seen["month"] == month]
    new_rows = [
        [_e(r.hop), _e(r.root_cause),
         _num(frame[(frame.hop == r.hop) & (frame.root_cause == r.root_cause)
                    & (frame.month == month)]["dropped"].sum())]
        for r in new.itertuples()
    ]  # fmt: skip
    title = f"Lead parity: monthly root-cause review, {month}"
    sections = [
        f"<h1>{_e(title)}</h1>",
        f"<p class='sub'>Dropped conversions per month and root cause, {labels[0]} to {month} "
        f"(as of {per.as_of} UTC), snapshot <code>{_e(manifest.get('version', ''))}</code>.</p>",
        "<h2 id='new'>Causes seen for the first time this month</h2>",
        "<p>A (hop, root cause) pair with no drop in the earlier months shown: a new way of "
        "losing leads, worth a look before it becomes a trend.</p>",
        _table(["hop", "root cause", f"dropped in {month}"], new_rows, numeric={2}),
        "<h2 id='trend'>Root causes over the last months</h2>", trend,
    ]  # fmt: skip
    figures = {"new_causes": len(new_rows), "months": len(labels),
               "dropped_this_month": int(frame[frame.month == month]["dropped"].sum())
               if len(frame) else 0}  # fmt: skip
    return _page(title, sections), figures, month


def write_review(published_dir: Path, reports_dir: Path, kind: str) -> Review:
    """Render the `kind` review of the current snapshot into the reports folder, by date."""
    if kind not in KINDS:
        raise ValueError(f"unknown review {kind!r}; one of {', '.join(KINDS)}")
    manifest = read_manifest(published_dir)
    with open_snapshot(published_dir) as con:
        if kind == "weekly":
            page, figures, last_day = weekly_review(con, manifest)
            label, name = f"week to {last_day}", f"{last_day}.html"
        else:
            page, figures, month = monthly_review(con, manifest)
            label, name = month, f"{month}.html"
    path = Path(reports_dir) / kind / name
    write_text(path, page)
    return Review(kind, label, path.resolve(), figures)
