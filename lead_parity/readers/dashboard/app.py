"""lead-parity dashboard (Streamlit). Reads only the published snapshot, never the warehouse.

Each query opens the snapshot read-only and closes it again; results are cached per snapshot
version, so a new publish shows up on the next interaction and a run is never blocked.
Run through `lead-parity dashboard` (lead_parity.readers.dashboard.launch).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from lead_parity.pipeline.publish import (
    PublishError,
    open_snapshot,
    read_manifest,
    resolve_snapshot,
)
from lead_parity.readers.csv_export import safe_csv_bytes
from lead_parity.readers.dashboard import charts, headline, published_dir, queries
from lead_parity.readers.dashboard.formats import table
from lead_parity.readers.report import data

HERE = Path(__file__).parent
INCIDENTS_PAGE = HERE / "incidents.py"
HOP_PARAM = "hop"  # ?hop=crm opens the dropped-leads list filtered to that hop
# Pages beside the overview, each a script of its own in this folder: (file, title, url path).
PAGES = [
    ("work_queue.py", "Work queue", "work-queue"),
    ("incidents.py", "Incidents", "incidents"),
    ("remediation.py", "Remediation", "remediation"),
]


@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def load(version: str, name: str, since: date | None = None, **kwargs) -> pd.DataFrame:
    """One query against one snapshot version (the cache key), connection closed right after."""
    with open_snapshot(Path(version)) as con:
        fn = getattr(data, name)
        return fn(con) if since is None else fn(con, since, **kwargs)


@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def load_dashboard(version: str, name: str, **kwargs):
    """One query of the dashboard's own (queries.py), cached per snapshot version."""
    with open_snapshot(Path(version)) as con:
        return getattr(queries, name)(con, **kwargs)


@st.cache_data(ttl=600, max_entries=32, show_spinner=False)
def load_context(version: str, days: int) -> dict:
    with open_snapshot(Path(version)) as con:
        per = data.period(con, days)
        return {
            "period": per,
            "thresholds": data.thresholds(con),
            "hops": data.hop_order(con),
            "headline": data.headline(con, per.since),
            "choices": {
                c: data.distinct_values(con, c)
                for c in ("dropped_at_hop", "root_cause", "origin", "owner")
            },
        }


def _chart_or_note(frame: pd.DataFrame, chart: Callable, empty: str) -> bool:
    """Draw `chart(frame)`, or say `empty` when the period has no rows; whether it drew."""
    if frame.empty:
        st.info(empty)
        return False
    st.altair_chart(chart(frame), width="stretch")
    return True


def _header(manifest: dict, ctx: dict) -> None:
    per = ctx["period"]
    st.title("Lead parity")
    st.caption(
        f"Conversions {per.since:%b %d} – {per.as_of:%b %d, %Y %H:%M} UTC · snapshot "
        f"{manifest.get('version', '?')} published {manifest.get('published_at', '?')}"
    )
    head = ctx["headline"]
    cols = st.columns(5)
    cols[0].metric("Conversions", f"{head['conversions']:,}")
    cols[1].metric("Delivered", f"{head['delivered']:,}")
    cols[2].metric("Dropped", f"{head['dropped']:,}", f"{head['dropped_pct']:.1f}% of judged",
                   delta_color="inverse")  # fmt: skip
    cols[3].metric("Pending", f"{head['pending']:,}")
    cols[4].metric("Revenue at risk", f"${head['revenue_at_risk']:,.0f}")


def _funnel(version: str, ctx: dict) -> None:
    st.subheader("Funnel per conversion type")
    frame = load(version, "funnel", ctx["period"].since)
    if frame.empty:
        st.info("No conversions in this period.")
        return
    types = list(dict.fromkeys(frame["conversion_type"]))
    st.markdown(charts.legend_html(), unsafe_allow_html=True)
    cols = st.columns(len(types))
    for col, ctype in zip(cols, types, strict=True):
        with col:
            st.markdown(f"**{ctype}**")
            rows = frame[frame["conversion_type"] == ctype]
            st.altair_chart(charts.funnel(rows, ctx["hops"]), width="stretch")


def _show_hop(hop: str) -> None:
    """Drill-down: the dropped-leads list below shows this hop only (and the URL says so)."""
    st.session_state["f_hop"] = [hop]
    st.query_params[HOP_PARAM] = hop


