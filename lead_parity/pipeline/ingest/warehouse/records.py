"""What every adapter hands the engine: per table, one JSON record per row, in the shape of the
API record file mode reads (SPEC section 2), so the same parse types, validates, quarantines and
de-duplicates it."""

from __future__ import annotations

from dataclasses import dataclass

from lead_parity.pipeline.ingest.warehouse.tables import Table, literal


@dataclass(frozen=True)
class Records:
    """Rows of one table as records. `sql` selects `rec` (JSON text), `form_guid` and `_order`
    (the loader's sync time, where it has one: of two copies the later synced is the later)."""

    label: str  # the ledger's and the quarantine's `file`: "<kind>:<table>"
    sql: str


def obj(pairs: list[tuple[str, str]]) -> str:
    """json_object over code-owned keys and SQL value expressions."""
    return "json_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in pairs) + ")"


def records(
    kind: str,
    table: Table,
    rec: str,
    *,
    form_guid: str = "null",
    order: tuple[str, ...] = (),
    joins: str = "",
    relation: str | None = None,
) -> Records:
    sync = next((c for c in order if table.has(c)), None)
    order_sql = table.col(sync, "t") if sync else "null"
    return Records(
        label=f"{kind}:{table.name}",
        sql=f"""
            select cast({rec} as varchar) as rec, cast({form_guid} as varchar) as form_guid,
                {order_sql} as _order
            from {relation or table.relation} as t
            {joins}
        """,
    )
