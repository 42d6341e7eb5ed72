"""The query that copies one warehouse table into the snapshot, shaped for BI tools.

- masked schemas (ops) get their text and lists of text masked (redact.py);
- HUGEINT (what DuckDB's sum() of integers returns) becomes BIGINT: most BI drivers read
  HUGEINT as a decimal or text, and no count here comes near 2**63;
- every list column keeps its list and gains `<name>_text`, its items joined with ', ', since
  BI tools show lists badly or not at all.
"""

from __future__ import annotations

from lead_parity.pipeline.publish.redact import MASKED_SCHEMAS, TRUNCATED, masked

LIST_SEPARATOR = ", "
TEXT_SUFFIX = "_text"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def is_list(kind: str) -> bool:
    return kind.endswith("[]")


def published_select(schema: str, table: str, source: str, columns: dict[str, str]) -> str:
    """The query copying `source` (a table of `schema.table` with `columns`: name -> DuckDB
    type) into the snapshot, columns in their order, list text columns after them."""
    limits = TRUNCATED.get((schema, table), {})
    masking = schema in MASKED_SCHEMAS
    selected, added = [], []
    for name, kind in columns.items():
        column = _quote(name)
        if masking and kind == "VARCHAR":
            expr = masked(column, limits.get(name))
        elif masking and kind == "VARCHAR[]":
            expr = f"list_transform({column}, x -> {masked('x')})"
        elif kind == "HUGEINT":
            expr = f"cast({column} as bigint)"
        else:
            expr = column
        selected.append(f"{expr} as {column}")
        if is_list(kind) and f"{name}{TEXT_SUFFIX}" not in columns:
            items = f"list_transform({expr}, x -> cast(x as varchar))"
            text = f"array_to_string({items}, '{LIST_SEPARATOR}')"
            added.append(f"{text} as {_quote(name + TEXT_SUFFIX)}")
    return f"select {', '.join(selected + added)} from {source}"
