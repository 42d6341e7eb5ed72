"""Fivetran's Zendesk Support connector: `ticket`, `user` and `ticket_field_history`
(docs/warehouse-inputs.md).

Fivetran syncs no ticket metric sets: a ticket's first assignment is the earliest
`ticket_field_history` row of field `assignee_id` with a value, as Fivetran's own dbt_zendesk
package derives it.
"""

from __future__ import annotations

from lead_parity.pipeline.ingest.warehouse.records import Records, obj, records
from lead_parity.pipeline.ingest.warehouse.tables import LoaderTables, Table
from lead_parity.pipeline.ingest.warehouse.zendesk_records import ticket_record, user_records

KIND = "fivetran_zendesk"
SYNC = ("_fivetran_synced",)


def _first_assignments(h: Table) -> Records:
    h.require("ticket_id", "field_name", "updated", "value")
    relation = f"""(
        select {h.col("ticket_id")} as ticket_id,
            min({h.col("updated")}) filter (where nullif({h.text("value")}, '') is not null)
                as initially_assigned_at,
            max({h.col("updated")}) as updated_at
        from {h.relation}
        where {h.col("field_name")} = 'assignee_id'
        group by all
    )"""
    rec = obj(
        [
            ("ticket_id", "t.ticket_id"),
            ("initially_assigned_at", h.ts_of("t.initially_assigned_at", "updated")),
            ("updated_at", h.ts_of("t.updated_at", "updated")),
        ]
    )
    return records(KIND, h, rec, relation=relation)


def source_records(tables: LoaderTables, source: str) -> dict[str, list[Records]]:
    ticket = tables.table("ticket")
    ticket.require("id", "created_at")
    via = obj([("channel", ticket.col("via_channel", "t"))])
    return {
        "tickets": [records(KIND, ticket, ticket_record(ticket, via), order=SYNC)],
        "users": [user_records(KIND, tables.table("user"), SYNC)],
        "metric_sets": [_first_assignments(tables.table("ticket_field_history"))],
    }
