"""Assets downstream of the marts: the published snapshot readers use, and the HTML report."""

from collections.abc import Sequence

import dagster as dg

from lead_parity.pipeline.publish import PublishError, mart_summaries, publish_snapshot
from lead_parity.readers.report import write_report
from orchestration.defs.marts import SPEC_MARTS
from orchestration.defs.resources import LeadParityConfig

PUBLISHED_SNAPSHOT_KEY = dg.AssetKey("published_snapshot")
RECONCILIATION_REPORT_KEY = dg.AssetKey("reconciliation_report")
REPORT_FILE = "reconciliation_report.html"
# The marts of SPEC section 6 and the incidents asset (which writes ops.incidents): the
# snapshot must not be taken before any of them has finished.
MART_KEYS = tuple(dg.AssetKey(name) for name in SPEC_MARTS)
INCIDENTS_KEY = dg.AssetKey("incidents")
# ops.review_queue is written by the review_queue asset: the snapshot waits for it too.
REVIEW_QUEUE_KEY = dg.AssetKey("review_queue")
# ops.remediation_queue and ops.remediation_attempts likewise, by the remediation asset.
REMEDIATION_KEY = dg.AssetKey("remediation")


def _tables_markdown(tables: dict[str, int]) -> str:
    rows = "".join(f"| {name} | {count:,} |\n" for name, count in sorted(tables.items()))
    return "| table | rows |\n|---|---:|\n" + rows


def build_published_snapshot_asset(
    extra_deps: Sequence[dg.AssetKey] = (),
) -> dg.AssetsDefinition:
    """The asset; `extra_deps` adds e.g. an `slo_evaluations` asset so it runs after it."""

    @dg.asset(
        key=PUBLISHED_SNAPSHOT_KEY,
        deps=[*MART_KEYS, INCIDENTS_KEY, REVIEW_QUEUE_KEY, REMEDIATION_KEY, *extra_deps],
        group_name="publish",
        kinds={"duckdb", "parquet"},
        description=(
            "The marts and ops tables (SLO evaluations, incidents, quarantine, ledger) copied to "
            "`published/`: one Parquet file per table and a read-only DuckDB file with default "
            "storage compatibility, swapped in atomically. BI tools, the dashboard, the report "
            "and the incident sensor read this, never the live warehouse (docs/bi.md)."
        ),
    )
    def published_snapshot(
        context: dg.AssetExecutionContext, lead_parity: LeadParityConfig
    ) -> dg.MaterializeResult:
        paths = lead_parity.duckdb_paths("the published snapshot")
        try:
            manifest = publish_snapshot(
                paths.warehouse,
                paths.published,
                contract_dir=paths.contract_tables,
                metadata={"run_id": context.run.run_id},
            )
        except PublishError as exc:
            # One line a person can act on, in the UI and in `lead-parity run`'s exit message.
            raise dg.Failure(description=f"publish failed: {exc}") from exc
        # Row counts and a preview on each mart's own page (the dbt step cannot read the
        # warehouse while dbt holds it; the snapshot is the first safe moment).
        for name, summary in mart_summaries(paths.published).items():
            context.log_event(
                dg.AssetObservation(
                    asset_key=dg.AssetKey(name),
                    metadata={
                        "dagster/row_count": dg.MetadataValue.int(summary["row_count"]),
                        "preview": dg.MetadataValue.md(summary["preview"]),
                        "published_parquet": dg.MetadataValue.path(
                            str(paths.published / "marts" / f"{name}.parquet")
                        ),
                    },
                )
            )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(paths.published)),
                "version": manifest["version"],
                "duckdb_file": dg.MetadataValue.path(str(paths.published / "lead_parity.duckdb")),
                "storage_compatibility": manifest["storage_compatibility"],
                "tables": dg.MetadataValue.md(_tables_markdown(manifest["tables"])),
                "table_count": len(manifest["tables"]),
                "seconds": manifest["seconds"],
            }
        )

    return published_snapshot


@dg.asset(
    key=RECONCILIATION_REPORT_KEY,
    deps=[PUBLISHED_SNAPSHOT_KEY],
    group_name="publish",
    kinds={"html"},
    description=(
        "The 30-day reconciliation report: one self-contained HTML file (inline SVG charts, no "
        "external requests) for content leaders: parity per hop and campaign, top causes with "
        "samples, latency, dead letters, revenue at risk and what to fix first."
    ),
)
def reconciliation_report(
    context: dg.AssetExecutionContext, lead_parity: LeadParityConfig
) -> dg.MaterializeResult:
    paths = lead_parity.duckdb_paths("the reconciliation report")
    out = paths.data_dir / "reports" / REPORT_FILE
    try:
        summary = write_report(paths.published, out)
    except PublishError as exc:
        raise dg.Failure(description=f"report not written: {exc}") from exc
    context.log.info(f"report written to {summary['path']}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(summary["path"]),
            "report": dg.MetadataValue.url(out.resolve().as_uri()),
            "bytes": summary["bytes"],
            "charts": summary["charts"],
            "snapshot_version": summary["snapshot_version"] or "",
        }
    )


published_snapshot = build_published_snapshot_asset()
publish_assets = [published_snapshot, reconciliation_report]
