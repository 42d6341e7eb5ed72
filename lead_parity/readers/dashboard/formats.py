"""Number formats for the dashboard's tables and figures: thousands separators for counts, one
decimal for percentages and durations, whole dollars for money. No table shows a raw float.

DuckDB's sum() gives HUGEINT or DECIMAL, which pandas holds as float or object; `tidy` turns
whole-number columns back into integers so that they format as counts.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

COUNT = "%,d"
ONE_DECIMAL = "%,.1f"
TWO_DECIMALS = "%,.2f"
DOLLARS = "$%,.0f"


def _kind(name: str) -> str:
    if name.endswith("_pct") or name == "discrepancy_pct":
        return ONE_DECIMAL
    if name.endswith("_usd") or name in ("at_risk", "revenue_at_risk"):
        return DOLLARS
    if name.startswith("burn_rate") or name == "retries_per_delivered":
        return TWO_DECIMALS
    return ""


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimals as floats, whole-number float columns (HUGEINT sums) as nullable integers,
    midnight-only timestamps as dates."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == object and column.map(lambda v: isinstance(v, Decimal)).any():
            column = column.astype(float)
        if pd.api.types.is_datetime64_any_dtype(column):
            stamps = column.dropna()
            if len(stamps) and (stamps == stamps.dt.normalize()).all():
                column = column.dt.date  # a day, not a midnight timestamp
        if pd.api.types.is_float_dtype(column) and not _kind(name):
            values = column.dropna()
            if len(values) and (values == values.round()).all() and values.abs().max() < 2**53:
                column = column.astype("Int64")
        out[name] = column
    return out


def column_config(frame: pd.DataFrame) -> dict:
    """A NumberColumn format for every numeric column, chosen by its name and type."""
    config = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            continue
        fmt = _kind(name) or (COUNT if pd.api.types.is_integer_dtype(column) else ONE_DECIMAL)
        config[name] = st.column_config.NumberColumn(format=fmt)
    return config


def table(frame: pd.DataFrame, **kwargs) -> None:
    """st.dataframe with every number formatted."""
    shown = tidy(frame)
    st.dataframe(shown, hide_index=True, column_config=column_config(shown), **kwargs)


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:,.{digits}f}%"


def count(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{int(value):,}"


def dollars(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"${float(value):,.0f}"


def rate(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):,.1f}x"
