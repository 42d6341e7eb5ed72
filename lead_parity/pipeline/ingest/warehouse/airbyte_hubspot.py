"""Airbyte's HubSpot source: the `contacts` and `form_submissions` streams as a destination
writes them (top-level fields as columns, nested objects as JSON, `_airbyte_*` bookkeeping;
docs/warehouse-inputs.md).

A contact's property is read from its flattened `properties_<name>` column when the stream has
one, else from the `properties` object.
"""

from __future__ import annotations

from lead_parity.pipeline.ingest.warehouse.records import Records, obj, records
from lead_parity.pipeline.ingest.warehouse.tables import LoaderTables, Table, literal

KIND = "airbyte_hubspot"
# Destinations v2 name the extraction time _airbyte_extracted_at; v1 _airbyte_emitted_at.
SYNC = ("_airbyte_extracted_at", "_airbyte_emitted_at")
PROPERTIES = {
    "email": False,
    "hs_additional_emails": False,
    "firstname": False,
    "lastname": False,
    "company": False,
    "lead_id": False,
    "createdate": True,
    "hubspot_owner_id": False,
    "hubspot_owner_assigneddate": True,
    "lastmodifieddate": True,
}


def _property(c: Table, name: str, is_ts: bool) -> str:
    flat = f"properties_{name}"
    if c.has(flat):
        return c.ts(flat, "t") if is_ts else c.col(flat, "t")
    if c.has("properties"):
        return f"json_extract({c.json('properties', 't')}, {literal('$.' + name)})"
    return "null"


def _contact(c: Table) -> str:
    props = obj([(k, _property(c, k, is_ts)) for k, is_ts in PROPERTIES.items()])
    return obj(
        [
            ("id", c.col("id", "t")),
            ("properties", props),
            ("createdAt", c.ts("createdat", "t")),
            ("updatedAt", c.ts("updatedat", "t")),
            ("archived", c.col("archived", "t")),
        ]
    )


def _submission(s: Table) -> str:
    return obj(
        [
            # Not in the stream's declared schema: read when a destination kept it.
            ("conversionId", s.col("conversionid", "t")),
            ("submittedAt", s.ts("submittedat", "t")),
            ("pageUrl", s.col("pageurl", "t")),
            ("values", s.json("values", "t")),
        ]
    )


def source_records(tables: LoaderTables, source: str) -> dict[str, list[Records]]:
    if source == "hubspot_contacts":
        contacts = tables.table("contacts")
        contacts.require("id", "createdat")
        return {"contacts": [records(KIND, contacts, _contact(contacts), order=SYNC)]}
    subs = tables.table("form_submissions")
    subs.require("formid", "submittedat", "values")
    rec = _submission(subs)
    return {
        "submissions": [records(KIND, subs, rec, form_guid=subs.col("formid", "t"), order=SYNC)]
    }
