"""File-mode ingestion (SPEC section 2): input folder -> landed Parquet (docs/landed-layout.md)."""

from lead_parity.pipeline.ingest.engine import (
    DEFAULT_MEMORY_LIMIT,
    IngestResult,
    LedgerMismatch,
    ingest_source,
)
from lead_parity.pipeline.ingest.sources import SOURCES

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "SOURCES",
    "IngestResult",
    "LedgerMismatch",
    "ingest_source",
    "ingest_all",
]


def ingest_all(
    input_dir, landed_dir, progress=None, inputs=None, *, memory_limit=DEFAULT_MEMORY_LIMIT
) -> dict[str, IngestResult]:
    """Every source; `inputs` (the contract's `sources`) names those read from a loader."""
    inputs = inputs or {}
    results = {
        name: ingest_source(
            name, input_dir, landed_dir, progress, inputs.get(name), memory_limit=memory_limit
        )
        for name in SOURCES
    }
    # The live connectors' call log (empty in file mode): the vendor rate-limit mart reads it.
    from lead_parity.pipeline.connectors.call_log import land_call_log

    land_call_log(input_dir, landed_dir)
    return results
