"""Published snapshot and reconciliation report assets (plain logic in lead_parity.pipeline)."""

from orchestration.defs.publish.assets import (
    build_published_snapshot_asset,
    publish_assets,
    published_snapshot,
    reconciliation_report,
)

__all__ = [
    "build_published_snapshot_asset",
    "publish_assets",
    "published_snapshot",
    "reconciliation_report",
]
