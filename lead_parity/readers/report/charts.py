"""Charts of the reconciliation report as inline SVG text (matplotlib, no pyplot global state).

The SVG is cleaned for inlining in HTML5: no XML prolog, no DOCTYPE, no metadata block and no
namespace URLs, so the report holds no http(s):// reference at all. Each chart gets its own
hash salt: element ids stay stable run to run (same input, same bytes) and never collide
between charts of one page.
"""

from __future__ import annotations

import io
import re

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from lead_parity.readers.report import data, palette

matplotlib.use("Agg")

_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "legend.fontsize": 8,
}
_STRIP = [
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
]


def _svg(fig: Figure, name: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"lead-parity-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    for pattern in _STRIP:
        text = pattern.sub("", text)
    # Scale with the page: drop the fixed size, keep the viewBox.
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r"<svg\1", text, count=1)
    return text.replace("<svg", f'<svg role="img" aria-label="{name}" class="chart-svg"', 1)


def _figure(height: float = 2.8, width: float = 7.5) -> tuple[Figure, object]:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width, height))
        ax = fig.subplots()
    return fig, ax


def _no_data(ax, message: str = "no data in this period") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def _dates(ax, days: pd.Series) -> None:
    """Date axis over the data's days (a single day would otherwise widen to +-2 years)."""
    low, high = mdates.date2num(days.min()), mdates.date2num(days.max())
    ax.set_xlim(low - 0.7, high + 0.7)
    # AutoDateLocator cannot place ticks on a few days; one tick per day reads fine there.
    if high - low <= 10:
        ax.xaxis.set_major_locator(mdates.DayLocator())
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)


def _lines_per_hop(ax, frame: pd.DataFrame, x: str, y: str, hops: list[str]) -> None:
    """One line per hop, in the contract's hop order."""
    for i, hop in enumerate(data.hops_in_order(hops, frame["hop"])):
        rows = frame[frame["hop"] == hop]
        ax.plot(
            rows[x],
            rows[y].astype(float),
            marker="o",
            markersize=2.5,
            linewidth=1.4,
            color=palette.colour_for(palette.HOPS, hop, i),
            label=hop,
        )


def _reference_line(ax, y: float, label: str, va: str = "bottom") -> None:
    """A dashed line at `y` (an SLO, a limit), labelled at the right edge of the plot."""
    ax.axhline(y, color=palette.SLO_LINE, linestyle="--", linewidth=1)
    ax.annotate(label, xy=(1, y), xycoords=("axes fraction", "data"), ha="right", va=va, fontsize=8)


def _legend_above(ax, ncols: int) -> None:
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=ncols)


def funnel_chart(funnel: pd.DataFrame) -> str:
    """Stacked bars per conversion type and hop: reached, dropped, pending."""
    with matplotlib.rc_context(_RC):
        types = list(dict.fromkeys(funnel["conversion_type"])) or ["(none)"]
        fig = Figure(figsize=(7.5, 1.0 + 0.55 * max(len(funnel), 1) + 0.4 * len(types)))
        axes = fig.subplots(len(types), 1, squeeze=False)[:, 0]
        for ax, ctype in zip(axes, types, strict=True):
            rows = funnel[funnel["conversion_type"] == ctype]
            if rows.empty:
                _no_data(ax)
                continue
            labels = list(rows["hop"])[::-1]
            reached = rows["reached"].astype(float).to_numpy()[::-1]
            dropped = rows["dropped"].astype(float).to_numpy()[::-1]
            pending = rows["pending"].astype(float).to_numpy()[::-1]
            ax.barh(labels, reached, color=palette.REACHED, label="reached")
            ax.barh(labels, dropped, left=reached, color=palette.DROPPED, label="dropped")
            ax.barh(labels, pending, left=reached + dropped, color=palette.PENDING, label="pending")
            for y, (r, d) in enumerate(zip(reached, dropped, strict=True)):
                if d:
                    ax.text(r + d, y, f"  {int(d)} dropped", va="center", fontsize=8)
            ax.set_title(ctype, loc="left")
            ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
        if not funnel.empty:
            axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3)
        fig.tight_layout()
    return _svg(fig, "funnel")


def daily_parity_chart(daily: pd.DataFrame, threshold: float, hops: list[str]) -> str:
    """Daily discrepancy % per hop with the SLO threshold as a dashed line."""
    fig, ax = _figure()
    with matplotlib.rc_context(_RC):
        if daily.empty:
            _no_data(ax)
        else:
            frame = daily.assign(conversion_date=pd.to_datetime(daily["conversion_date"]))
            _lines_per_hop(ax, frame, "conversion_date", "discrepancy_pct", hops)
            _reference_line(ax, threshold, f"SLO {threshold:g}%")
            ax.set_ylabel("discrepancy %")
            ax.set_ylim(bottom=0)
            _dates(ax, frame["conversion_date"])
            _legend_above(ax, ncols=5)
        fig.tight_layout()
    return _svg(fig, "daily-parity")


