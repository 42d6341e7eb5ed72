"""File-mode ingestion (SPEC section 2): input folder -> landed Parquet (docs/landed-layout.md)."""

from orchestration.lib.ingest.engine import IngestResult, LedgerMismatch, ingest_source
from orchestration.lib.ingest.parallel import ingest_sources
from orchestration.lib.ingest.sources import SOURCES

__all__ = [
    "SOURCES",
    "IngestResult",
    "LedgerMismatch",
    "ingest_source",
    "ingest_sources",
    "ingest_all",
]


def ingest_all(input_dir, landed_dir, progress=None) -> dict[str, IngestResult]:
    """Land every source, two at a time; raises the first failure after the others landed."""
    results = ingest_sources(SOURCES, input_dir, landed_dir, progress)
    for result in results.values():
        if isinstance(result, BaseException):
            raise result
    return results
