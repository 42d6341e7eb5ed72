"""The reconciliation report: one self-contained HTML file built from the published snapshot."""

from __future__ import annotations

from pathlib import Path

from lead_parity.files import write_text
from lead_parity.pipeline.publish import open_snapshot, read_manifest


def write_report(published_dir: Path, out: Path, *, days: int = 30) -> dict:
    """Render the report of the current snapshot into `out` (atomically); returns a summary."""
    # Imported here: matplotlib is slow to import and only the report needs it.
    from lead_parity.readers.report.html import render_report

    manifest = read_manifest(published_dir)
    with open_snapshot(published_dir) as con:
        page = render_report(con, manifest, days)
    out = Path(out)
    write_text(out, page)
    return {
        "path": str(out.resolve()),
        "bytes": len(page.encode("utf-8")),
        "charts": page.count('<figure class="chart">'),
        "snapshot_version": manifest.get("version"),
    }


__all__ = ["write_report"]
