"""Colours shared by the report and the dashboard, so a hop or a cause looks the same in both.

Tests look for these exact colours in rendered charts.
"""

from __future__ import annotations

REACHED = "#54a24b"
DROPPED = "#e45756"
PENDING = "#eeca3b"
SLO_LINE = "#222222"
MEDIAN = "#4c78a8"
P95 = "#f58518"

HOPS = {
    "marketing": "#4c78a8",
    "crm": "#f58518",
    "crm_assignment": "#b279a2",
    "support": "#72b7b2",
    "support_assignment": "#9d755d",
}
CAUSES = {
    "identity_mismatch": "#b279a2",
    "integration_failure": "#e45756",
    "silent_drop": "#ff9da6",
    "enrichment_failure": "#9d755d",
    "unassigned": "#eeca3b",
    "no_trace": "#4c78a8",
    "unknown": "#bab0ac",
}
EXTRA = ["#79706e", "#d67195", "#439894", "#83bcb6", "#ffbf79", "#8cd17d"]


def colour_for(mapping: dict[str, str], key: str, index: int = 0) -> str:
    """The fixed colour of a known key, else a stable spare colour."""
    return mapping.get(key) or EXTRA[index % len(EXTRA)]
