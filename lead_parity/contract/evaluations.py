"""The row shape of ops.slo_evaluations: one judged unit of one rule in one evaluation.

The quality layer (`expectations/`) and the remediation asset write these rows, the incidents
layer reads them; both may import `lead_parity.contract`, so the shape is declared once, here.
"""

from __future__ import annotations

import pyarrow as pa

TABLE = "ops.slo_evaluations"
SCHEMA = pa.schema(
    [
        pa.field("evaluated_at", pa.timestamp("us"), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("scope", pa.string(), nullable=False),
        ("conversion_date", pa.date32()),
        ("conversion_type", pa.string()),
        ("origin", pa.string()),
        ("hop", pa.string()),
        ("observed", pa.float64()),
        ("threshold", pa.float64()),
        pa.field("passed", pa.bool_(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        ("expected", pa.int64()),
        ("dropped", pa.int64()),
        ("details", pa.string()),  # JSON text: the rule's own figures, sample conversion ids
    ]
)
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
KEY = ("evaluated_at", "rule", "scope")  # writing an evaluation again replaces its rows

_SQL_TYPES = {
    pa.timestamp("us"): "timestamp",
    pa.string(): "varchar",
    pa.date32(): "date",
    pa.float64(): "double",
    pa.bool_(): "boolean",
    pa.int64(): "bigint",
}


def ddl(table: str = TABLE) -> str:
    """`create table if not exists` for the rows (portable SQL types, the key as primary key)."""
    columns = ",\n".join(
        f"    {f.name} {_SQL_TYPES[f.type]}{'' if f.nullable else ' not null'}" for f in SCHEMA
    )
    return (
        f"create table if not exists {table} (\n{columns},\n    primary key ({', '.join(KEY)})\n)"
    )