def budget_chart(budget: pd.DataFrame, hops: list[str]) -> str:
    """The parity error budget left (% of the rolling 28-day budget) per final day and hop."""
    fig, ax = _figure()
    with matplotlib.rc_context(_RC):
        frame = budget[budget["budget_remaining_pct"].notna()]
        if frame.empty:
            _no_data(ax, "no final day with expected conversions in this period")
        else:
            frame = frame.assign(budget_date=pd.to_datetime(frame["budget_date"]))
            _lines_per_hop(ax, frame, "budget_date", "budget_remaining_pct", hops)
            # Below zero the budget is overspent: the weekly review calls the hop exhausted.
            _reference_line(ax, 0, "exhausted below", va="top")
            ax.set_ylabel("budget left %")
            _dates(ax, frame["budget_date"])
            _legend_above(ax, ncols=5)
        fig.tight_layout()
    return _svg(fig, "error-budget")


def latency_chart(latency: pd.DataFrame, slo_minutes: float) -> str:
    """Median and P95 minutes from conversion to assignment per day, with the median SLO."""
    fig, ax = _figure()
    with matplotlib.rc_context(_RC):
        if latency.empty:
            _no_data(ax)
        else:
            frame = latency.assign(conversion_date=pd.to_datetime(latency["conversion_date"]))
            for column, colour, label in (
                ("median_min", palette.MEDIAN, "median"),
                ("p95_min", palette.P95, "P95"),
            ):
                days, minutes = frame["conversion_date"], frame[column].astype(float)
                ax.plot(days, minutes, color=colour, label=label, linewidth=1.6)
            _reference_line(ax, slo_minutes, f"median SLO {slo_minutes:g} min")
            ax.set_ylabel("minutes to owner")
            ax.set_ylim(bottom=0)
            _dates(ax, frame["conversion_date"])
            _legend_above(ax, ncols=2)
        fig.tight_layout()
    return _svg(fig, "latency")


def causes_chart(causes: pd.DataFrame) -> str:
    """Dropped conversions per day, stacked by root cause."""
    fig, ax = _figure()
    with matplotlib.rc_context(_RC):
        if causes.empty:
            _no_data(ax)
        else:
            pivot = causes.pivot_table(
                index="conversion_date", columns="root_cause", values="dropped", aggfunc="sum"
            ).fillna(0)
            pivot.index = pd.to_datetime(pivot.index)
            bottom = None
            for i, cause in enumerate(pivot.columns):
                values = pivot[cause].astype(float)
                ax.bar(
                    pivot.index,
                    values,
                    bottom=bottom,
                    width=0.8,
                    color=palette.colour_for(palette.CAUSES, cause, i),
                    label=cause,
                )
                bottom = values if bottom is None else bottom + values
            ax.set_ylabel("dropped conversions")
            _dates(ax, pd.Series(pivot.index))
            _legend_above(ax, ncols=5)
        fig.tight_layout()
    return _svg(fig, "root-causes")


def dead_letters_chart(dead: pd.DataFrame) -> str:
    """Dead-lettered and replayed conversions per day (all hops)."""
    fig, ax = _figure(height=2.4)
    with matplotlib.rc_context(_RC):
        if dead.empty:
            _no_data(ax, "no dead letters in this period")
        else:
            daily = dead.groupby("date", as_index=False)[["dead_lettered", "replayed"]].sum()
            days = pd.to_datetime(daily["date"])
            dead_lettered = daily["dead_lettered"].astype(float)
            replayed = daily["replayed"].astype(float)
            ax.bar(days, dead_lettered, color=palette.DROPPED, width=0.8, label="dead-lettered")
            ax.bar(days, replayed, color=palette.REACHED, width=0.5, label="replayed")
            ax.set_ylabel("conversions")
            _dates(ax, days)
            _legend_above(ax, ncols=2)
        fig.tight_layout()
    return _svg(fig, "dead-letters")


def revenue_chart(top: pd.DataFrame, limit: int = 8) -> str:
    """Value at risk per (hop, root cause), largest first."""
    rows = top.head(limit)
    fig, ax = _figure(height=0.8 + 0.32 * max(len(rows), 1))
    with matplotlib.rc_context(_RC):
        if rows.empty:
            _no_data(ax, "nothing at risk")
        else:
            pairs = zip(rows["dropped_at_hop"], rows["root_cause"], strict=True)
            labels = [f"{hop or '?'} / {cause}" for hop, cause in pairs][::-1]
            colours = [
                palette.colour_for(palette.CAUSES, c, i) for i, c in enumerate(rows["root_cause"])
            ][::-1]
            values = rows["value_usd"].astype(float).to_numpy()[::-1]
            ax.barh(labels, values, color=colours)
            for y, v in enumerate(values):
                ax.text(v, y, f"  ${v:,.0f}", va="center", fontsize=8)
            ax.set_xlabel("USD at risk")
            ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
        fig.tight_layout()
    return _svg(fig, "revenue-at-risk")
