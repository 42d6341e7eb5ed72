"""What the published snapshot leaves out of the live warehouse's tables: raw email addresses.

`ops.quarantined_records.raw` holds each bad record's full text (emails, names) so the data team
can fix the sender; that table stays whole in the live warehouse's ops schema. BI users read the
snapshot, where only `marts.rpt_dropped_leads` carries email addresses (docs/bi.md), so the
published copy of every ops table has its email-like tokens masked, and the raw text is cut
short.
"""

from __future__ import annotations

from lead_parity.pipeline.redaction import mask_emails_sql

RAW_LIMIT = 300  # characters of a quarantined record kept in the snapshot: enough to see why

# Schemas whose text columns are all masked in the snapshot: ops tables describe bad records,
# incidents and who handled them, and quote input values in reasons and details.
MASKED_SCHEMAS = frozenset({"ops"})
# (schema, table) -> {column: keep at most this many characters}
TRUNCATED = {("ops", "quarantined_records"): {"raw": RAW_LIMIT}}


def masked(column: str, limit: int | None = None) -> str:
    """SQL for `column` with emails masked, then cut to `limit` characters (marked with ...)."""
    expr = mask_emails_sql(column)
    if limit is None:
        return expr
    return f"case when length({expr}) > {limit} then left({expr}, {limit}) || '...' else {expr} end"
