"""Hand-built landed folders (docs/landed-layout.md) and a dbt runner for dbt model tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lead_parity.contract.model import load_contract
from lead_parity.contract.tables import write_contract_tables
from lead_parity.pipeline.connectors.call_log import land_call_log

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = REPO / ".venv" / "bin" / "dbt"

S, TS, I32, B = pa.string(), pa.timestamp("us"), pa.int32(), pa.bool_()

ENTITY_SCHEMAS: dict[str, dict[str, dict[str, pa.DataType]]] = {
    "segment": {
        "messages": {
            c: (TS if c == "timestamp_utc" else S)
            for c in [
                "message_id",
                "type",
                "event",
                "timestamp_utc",
                "anonymous_id",
                "user_id",
                "properties_email",
                "properties_lead_id",
                "properties_intent_score",
                "properties_first_name",
                "properties_last_name",
                "properties_company",
                "traits_email",
                "traits_lead_id",
                "traits_first_name",
                "traits_last_name",
                "traits_company",
                "context_traits_email",
                "context_traits_lead_id",
                "context_traits_first_name",
                "context_traits_last_name",
                "context_traits_company",
                "campaign_source",
            ]
        }
    },
    "hubspot_forms": {
        "submissions": {
            c: (TS if c.endswith("_utc") else S)
            for c in [
                "form_guid",
                "conversion_id",
                "submission_key",
                "submitted_at_utc",
                "page_url",
                "email",
                "firstname",
                "lastname",
                "company",
                "lead_id",
                "anonymous_id",
            ]
        }
    },
    "hubspot_contacts": {
        "contacts": {
            **{
                c: (TS if c.endswith("_utc") else S)
                for c in [
                    "contact_id",
                    "email",
                    "hs_additional_emails",
                    "firstname",
                    "lastname",
                    "company",
                    "lead_id",
                    "createdate_utc",
                    "hubspot_owner_id",
                    "hubspot_owner_assigneddate_utc",
                    "lastmodifieddate_utc",
                    "created_at_utc",
                    "updated_at_utc",
                ]
            },
            "archived": B,
        }
    },
    "zendesk_tickets": {
        "tickets": {
            c: (TS if c.endswith("_utc") else S)
            for c in [
                "ticket_id",
                "created_at_utc",
                "updated_at_utc",
                "requester_id",
                "assignee_id",
                "external_id",
                "status",
                "via_channel",
            ]
        },
        "users": {"user_id": S, "email": S, "name": S, "updated_at_utc": TS},
        "metric_sets": {"ticket_id": S, "initially_assigned_at_utc": TS, "updated_at_utc": TS},
    },
    "zendesk_users": {"users": {"user_id": S, "email": S, "name": S, "updated_at_utc": TS}},
    "receipts": {
        "receipts": {
            "receipt_id": S,
            "message_id": S,
            "hop": S,
            "destination": S,
            "attempted_at_utc": TS,
            "status_code": I32,
            "outcome": S,
            "error": S,
        }
    },
}

OPS_SCHEMAS = {
    "quarantine": {
        "source": S,
        "file": S,
        "position": pa.int64(),
        "entity": S,
        "reason": S,
        "raw": S,
    },
    "ledger": {
        "source": S,
        "file": S,
        "records_read": pa.int64(),
        "records_loaded": pa.int64(),
        "records_quarantined": pa.int64(),
        "duplicates": pa.int64(),
        "size_bytes": pa.int64(),
        "content_hash": S,
        "is_current": B,
        "in_input": B,
    },
    "manifest": {"source": S, "is_present": B, "files": pa.int64()},
}


def ts(text: str) -> datetime:
    """A naive UTC timestamp from '2026-10-10T10:00:00' (landed timestamps carry no zone)."""
    return datetime.fromisoformat(text).replace(tzinfo=None)


def _table(schema: dict[str, pa.DataType], rows: list[dict]) -> pa.Table:
    unknown = {k for row in rows for k in row} - set(schema) - {"_file", "_position"}
    if unknown:
        raise KeyError(f"unknown landed columns: {sorted(unknown)}")
    fields = [pa.field(n, t) for n, t in schema.items()]
    fields += [pa.field("_file", S), pa.field("_position", pa.int64())]
    columns = {f.name: [row.get(f.name) for row in rows] for f in fields}
    columns["_file"] = [row.get("_file", "fixture.json") for row in rows]
    columns["_position"] = [row.get("_position", i) for i, row in enumerate(rows)]
    return pa.table(columns, schema=pa.schema(fields))


def write_landed(
    landed: Path,
    records: dict[str, dict[str, list[dict]]],
    *,
    as_of: str = "2026-10-12T10:00:00",
    quarantine: dict[str, list[dict]] | None = None,
    ledger: dict[str, list[dict]] | None = None,
) -> Path:
    """Write every landed file; sources absent from `records` are written empty, not present."""
    for source, entities in ENTITY_SCHEMAS.items():
        folder = landed / source
        folder.mkdir(parents=True, exist_ok=True)
        given = records.get(source, {})
        for entity, schema in entities.items():
            pq.write_table(_table(schema, given.get(entity, [])), folder / f"{entity}.parquet")
        ops_rows = {
            "quarantine": (quarantine or {}).get(source, []),
            # A fixture's ledger rows are current versions of files still in the input.
            "ledger": [
                {"is_current": True, "in_input": True, **row}
                for row in (ledger or {}).get(source, [])
            ],
            "manifest": [{"source": source, "is_present": source in records, "files": 1}],
        }
        for name, schema in OPS_SCHEMAS.items():
            table = pa.Table.from_pylist(ops_rows[name], schema=pa.schema(schema))
            pq.write_table(table, folder / f"{name}.parquet")
    as_of_dt = datetime.fromisoformat(as_of).replace(tzinfo=UTC)
    write_contract_tables(load_contract(None), landed / "_contract", as_of_dt)
    land_call_log(landed / "no_input", landed)  # no connector ran: the empty call table
    return landed


def dbt_env(workdir: Path) -> dict[str, str]:
    """The environment the pipeline gives dbt, pointing at a warehouse inside `workdir`."""
    env = dict(os.environ)
    env["LEAD_PARITY_WAREHOUSE"] = str(workdir / "warehouse.duckdb")
    env["LEAD_PARITY_LANDED_DIR"] = str(workdir / "landed")
    env["DBT_LOG_PATH"] = str(workdir / "dbt_logs")
    env["DBT_TARGET_PATH"] = str(workdir / "dbt_target")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    return env
