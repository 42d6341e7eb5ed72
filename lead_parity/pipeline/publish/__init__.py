"""The published snapshot readers use instead of the live warehouse (see snapshot.py)."""

from lead_parity.pipeline.publish.preview import markdown_preview, mart_summaries
from lead_parity.pipeline.publish.snapshot import (
    COMPATIBLE_STORAGE_VERSION,
    MANIFEST,
    SNAPSHOT_DB,
    PublishError,
    open_snapshot,
    parquet_path,
    publish_snapshot,
    read_manifest,
    resolve_snapshot,
    storage_version,
)

__all__ = [
    "COMPATIBLE_STORAGE_VERSION",
    "MANIFEST",
    "SNAPSHOT_DB",
    "PublishError",
    "mart_summaries",
    "markdown_preview",
    "open_snapshot",
    "parquet_path",
    "publish_snapshot",
    "read_manifest",
    "resolve_snapshot",
    "storage_version",
]
