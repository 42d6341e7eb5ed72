"""Altair (Vega-Lite) charts of the dashboard; Streamlit serves Vega itself, so no CDN is used.

Colours come from the report's palette, so a hop or a cause looks the same in both.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from lead_parity.readers.report import palette
from lead_parity.readers.report.data import hops_in_order

OUTCOMES = ["reached", "dropped", "pending"]
OUTCOME_COLOURS = [palette.REACHED, palette.DROPPED, palette.PENDING]
DATE_AXIS = alt.Axis(format="%b %d", labelAngle=0)


def _scale(keys: list[str], mapping: dict[str, str]) -> alt.Scale:
    return alt.Scale(
        domain=keys, range=[palette.colour_for(mapping, k, i) for i, k in enumerate(keys)]
    )


def funnel(frame: pd.DataFrame, hops: list[str]) -> alt.Chart:
    """Stacked bars per hop of one conversion type: reached, dropped, pending."""
    long = frame.melt(
        id_vars=["conversion_type", "hop"], value_vars=OUTCOMES, var_name="outcome",
        value_name="conversions",
    )  # fmt: skip
    long["conversions"] = long["conversions"].astype(float)
    order = [h for h in hops if h in set(long["hop"])]
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("hop:N", sort=order, title=None, axis=alt.Axis(labelLimit=160)),
            x=alt.X("sum(conversions):Q", title="conversions"),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=OUTCOMES, range=OUTCOME_COLOURS),
                title=None,
                legend=None,  # one shared legend above the funnels (legend_html)
            ),
            order=alt.Order("outcome_rank:Q"),
            tooltip=["hop", "outcome", "conversions"],
        )
        .transform_calculate(
            outcome_rank="indexof(['reached', 'dropped', 'pending'], datum.outcome)"
        )
    )
    labels = (
        alt.Chart(frame.assign(total=frame["expected"].astype(float) + frame["pending"]))
        .mark_text(align="left", dx=4)
        .encode(
            y=alt.Y("hop:N", sort=order),
            x="total:Q",
            text=alt.Text("dropped:Q", format=",.0f"),
        )
    )
    return (bars + labels).properties(height=alt.Step(34))


def legend_html() -> str:
    """The funnels' shared colour key, in the palette's exact colours."""
    items = "".join(
        f'<span style="margin-right:1.2em"><span style="color:{colour}">&#9632;</span> '
        f"{name}</span>"
        for name, colour in zip(OUTCOMES, OUTCOME_COLOURS, strict=True)
    )
    return f'<div style="font-size:0.9em">{items}</div>'


def hop_parity(frame: pd.DataFrame, threshold: float, hop: str, index: int) -> alt.LayerChart:
    """One hop's daily discrepancy % (a small multiple) with the SLO threshold as a dashed rule;
    the y axis always reaches the threshold, so a quiet hop does not look alarming."""
    data = frame.assign(
        conversion_date=pd.to_datetime(frame["conversion_date"]),
        discrepancy_pct=frame["discrepancy_pct"].astype(float),
        expected=frame["expected"].astype(float),
        dropped=frame["dropped"].astype(float),
    )
    top = max(float(data["discrepancy_pct"].max(skipna=True) or 0.0), threshold) * 1.15
    colour = palette.colour_for(palette.HOPS, hop, index)
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(color=colour), color=colour)
        .encode(
            x=alt.X("conversion_date:T", title=None, axis=alt.Axis(format="%b %d", tickCount=4)),
            y=alt.Y("discrepancy_pct:Q", title="discrepancy %", scale=alt.Scale(domain=[0, top])),
            tooltip=[
                alt.Tooltip("conversion_date:T", title="day"),
                alt.Tooltip("expected:Q", format=",.0f"),
                alt.Tooltip("dropped:Q", format=",.0f"),
                alt.Tooltip("discrepancy_pct:Q", title="discrepancy %", format=".1f"),
            ],
        )
    )
    return (lines + _rule(threshold, f"SLO {threshold:g}%")).properties(height=170)


def budget(frame: pd.DataFrame, hops: list[str]) -> alt.LayerChart:
    """Error budget left (% of the rolling 28-day budget) per final day and hop; 0 is spent."""
    data = frame.assign(
        budget_date=pd.to_datetime(frame["budget_date"]),
        budget_remaining_pct=frame["budget_remaining_pct"].astype(float),
        burn_rate_28d=frame["burn_rate_28d"].astype(float),
    )
    keys = hops_in_order(hops, data["hop"])
    lines = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("budget_date:T", title=None, axis=DATE_AXIS),
            y=alt.Y("budget_remaining_pct:Q", title="budget left %"),
            color=alt.Color("hop:N", scale=_scale(keys, palette.HOPS), title="hop"),
            tooltip=[
                alt.Tooltip("budget_date:T", title="final day"),
                "hop",
                alt.Tooltip("budget_remaining_pct:Q", title="budget left %", format=".1f"),
                alt.Tooltip("burn_rate_28d:Q", title="28-day burn", format=".2f"),
            ],
        )
    )
    return (lines + _rule(0.0, "budget spent")).properties(height=320)


def _rule(value: float, label: str) -> alt.LayerChart:
    base = alt.Chart(pd.DataFrame({"y": [value], "label": [label]}))
    rule = base.mark_rule(color=palette.SLO_LINE, strokeDash=[6, 4]).encode(y="y:Q")
    text = base.mark_text(align="left", dy=-6, color=palette.SLO_LINE).encode(
        y="y:Q", text="label:N", x=alt.value(4)
    )
    return rule + text


def latency(frame: pd.DataFrame, slo_minutes: float) -> alt.LayerChart:
    """Median and P95 minutes to an owner per day, with the median SLO."""
    long = frame.assign(conversion_date=pd.to_datetime(frame["conversion_date"])).melt(
        id_vars=["conversion_date"], value_vars=["median_min", "p95_min"], var_name="measure",
        value_name="minutes",
    )  # fmt: skip
    long["measure"] = long["measure"].map({"median_min": "median", "p95_min": "P95"})
    long["minutes"] = long["minutes"].astype(float)
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("conversion_date:T", title=None, axis=DATE_AXIS),
            y=alt.Y("minutes:Q", title="minutes to owner", axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(domain=["median", "P95"], range=[palette.MEDIAN, palette.P95]),
                title=None,
            ),
            tooltip=["conversion_date:T", "measure", alt.Tooltip("minutes:Q", format=".1f")],
        )
    )
    # Tall enough to read P95 spikes beside a median of a few minutes.
    return (lines + _rule(slo_minutes, f"median SLO {slo_minutes:g} min")).properties(height=320)


def causes(frame: pd.DataFrame) -> alt.Chart:
    """Dropped conversions per day stacked by root cause."""
    data = frame.assign(
        conversion_date=pd.to_datetime(frame["conversion_date"]),
        dropped=frame["dropped"].astype(float),
    )
    keys = sorted(set(data["root_cause"]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(conversion_date):T", title=None, axis=DATE_AXIS),
            y=alt.Y("sum(dropped):Q", title="dropped conversions"),
            color=alt.Color("root_cause:N", scale=_scale(keys, palette.CAUSES), title="cause"),
            tooltip=["conversion_date:T", "root_cause", "dropped", "value_usd"],
        )
    )


def revenue(frame: pd.DataFrame) -> alt.Chart:
    """Value at risk per hop, stacked by root cause."""
    data = frame.assign(value_usd=frame["value_usd"].astype(float))
    keys = sorted(set(data["root_cause"]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("dropped_at_hop:N", title=None, sort="-x"),
            x=alt.X("sum(value_usd):Q", title="USD at risk"),
            color=alt.Color("root_cause:N", scale=_scale(keys, palette.CAUSES), title="cause"),
            tooltip=["dropped_at_hop", "root_cause", "origin", "dropped", "value_usd"],
        )
    )


def dead_letters(frame: pd.DataFrame) -> alt.Chart:
    """Dead-lettered and replayed conversions per day."""
    daily = frame.groupby("date", as_index=False)[["dead_lettered", "replayed"]].sum()
    long = daily.assign(date=pd.to_datetime(daily["date"])).melt(
        id_vars=["date"], value_vars=["dead_lettered", "replayed"], var_name="measure",
        value_name="conversions",
    )  # fmt: skip
    long["conversions"] = long["conversions"].astype(float)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(date):T", title=None, axis=DATE_AXIS),
            xOffset="measure:N",
            y=alt.Y("conversions:Q", title="conversions"),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(
                    domain=["dead_lettered", "replayed"], range=[palette.DROPPED, palette.REACHED]
                ),
                title=None,
            ),
            tooltip=["date:T", "measure", "conversions"],
        )
    )


def rate_limits(frame: pd.DataFrame) -> alt.Chart:
    """429 share per day, one line per destination (and who saw it: receipts or connectors)."""
    data = frame.assign(
        attempt_date=pd.to_datetime(frame["attempt_date"]),
        series=frame["destination"] + " (" + frame["observed_by"] + ")",
        rate_limited_pct=frame["rate_limited_pct"].astype(float),
    )
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(attempt_date):T", title=None, axis=DATE_AXIS),
            y=alt.Y("rate_limited_pct:Q", title="% of attempts answered 429"),
            color=alt.Color("series:N", title=None),
            tooltip=["attempt_date:T", "destination", "observed_by", "attempts", "rate_limited",
                     "rate_limited_pct"],
        )
    )  # fmt: skip


def enrichment_latency(frame: pd.DataFrame) -> alt.Chart:
    """Median and P95 seconds from conversion to enrichment per day."""
    long = frame.assign(conversion_date=pd.to_datetime(frame["conversion_date"])).melt(
        id_vars=["conversion_date"], value_vars=["median_s", "p95_s"], var_name="measure",
        value_name="seconds",
    )  # fmt: skip
    long["seconds"] = long["seconds"].astype(float)
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonthdate(conversion_date):T", title=None, axis=DATE_AXIS),
            y=alt.Y("seconds:Q", title="seconds to enrichment"),
            color=alt.Color("measure:N", title=None),
            tooltip=["conversion_date:T", "measure", "seconds"],
        )
    )
