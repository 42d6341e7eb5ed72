"""Fivetran's HubSpot connector: `contact` (properties as `property_<name>` columns) and
`contact_form_submission` (docs/warehouse-inputs.md).

Fivetran keeps no form values: a submission names its contact (`contact_id`), and the contact's
properties stand in for the values the form carried. A submission without a contact row has no
identifiers and matches no lead.
"""

from __future__ import annotations

from lead_parity.pipeline.ingest.warehouse.records import Records, obj, records
from lead_parity.pipeline.ingest.warehouse.tables import LoaderTables, Table, literal

KIND = "fivetran_hubspot"
SYNC = ("_fivetran_synced",)
# File-mode property name -> (Fivetran column, is a time)
PROPERTIES = {
    "email": ("property_email", False),
    "hs_additional_emails": ("property_hs_additional_emails", False),
    "firstname": ("property_firstname", False),
    "lastname": ("property_lastname", False),
    "company": ("property_company", False),
    "lead_id": ("property_lead_id", False),
    "createdate": ("property_createdate", True),
    "hubspot_owner_id": ("property_hubspot_owner_id", False),
    "hubspot_owner_assigneddate": ("property_hubspot_owner_assigneddate", True),
    "lastmodifieddate": ("property_lastmodifieddate", True),
}
FORM_VALUES = ("email", "firstname", "lastname", "company", "lead_id")


def _contact(c: Table) -> str:
    props = obj(
        [
            (k, c.ts(col, "t") if is_ts else c.col(col, "t"))
            for k, (col, is_ts) in PROPERTIES.items()
        ]
    )
    updated = (
        "property_lastmodifieddate" if c.has("property_lastmodifieddate") else "_fivetran_synced"
    )
    return obj(
        [
            ("id", c.col("id", "t")),
            ("properties", props),
            ("createdAt", c.ts("property_createdate", "t")),
            ("updatedAt", c.ts(updated, "t")),
            ("archived", c.col("_fivetran_deleted", "t")),
        ]
    )


def _submission(s: Table, c: Table) -> str:
    # HubSpot sends form values as strings; the contact's typed columns are cast back.
    values = (
        "json_array("
        + ", ".join(
            obj([("name", literal(name)), ("value", c.text(PROPERTIES[name][0], "c"))])
            for name in FORM_VALUES
        )
        + ")"
    )
    return obj(
        [
            ("conversionId", s.col("conversion_id", "t")),
            ("submittedAt", s.ts("timestamp", "t")),
            ("pageUrl", s.col("page_url", "t")),
            ("values", values),
        ]
    )


def source_records(tables: LoaderTables, source: str) -> dict[str, list[Records]]:
    contact = tables.table("contact")
    contact.require("id", "property_createdate")
    if source == "hubspot_contacts":
        return {"contacts": [records(KIND, contact, _contact(contact), order=SYNC)]}
    sub = tables.table("contact_form_submission")
    sub.require("contact_id", "form_id", "timestamp")
    synced = contact.col("_fivetran_synced", "x") if contact.has("_fivetran_synced") else "1"
    # One row per contact (Fivetran upserts; a re-synced copy would multiply the submissions).
    latest = (
        f"(select * from {contact.relation} as x "
        f"qualify row_number() over (partition by {contact.col('id', 'x')} "
        f"order by {synced} desc) = 1)"
    )
    joins = f"left join {latest} as c on {contact.text('id', 'c')} = {sub.text('contact_id', 't')}"
    rec = _submission(sub, contact)
    return {
        "submissions": [
            records(KIND, sub, rec, form_guid=sub.col("form_id", "t"), order=SYNC, joins=joins)
        ]
    }
