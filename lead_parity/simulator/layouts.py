"""Write a SPEC section 2 input folder (a simulated stack, the worked examples) as the tables a
loader would hold: Segment's warehouse destination, Fivetran's or Airbyte's HubSpot and Zendesk
schemas (docs/warehouse-inputs.md). For tests, demos and trying the warehouse inputs.

The folder is first landed by file-mode ingestion; the loader tables are built from what landed,
so quarantined records are not carried over (a loader would not have loaded them either). Like
the loaders, an optional column that holds no value at all is not created.

Fivetran keeps no form values, only the submitting contact: a submission whose person has no
contact cannot be written, and the contact's values stand in for the form's.
`fivetran_forms_projection` writes the input folder that holds exactly what that layout keeps.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import yaml

from lead_parity.pipeline.ingest import ingest_all
from lead_parity.pipeline.ingest.warehouse.tables import literal

LAYOUTS = (
    "segment_warehouse",
    "fivetran_hubspot",
    "fivetran_zendesk",
    "airbyte_hubspot",
    "airbyte_zendesk",
)
SYNCED = "timestamp '2026-12-01 00:00:00'"
PERSON = ("email", "lead_id", "first_name", "last_name", "company")


def _views(con, landed: Path) -> None:
    for source in landed.iterdir():
        for table in source.glob("*.parquet"):
            name = f"{source.name}__{table.stem}"
            con.execute(f"create view {name} as select * from read_parquet({literal(str(table))})")
    # The optional users export may not have been landed at all.
    views = {r[0] for r in con.execute("select view_name from duckdb_views()").fetchall()}
    if "zendesk_users__users" not in views and "zendesk_tickets__users" in views:
        con.execute("create view zendesk_users__users as from zendesk_tickets__users limit 0")


def _slug(expr: str) -> str:
    # Segment snake_cases event names into table names ("Demo Requested" -> demo_requested).
    return f"trim(regexp_replace(lower(trim({expr})), '[^a-z0-9]+', '_', 'g'), '_')"


def _context(prefix: str = "") -> str:
    traits = ", ".join(f"{prefix}context_traits_{k}" for k in PERSON)
    return f"{traits}, {prefix}campaign_source as context_campaign_source"


def _segment(con) -> dict[str, str]:
    common = "message_id as id, anonymous_id, user_id, timestamp_utc as timestamp"
    tables = {
        "tracks": f"""select {common}, timestamp_utc as received_at, {_slug("event")} as event,
            event as event_text, {_context()} from segment__messages where type = 'track'""",
        "identifies": f"""select {common}, timestamp_utc as received_at,
            {", ".join(f"traits_{k} as {k}" for k in PERSON)}, {_context()}
            from segment__messages where type = 'identify'""",
    }
    slugs = con.execute(
        f"select distinct {_slug('event')} from segment__messages "
        "where type = 'track' and event is not null"
    ).fetchall()
    props = ", ".join(f"properties_{k} as {k}" for k in (*PERSON, "intent_score"))
    for (slug,) in slugs:
        # A slug holds only [a-z0-9_] (see _slug): safe as a table name and as a literal.
        if slug and slug not in tables:
            tables[slug] = f"""select {common}, timestamp_utc as received_at,
                {_slug("event")} as event, event as event_text, {props}, {_context()}
                from segment__messages
                where type = 'track' and {_slug("event")} = {literal(slug)}"""
    return tables


def _id(column: str) -> str:
    """Fivetran and Airbyte type Zendesk ids as integers."""
    return f"try_cast({column} as bigint)"


def _form_contacts() -> str:
    """Each landed form submission with the contact HubSpot would have filed it under: the first
    contact sharing its email (also an additional one) or its lead id."""
    return """
        select s.*, (
            select min(c.contact_id) from hubspot_contacts__contacts as c
            where (s.email is not null and (c.email = s.email
                    or list_contains(string_split(c.hs_additional_emails, ';'), s.email)))
                or (s.lead_id is not null and c.lead_id = s.lead_id)
        ) as contact_id
        from hubspot_forms__submissions as s
    """


def _fivetran_hubspot() -> dict[str, str]:
    return {
        "contact": f"""select {_id("contact_id")} as id, email as property_email,
            hs_additional_emails as property_hs_additional_emails,
            firstname as property_firstname, lastname as property_lastname,
            company as property_company, lead_id as property_lead_id,
            createdate_utc as property_createdate,
            {_id("hubspot_owner_id")} as property_hubspot_owner_id,
            hubspot_owner_assigneddate_utc as property_hubspot_owner_assigneddate,
            lastmodifieddate_utc as property_lastmodifieddate,
            coalesce(archived, false) as _fivetran_deleted, {SYNCED} as _fivetran_synced
            from hubspot_contacts__contacts""",
        "contact_form_submission": f"""select contact_id, conversion_id, form_guid as form_id,
            page_url, submitted_at_utc as timestamp, 'Contact us' as title, 1234 as portal_id,
            {SYNCED} as _fivetran_synced
            from ({_form_contacts()}) where contact_id is not null""",
    }


def _users() -> str:
    return """
        select * from (
            select * from zendesk_tickets__users union all select * from zendesk_users__users
        )
        qualify row_number() over (partition by user_id order by updated_at_utc desc nulls last) = 1
    """


def _fivetran_zendesk() -> dict[str, str]:
    return {
        "ticket": f"""select {_id("ticket_id")} as id, created_at_utc as created_at,
            updated_at_utc as updated_at, {_id("requester_id")} as requester_id,
            {_id("assignee_id")} as assignee_id, external_id, status, via_channel,
            false as _fivetran_deleted, {SYNCED} as _fivetran_synced
            from zendesk_tickets__tickets""",
        "user": f"""select {_id("user_id")} as id, email, name, updated_at_utc as updated_at,
            {SYNCED} as _fivetran_synced from ({_users()})""",
        "ticket_field_history": f"""select 'assignee_id' as field_name,
            {_id("m.ticket_id")} as ticket_id, m.initially_assigned_at_utc as updated,
            coalesce(t.assignee_id, 'unknown') as value, cast(null as bigint) as user_id,
            {SYNCED} as _fivetran_synced
            from zendesk_tickets__metric_sets as m
            left join zendesk_tickets__tickets as t using (ticket_id)
            where m.initially_assigned_at_utc is not null""",
    }


AIRBYTE = (
    "uuid() as _airbyte_raw_id, "
    f"{SYNCED} as _airbyte_extracted_at, '{{}}' as _airbyte_meta, 1 as _airbyte_generation_id"
)
CONTACT_PROPERTIES = {
    "email": "email",
    "hs_additional_emails": "hs_additional_emails",
    "firstname": "firstname",
    "lastname": "lastname",
    "company": "company",
    "lead_id": "lead_id",
    "createdate": "createdate_utc",
    "hubspot_owner_id": "hubspot_owner_id",
    "hubspot_owner_assigneddate": "hubspot_owner_assigneddate_utc",
    "lastmodifieddate": "lastmodifieddate_utc",
}


def _iso(column: str) -> str:
    return f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%gZ')"


def _airbyte_hubspot() -> dict[str, str]:
    # The API's properties object (times as ISO text), and Airbyte's flattened copies.
    props = ", ".join(
        f"'{k}', {_iso(v) if v.endswith('_utc') else v}" for k, v in CONTACT_PROPERTIES.items()
    )
    flat = ", ".join(f"{v} as properties_{k}" for k, v in CONTACT_PROPERTIES.items())
    values = ", ".join(
        f"case when {k} is not null then json_object('name', '{k}', 'value', {k}) end"
        for k in ("email", "firstname", "lastname", "company", "lead_id", "anonymous_id")
    )
    return {
        "contacts": f"""select contact_id as id,
            coalesce(created_at_utc, createdate_utc) as "createdAt",
            updated_at_utc as "updatedAt", coalesce(archived, false) as archived,
            cast(json_object({props}) as varchar) as properties, {flat}, {AIRBYTE}
            from hubspot_contacts__contacts""",
        "form_submissions": f"""select form_guid as "formId",
            epoch_ms(submitted_at_utc) as "submittedAt", page_url as "pageUrl",
            cast(to_json(list_filter([{values}], lambda x: x is not null)) as varchar)
                as "values", {AIRBYTE}
            from hubspot_forms__submissions""",
    }


def _airbyte_zendesk() -> dict[str, str]:
    return {
        "tickets": f"""select {_id("ticket_id")} as id, created_at_utc as created_at,
            updated_at_utc as updated_at, {_id("requester_id")} as requester_id,
            {_id("assignee_id")} as assignee_id, external_id, status,
            cast(json_object('channel', via_channel) as varchar) as via, {AIRBYTE}
            from zendesk_tickets__tickets""",
        "users": f"""select {_id("user_id")} as id, email, name, updated_at_utc as updated_at,
            {AIRBYTE} from ({_users()})""",
        "ticket_metrics": f"""select {_id("ticket_id")} as id, {_id("ticket_id")} as ticket_id,
            initially_assigned_at_utc as initially_assigned_at,
            updated_at_utc as updated_at, {AIRBYTE}
            from zendesk_tickets__metric_sets""",
    }


BUILDERS = {
    "segment_warehouse": _segment,
    "fivetran_hubspot": lambda con: _fivetran_hubspot(),
    "fivetran_zendesk": lambda con: _fivetran_zendesk(),
    "airbyte_hubspot": lambda con: _airbyte_hubspot(),
    "airbyte_zendesk": lambda con: _airbyte_zendesk(),
}
# Columns every row has a value in (Segment's id and timestamp, ...): always created.
KEPT = {"id", "timestamp", "event", "event_text", "contact_id", "form_id", "formId", "values"}


def _land(input_dir: Path, scratch: Path, landed: Path | None) -> Path:
    if landed is None:
        landed = scratch / "landed"
        ingest_all(Path(input_dir), landed)
    return landed


def write_layout(
    input_dir: Path, out: Path, layout: str, fmt: str = "parquet", landed: Path | None = None
) -> dict[str, int]:
    """Write `input_dir` as `layout`'s tables: Parquet files `out/<table>.parquet`, or tables of
    the DuckDB file `out` (schema `main`). Returns the rows per table. `landed`: the input
    already landed by file mode (saves landing it again)."""
    if layout not in BUILDERS:
        raise ValueError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    out = Path(out)
    with tempfile.TemporaryDirectory() as scratch:
        landed = _land(input_dir, Path(scratch), landed)
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        _views(con, landed)
        if fmt == "duckdb":
            out.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"attach {literal(str(out))} as loader")
        else:
            out.mkdir(parents=True, exist_ok=True)
        counts = {}
        for table, sql in BUILDERS[layout](con).items():
            con.execute(f'create or replace temp table "t_{table}" as {sql}')
            _drop_empty_columns(con, f"t_{table}")
            if fmt == "duckdb":
                con.execute(
                    f'create or replace table loader.main."{table}" as select * from "t_{table}"'
                )
            else:
                target = literal(str(out / f"{table}.parquet"))
                con.execute(f'copy "t_{table}" to {target} (format parquet)')
            counts[table] = con.execute(f'select count(*) from "t_{table}"').fetchone()[0]
        con.close()
    return counts


def _drop_empty_columns(con, table: str) -> None:
    columns = [r[0] for r in con.execute(f'describe "{table}"').fetchall()]
    for column in columns:
        if column in KEPT or column.startswith("_"):
            continue
        (n,) = con.execute(f'select count("{column}") from "{table}"').fetchone()
        if n == 0:
            con.execute(f'alter table "{table}" drop column "{column}"')


# The demo contract's choice: one loader per system, receipts still from files.
DEMO_SOURCES = {
    "segment": "segment_warehouse",
    "hubspot_forms": "airbyte_hubspot",
    "hubspot_contacts": "airbyte_hubspot",
    "zendesk_tickets": "fivetran_zendesk",
}


def write_all_layouts(input_dir: Path, out: Path, fmt: str = "parquet") -> Path:
    """Every layout of `input_dir` under `out` (`<layout>/` or `<layout>.duckdb`), and
    `out/contract.yaml`: the default contract reading DEMO_SOURCES from them. Returns its path."""
    from lead_parity.contract import DEFAULT_CONTRACT_PATH

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        landed = _land(input_dir, Path(scratch), None)
        for layout in LAYOUTS:
            name = layout + (".duckdb" if fmt == "duckdb" else "")
            write_layout(input_dir, out / name, layout, fmt, landed=landed)
    contract = yaml.safe_load(Path(DEFAULT_CONTRACT_PATH).read_text(encoding="utf-8"))
    contract["sources"] = {
        source: {"kind": layout, "path": layout + (".duckdb" if fmt == "duckdb" else "")}
        for source, layout in DEMO_SOURCES.items()
    }
    path = out / "contract.yaml"
    path.write_text(yaml.safe_dump(contract, sort_keys=False), encoding="utf-8")
    return path


def fivetran_forms_projection(input_dir: Path, out_dir: Path, landed: Path | None = None) -> int:
    """Copy `input_dir` to `out_dir` with its form submissions as Fivetran keeps them: filed
    under a contact, carrying that contact's values; returns how many submissions had none."""
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    shutil.copytree(input_dir, out_dir, ignore=shutil.ignore_patterns("hubspot_forms"))
    with tempfile.TemporaryDirectory() as scratch:
        landed = _land(input_dir, Path(scratch), landed)
        con = duckdb.connect()
        con.execute("set TimeZone = 'UTC'")
        _views(con, landed)
        rows = con.execute(
            f"""select s.contact_id, s.form_guid, s.conversion_id,
                epoch_ms(s.submitted_at_utc), s.page_url,
                c.email, c.firstname, c.lastname, c.company, c.lead_id
            from ({_form_contacts()}) as s
            left join hubspot_contacts__contacts as c using (contact_id)
            order by all"""
        ).fetchall()
        con.close()
    pages: dict[str, list] = {}
    orphans = 0
    for contact_id, guid, conversion_id, at, url, *values in rows:
        if contact_id is None:
            orphans += 1
            continue
        names = ("email", "firstname", "lastname", "company", "lead_id")
        record = {"submittedAt": at, "pageUrl": url}
        if conversion_id is not None:
            record["conversionId"] = conversion_id
        record["values"] = [
            {"name": n, "value": v} for n, v in zip(names, values, strict=True) if v is not None
        ]
        pages.setdefault(guid, []).append(record)
    for guid, results in pages.items():
        folder = out_dir / "hubspot_forms" / guid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "p1.json").write_text(json.dumps({"results": results}))
    return orphans