def _parity(version: str, ctx: dict) -> None:
    st.subheader("Daily parity per hop")
    frame = load(version, "daily_parity", ctx["period"].since)
    if frame.empty:
        st.info("No parity figures in this period.")
        return
    limit = ctx["thresholds"]["parity_discrepancy_pct"]
    hops = data.hops_in_order(ctx["hops"], frame["hop"])
    droppable = set(ctx["choices"]["dropped_at_hop"])
    with st.container(key="parity_small_multiples"):
        for row_start in range(0, len(hops), 3):
            cols = st.columns(3)
            for offset, (col, hop) in enumerate(
                zip(cols, hops[row_start : row_start + 3], strict=False)
            ):
                with col, st.container(key=f"parity_{hop}"):
                    st.markdown(f"**{hop}**")
                    rows = frame[frame["hop"] == hop]
                    chart = charts.hop_parity(rows, limit, hop, row_start + offset)
                    st.altair_chart(chart, width="stretch")
                    if hop in droppable:
                        st.button(
                            f"Dropped leads at {hop}",
                            key=f"drill_{hop}",
                            on_click=_show_hop,
                            args=(hop,),
                            help="Filter the dropped-leads list below to this hop",
                        )


def _latency(version: str, ctx: dict) -> None:
    st.subheader("Assignment latency (median and P95)")
    frame = load(version, "latency_daily", ctx["period"].since, by_type=True)
    if frame.empty:
        st.info("No assignments in this period.")
        return
    options = ["all", *sorted(set(frame["conversion_type"]))]
    choice = st.selectbox("Conversion type", options, key="latency_type")
    if choice == "all":
        frame = load(version, "latency_daily", ctx["period"].since, by_type=False)
    else:
        frame = frame[frame["conversion_type"] == choice]
    slo = ctx["thresholds"]["median_assignment_latency_s"] / 60.0
    st.altair_chart(charts.latency(frame, slo), width="stretch")


def _budget(version: str, ctx: dict) -> None:
    st.subheader("Parity budget left per hop")
    st.caption("The rolling 28-day error budget of each final day; below 0 it is overspent.")
    _chart_or_note(
        load(version, "parity_budget_daily", ctx["period"].since),
        partial(charts.budget, hops=ctx["hops"]),
        "No final days with an error budget in this period.",
    )


def _causes(version: str, ctx: dict) -> None:
    st.subheader("Root causes over time")
    _chart_or_note(
        load(version, "causes_daily", ctx["period"].since),
        charts.causes,
        "No dropped conversions in this period.",
    )


def _revenue(version: str, ctx: dict) -> None:
    st.subheader("Revenue at risk")
    frame = load(version, "revenue_at_risk", ctx["period"].since)
    st.metric("Value of dropped conversions", f"${frame['value_usd'].astype(float).sum():,.0f}")
    if not frame.empty:
        st.altair_chart(charts.revenue(frame), width="stretch")


def _dead_letters(version: str, ctx: dict) -> None:
    st.subheader("Dead letters and replays")
    frame = load(version, "dead_letters_daily", ctx["period"].since)
    if _chart_or_note(frame, charts.dead_letters, "No dead letters in this period."):
        table(load(version, "dead_letters_summary", ctx["period"].since))


def _telemetry(version: str, ctx: dict) -> None:
    """The playbook's minimum telemetry (docs/telemetry.md)."""
    since = ctx["period"].since
    st.subheader("Capture compliance (per campaign)")
    table(load(version, "capture_compliance", since))
    left, right = st.columns(2)
    with left:
        st.subheader("Vendor rate limiting (429 share)")
        _chart_or_note(
            load(version, "rate_limits_daily", since),
            charts.rate_limits,
            "No delivery attempts in this period.",
        )
    with right:
        st.subheader("Enrichment latency")
        _chart_or_note(
            load(version, "enrichment_daily", since),
            charts.enrichment_latency,
            "No enrichment receipts in this period.",
        )
    st.subheader("Delivery receipts per hop and destination")
    table(load(version, "delivery_receipts", since))
    st.subheader("Revenue at risk per week vs the baseline")
    table(load(version, "revenue_weekly"))
    st.subheader("Time to detection and to handling (review queue, minutes)")
    table(load(version, "detection_and_handling", since))


