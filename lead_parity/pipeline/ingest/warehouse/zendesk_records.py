"""The Zendesk records both loaders' tables become (tickets and users as the API returns them):
Airbyte and Fivetran name the same fields alike and differ only in how they store `via`."""

from __future__ import annotations

from lead_parity.pipeline.ingest.warehouse.records import Records, obj, records
from lead_parity.pipeline.ingest.warehouse.tables import Table


def ticket_record(t: Table, via: str) -> str:
    """`via`: the loader's SQL for the ticket's `via` object."""
    return obj(
        [
            ("id", t.col("id", "t")),
            ("created_at", t.ts("created_at", "t")),
            ("updated_at", t.ts("updated_at", "t")),
            ("requester_id", t.col("requester_id", "t")),
            ("assignee_id", t.col("assignee_id", "t")),
            ("external_id", t.col("external_id", "t")),
            ("status", t.col("status", "t")),
            ("via", via),
        ]
    )


def user_records(kind: str, u: Table, sync: tuple[str, ...]) -> Records:
    u.require("id")
    rec = obj(
        [
            ("id", u.col("id", "t")),
            ("email", u.col("email", "t")),
            ("name", u.col("name", "t")),
            ("updated_at", u.ts("updated_at", "t")),
        ]
    )
    return records(kind, u, rec, order=sync)
