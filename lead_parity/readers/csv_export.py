"""CSV for people who open it in a spreadsheet: cells that a spreadsheet would run as a formula
are neutralised (OWASP CSV injection: prefix with a single quote).

A campaign name or email comes from whoever filled a form; `=HYPERLINK(...)` in it must stay
text when a sales manager opens the export. Every CSV the product writes goes through here.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """`value` with a leading `'` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV with every text cell (and header) neutralised; numbers stay numbers."""
    safe = frame.copy()
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column]) or _is_datetime(safe[column])):
            safe[column] = safe[column].map(neutralise_cell)
    safe.columns = [neutralise_cell(str(c)) for c in safe.columns]
    # RFC 4180's CRLF rows: Python's csv quotes a field holding any character of the row
    # terminator, so a bare carriage return inside a cell cannot split its row.
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series)