def _hop_from_url(known: list[str]) -> None:
    """?hop=X (repeatable) seeds the hop filter once per session; later choices win."""
    wanted = st.query_params.get_all(HOP_PARAM)
    if not wanted or "f_hop" in st.session_state:
        return
    unknown = [h for h in wanted if h not in known]
    if unknown:
        st.warning(f"No dropped leads at hop {', '.join(unknown)}; showing every hop.")
    st.session_state["f_hop"] = [h for h in wanted if h in known]


def _dropped_list(version: str, ctx: dict) -> None:
    st.subheader("Dropped leads")
    choices = ctx["choices"]
    _hop_from_url(choices["dropped_at_hop"])
    cols = st.columns(5)
    hops = cols[0].multiselect("Hop", choices["dropped_at_hop"], key="f_hop")
    # The URL follows the hop filter, so the filtered list can be shared as a link.
    if hops:
        st.query_params[HOP_PARAM] = hops
    elif HOP_PARAM in st.query_params:
        del st.query_params[HOP_PARAM]
    causes = cols[1].multiselect("Cause", choices["root_cause"], key="f_cause")
    origins = cols[2].multiselect("Origin", choices["origin"], key="f_origin")
    owners = cols[3].multiselect("Owner", choices["owner"], key="f_owner")
    min_intent = cols[4].slider("Min intent score", 0, 100, 0, key="f_intent")
    frame = load(
        version,
        "dropped_leads",
        ctx["period"].since,
        hops=hops,
        causes=causes,
        origins=origins,
        owners=owners,
        min_intent=float(min_intent),
    )
    st.caption(f"{len(frame):,} dropped conversions match")
    table(frame, height=360)
    st.download_button(
        "Download CSV",
        safe_csv_bytes(frame),
        file_name="dropped_leads.csv",
        mime="text/csv",
        key="download_dropped",
    )


def _incidents(version: str) -> None:
    st.subheader("Open incidents")
    frame = load(version, "open_incidents")
    if frame.empty:
        st.success("No open incidents.")
    else:
        table(frame)
    st.page_link(
        INCIDENTS_PAGE, label="Acknowledge or resolve an incident", icon=":material/task_alt:"
    )


def overview() -> None:
    published = published_dir()
    try:
        version = str(resolve_snapshot(published))
        manifest = read_manifest(published)
    except PublishError as exc:
        st.error(str(exc))
        st.stop()
    days = st.sidebar.slider("Days shown", 7, 90, 30, key="days")
    st.sidebar.caption(f"Reading the published snapshot in {published}")
    ctx = load_context(version, days)
    _header(manifest, ctx)
    since = ctx["period"].since
    # The verdict first: SLO and budget per hop, what is waiting on people, what to fix first.
    headline.hop_row(
        load_dashboard(version, "hop_headline", since=since),
        ctx["thresholds"]["parity_discrepancy_pct"],
    )
    headline.waiting_row(
        load_dashboard(version, "incident_counts"),
        # Minute resolution keeps the cache useful while the clock moves on.
        load_dashboard(
            version, "queue_due", now=datetime.now(UTC).replace(second=0, microsecond=0)
        ),
    )
    headline.fix_first(load_dashboard(version, "fix_first_ranking", since=since))
    _parity(version, ctx)
    _funnel(version, ctx)
    left, right = st.columns(2)
    with left:
        _latency(version, ctx)
    with right:
        _budget(version, ctx)
    left, right = st.columns(2)
    with left:
        _causes(version, ctx)
    with right:
        _revenue(version, ctx)
    # Overview figures first; the work lists (dropped leads, incidents) stay at the bottom.
    _telemetry(version, ctx)
    _dropped_list(version, ctx)
    left, right = st.columns(2)
    with left:
        _incidents(version)
    with right:
        _dead_letters(version, ctx)


def main() -> None:
    st.set_page_config(page_title="Lead parity", layout="wide")
    # The work queue, incidents and remediation pages read and write their SQLite stores
    # under history/, never the snapshot or the warehouse.
    pages = [st.Page(overview, title="Overview", default=True)]
    pages += [st.Page(HERE / file, title=title, url_path=path) for file, title, path in PAGES]
    st.navigation(pages).run()


main()
