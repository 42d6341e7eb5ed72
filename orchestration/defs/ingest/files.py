"""One asset per source of the input (SPEC section 2): parsed, de-duplicated, landed.

A source reads its folder of the input, or the loader tables the contract's `sources:` names
(docs/warehouse-inputs.md); either way it lands the same tables.
"""

import dagster as dg
import duckdb

from lead_parity.pipeline.ingest import DEFAULT_MEMORY_LIMIT, SOURCES, ingest_source
from lead_parity.pipeline.ingest.warehouse import WarehouseInputError
from orchestration.defs.owners import owners_of_system
from orchestration.defs.resources import LeadParityConfig

SOURCE_DESCRIPTIONS = {
    "segment": "Segment track/identify/page messages from `segment/*.jsonl[.gz]`.",
    "hubspot_forms": "HubSpot form submissions, one API page per file per form guid.",
    "hubspot_contacts": "HubSpot CRM v3 contacts pages; newest `updatedAt` per contact id.",
    "zendesk_tickets": "Zendesk incremental ticket export pages with users and metric sets.",
    "zendesk_users": "Zendesk incremental user export pages (optional).",
    "receipts": "Delivery receipts of the integration layer (`receipts/*.jsonl[.gz]`).",
}


# The live asset that lands each source's pages in the input folder (orchestration/defs/ingest/
# live.py): in a live run the pages must land before they are parsed.
FETCHED_BY_SOURCE = {
    "hubspot_forms": dg.AssetKey("hubspot_form_submissions_fetched"),
    "hubspot_contacts": dg.AssetKey("hubspot_contacts_fetched"),
    "zendesk_tickets": dg.AssetKey("zendesk_tickets_fetched"),
}


def landed_table_keys(source: str) -> dict[str, dg.AssetKey]:
    """The dbt source tables one ingestion step lands (keys match the dbt sources)."""
    tables = [e.name for e in SOURCES[source].entities] + ["quarantine", "ledger", "manifest"]
    return {table: dg.AssetKey([source, table]) for table in tables}


def _quarantine_preview(landed_source_dir) -> str:
    path = landed_source_dir / "quarantine.parquet"
    with duckdb.connect() as con:
        rows = con.execute(
            "select reason, count(*) as records, min(file) as first_file "
            "from read_parquet(?) group by reason order by records desc limit 10",
            [str(path)],
        ).fetchall()
    if not rows:
        return "No quarantined records."
    lines = ["| reason | records | first file |", "|---|---|---|"]
    lines += [f"| {r[0][:80]} | {r[1]} | {r[2]} |" for r in rows]
    return "\n".join(lines)


def _build_landed_asset(source: str) -> dg.AssetsDefinition:
    keys = landed_table_keys(source)
    description = (
        SOURCE_DESCRIPTIONS[source]
        + " Or, as the contract's `sources:` says, the same records from a loader's tables"
        " (Segment warehouse, Fivetran, Airbyte; docs/warehouse-inputs.md)."
        + " Bad records are quarantined, every record is counted in the ingestion ledger."
    )

    @dg.multi_asset(
        name=f"{source}_landed",
        group_name="ingest",
        specs=[
            dg.AssetSpec(
                key,
                kinds={"python", "parquet"},
                description=f"{table}: {description}",
                deps=[FETCHED_BY_SOURCE[source]] if source in FETCHED_BY_SOURCE else [],
                owners=owners_of_system(source),
            )
            for table, key in keys.items()
        ],
    )
    def _landed(context: dg.AssetExecutionContext, lead_parity: LeadParityConfig):
        paths = lead_parity.paths()
        spec = lead_parity.contract().source_input(source)
        try:
            result = ingest_source(
                source,
                lead_parity.input_dir,
                paths.landed,
                progress=context.log.info,
                spec=spec,
                full_refresh=lead_parity.full_refresh,
                memory_limit=lead_parity.ingest_memory_limit or DEFAULT_MEMORY_LIMIT,
            )
        except WarehouseInputError as exc:
            raise dg.Failure(description=str(exc)) from None
        context.log.info(
            f"{source}: read {result.records_read}, loaded {result.records_loaded}, "
            f"quarantined {result.records_quarantined}, duplicates {result.duplicates}; "
            f"{result.files_parsed} files parsed, {result.files_reused} unchanged and reused"
        )
        for gone in result.files_missing:
            context.log.warning(f"{source}: {gone} is gone from the input; its records are kept")
        common = {
            # The run's unit of work is its as_of (docs/dagster.md, "The unit of work").
            "as_of": lead_parity.as_of_datetime().isoformat(),
            "input_kind": spec.kind,
            "source_present": result.is_present,
            "files": result.files,
            "records_read": result.records_read,
            "records_loaded": result.records_loaded,
            "records_quarantined": result.records_quarantined,
            "duplicates": result.duplicates,
            "files_parsed": result.files_parsed,
            "files_reused": result.files_reused,
            "files_superseded": result.files_superseded,
            "files_missing": dg.MetadataValue.json(list(result.files_missing)),
            "landed_dir": dg.MetadataValue.path(str(result.landed_dir)),
        }
        for table, key in keys.items():
            metadata = dict(common)
            if table in result.loaded_by_entity:
                metadata["dagster/row_count"] = result.loaded_by_entity[table]
            if table == "quarantine":
                metadata["dagster/row_count"] = result.records_quarantined
                metadata["preview"] = dg.MetadataValue.md(_quarantine_preview(result.landed_dir))
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)

    return _landed


landed_assets = [_build_landed_asset(source) for source in SOURCES]
