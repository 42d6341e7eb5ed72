"""File-mode ingestion (SPEC section 2): input folder -> landed Parquet (docs/landed-layout.md)."""

from lead_parity.pipeline.ingest.engine import IngestResult, LedgerMismatch, ingest_source
from lead_parity.pipeline.ingest.sources import SOURCES

__all__ = ["SOURCES", "IngestResult", "LedgerMismatch", "ingest_source", "ingest_all"]


def ingest_all(input_dir, landed_dir, progress=None) -> dict[str, IngestResult]:
    return {name: ingest_source(name, input_dir, landed_dir, progress) for name in SOURCES}
