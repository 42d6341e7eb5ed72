"""Warehouse-table inputs: read a loader's tables (Segment warehouses, Fivetran, Airbyte) into
the same landed tables as file mode (docs/warehouse-inputs.md)."""

from lead_parity.pipeline.ingest.warehouse import (
    airbyte_hubspot,
    airbyte_zendesk,
    fivetran_hubspot,
    fivetran_zendesk,
    segment_warehouse,
)
from lead_parity.pipeline.ingest.warehouse.records import Records
from lead_parity.pipeline.ingest.warehouse.tables import LoaderTables, WarehouseInputError

ADAPTERS = {
    m.KIND: m.source_records
    for m in (
        segment_warehouse,
        fivetran_hubspot,
        fivetran_zendesk,
        airbyte_hubspot,
        airbyte_zendesk,
    )
}

__all__ = ["ADAPTERS", "LoaderTables", "Records", "WarehouseInputError"]
