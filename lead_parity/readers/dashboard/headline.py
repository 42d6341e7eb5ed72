"""The dashboard's verdict at the top: SLO held or breached per hop with its error budget, what
is waiting on people (open incidents, review items due), and what to fix first.

The figures come from queries.py; this module only lays them out. Every block sits in a keyed
container (`st-key-...` CSS class), so a browser test can read one hop's card by itself.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lead_parity.readers.dashboard.formats import count, dollars, pct, rate, table

CARDS_PER_ROW = 5


def _budget_line(row: pd.Series) -> str:
    if pd.isna(row.get("budget_remaining_pct")):
        return "budget: no final day yet"
    alert = row.get("burn_alert")
    alert_text = f" · burn alert: {alert}" if isinstance(alert, str) and alert else ""
    return (
        f"budget left {pct(row['budget_remaining_pct'])} · burn "
        f"{rate(row['burn_rate_1d'])} (1d) {rate(row['burn_rate_3d'])} (3d) "
        f"{rate(row['burn_rate_28d'])} (28d){alert_text}"
    )


def hop_row(frame: pd.DataFrame, threshold: float) -> None:
    """One card per hop: the run verdict on its final days and its error budget left."""
    st.subheader("Parity SLO per hop")
    if frame.empty:
        st.info("No final days judged yet.")
        return
    breached = frame[frame["slo"] == "breached"]["hop"].tolist()
    st.caption(
        f"Final days of the days shown; a day breaches at {threshold:g}% or more dropped. "
        "Budget: the rolling 28-day error budget of the latest final day."
    )
    with st.container(key="headline_hops"):
        if breached:
            st.error(f"SLO breached at {len(breached)} of {len(frame)} hops: {', '.join(breached)}")
        else:
            st.success(f"SLO held at all {len(frame)} hops")
        for start in range(0, len(frame), CARDS_PER_ROW):
            cols = st.columns(CARDS_PER_ROW)
            batch = frame.iloc[start : start + CARDS_PER_ROW]
            for col, (_, row) in zip(cols, batch.iterrows(), strict=False):
                with col, st.container(key=f"headline_{row['hop']}", border=True):
                    _card(row)


def _card(row: pd.Series) -> None:
    held = row["slo"] == "held"
    badge = ":green-badge[SLO held]" if held else ":red-badge[SLO breached]"
    rate_pct = 100.0 * row["dropped"] / row["expected"] if row["expected"] else None
    st.markdown(f"**{row['hop']}** {badge}")
    st.markdown(
        f"{count(row['breached_days'])} of {count(row['final_days'])} final days breached  \n"
        f"{count(row['dropped'])} dropped of {count(row['expected'])} expected "
        f"({pct(rate_pct, 2)})"
    )
    st.caption(_budget_line(row))


def waiting_row(incidents: dict[str, int], queue: dict[str, int]) -> None:
    """Open incidents and review items past due: what people should be working on."""
    with st.container(key="headline_waiting"):
        left, right = st.columns(2)
        left.metric(
            "Open incidents",
            count(incidents["open"]),
            f"{count(incidents['critical'])} critical",
            delta_color="off",
            delta_arrow="off",
            help="Not resolved, in the published ops.incidents (Incidents page: live state)",
        )
        right.metric(
            "Queue items due",
            count(queue["due"]),
            f"of {count(queue['waiting'])} waiting",
            delta_color="off",
            delta_arrow="off",
            help="Review items not done whose due_at has passed (Work queue page: live state)",
        )


def fix_first(frame: pd.DataFrame) -> None:
    """(hop, cause) groups ranked by revenue at risk, as the run's verdict prints them."""
    st.subheader("What to fix first")
    if frame.empty:
        st.success("No dropped conversions in this period.")
        return
    top = frame.iloc[0]
    st.caption(
        f"By revenue at risk. First: {top['hop']} / {top['cause']}, {count(top['dropped'])} "
        f"dropped, {dollars(top['at_risk'])} at risk, owner {top['owner']}."
    )
    ranked = frame.rename(columns={"at_risk": "revenue_at_risk_usd"})
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    with st.container(key="fix_first"):
        table(ranked)
