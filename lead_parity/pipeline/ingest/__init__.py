"""File-mode ingestion (SPEC section 2): input folder -> landed Parquet (docs/landed-layout.md)."""

from lead_parity.pipeline.ingest.engine import IngestResult, LedgerMismatch, ingest_source
from lead_parity.pipeline.ingest.sources import SOURCES

__all__ = ["SOURCES", "IngestResult", "LedgerMismatch", "ingest_source", "ingest_all"]


def ingest_all(input_dir, landed_dir, progress=None, inputs=None) -> dict[str, IngestResult]:
    """Every source; `inputs` (the contract's `sources`) names those read from a loader."""
    inputs = inputs or {}
    return {
        name: ingest_source(name, input_dir, landed_dir, progress, inputs.get(name))
        for name in SOURCES
    }
