"""Airbyte's Zendesk Support source: the `tickets`, `users` and `ticket_metrics` streams as a
destination writes them (docs/warehouse-inputs.md)."""

from __future__ import annotations

from lead_parity.pipeline.ingest.warehouse.records import Records, obj, records
from lead_parity.pipeline.ingest.warehouse.tables import LoaderTables, Table
from lead_parity.pipeline.ingest.warehouse.zendesk_records import ticket_record, user_records

KIND = "airbyte_zendesk"
SYNC = ("_airbyte_extracted_at", "_airbyte_emitted_at")


def _metric_set(m: Table) -> str:
    return obj(
        [
            ("ticket_id", m.col("ticket_id", "t")),
            ("initially_assigned_at", m.ts("initially_assigned_at", "t")),
            ("updated_at", m.ts("updated_at", "t")),
        ]
    )


def source_records(tables: LoaderTables, source: str) -> dict[str, list[Records]]:
    tickets = tables.table("tickets")
    tickets.require("id", "created_at")
    metrics = tables.table("ticket_metrics")
    metrics.require("ticket_id")
    ticket = ticket_record(tickets, tickets.json("via", "t"))
    return {
        "tickets": [records(KIND, tickets, ticket, order=SYNC)],
        "users": [user_records(KIND, tables.table("users"), SYNC)],
        "metric_sets": [records(KIND, metrics, _metric_set(metrics), order=SYNC)],
    }
