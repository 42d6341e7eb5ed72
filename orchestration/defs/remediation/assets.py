"""The `remediation` asset: a pipeline run confirms what remediation sent and mirrors the audit."""

from datetime import UTC

import dagster as dg
import pandas as pd

from expectations.store import write_evaluations
from lead_parity.contract.evaluations import COLUMNS as EVALUATION_COLUMNS
from lead_parity.pipeline.remediation import RemediationStore, confirm_in_run
from lead_parity.pipeline.remediation.confirm import EVALUATION_RULE, evaluation_rows
from lead_parity.pipeline.remediation.store import STORE_FILE
from orchestration.defs.owners import MART_OWNERS
from orchestration.defs.quality.checks import run_as_of
from orchestration.defs.resources import LeadParityConfig

REMEDIATION_KEY = dg.AssetKey("remediation")
# The staging tables the confirmation looks in, fct_conversions so that the mirror lands
# after the marts it annotates, and the contact ids the planner reads from the snapshot this
# asset runs before.
UPSTREAM_KEYS = (
    dg.AssetKey("stg_hubspot__contacts"),
    dg.AssetKey("stg_zendesk__tickets"),
    dg.AssetKey("stg_zendesk__users"),
    dg.AssetKey("fct_conversions"),
    dg.AssetKey("lead_crm_contacts"),
)
COLUMNS = dg.TableSchema(
    columns=[
        dg.TableColumn("action_id", "string", description="ra_ + hash of (conversion_id, hop)"),
        dg.TableColumn("batch_id", "string", description="The plan's batch, approved as one"),
        dg.TableColumn("conversion_id", "string"),
        dg.TableColumn("hop", "string", description="The hop it was dropped at"),
        dg.TableColumn("action", "string", description="hubspot_upsert, hubspot_flag, ..."),
        dg.TableColumn("target", "string", description="hubspot or zendesk"),
        dg.TableColumn(
            "status", "string", description="proposed/approved/rejected/sent/confirmed/failed"
        ),
        dg.TableColumn("sent_at", "timestamp"),
        dg.TableColumn("object_id", "string", description="The vendor's contact/ticket id"),
        dg.TableColumn("confirmed_at", "timestamp", description="as_of of the run that saw it"),
    ]
)


@dg.asset(
    key=REMEDIATION_KEY,
    deps=list(UPSTREAM_KEYS),
    group_name="remediation",
    kinds={"sqlite", "duckdb"},
    owners=MART_OWNERS,  # every hop owner: a re-sent lead may belong to any of them
    description="Re-sent dropped leads (docs/remediation.md): confirms each sent action whose "
    "contact or lp: ticket this run sees (unseen after two runs: failed), closes the "
    "conversion's review items as requeued, mirrors history/remediation.sqlite into "
    "ops.remediation_queue and the append-only ops.remediation_attempts, and writes the "
    "`remediation` rule's rows to ops.slo_evaluations (a failure opens an incident).",
    metadata={"dagster/column_schema": COLUMNS},
)
def remediation(lead_parity: LeadParityConfig) -> dg.MaterializeResult:
    paths = lead_parity.duckdb_paths("remediation")
    as_of = lead_parity.as_of_datetime()
    report = confirm_in_run(paths.warehouse, paths.history, as_of)
    store = RemediationStore.in_history(paths.history)
    # Failed actions become an incident through the incidents layer: rows of the
    # `remediation` rule in ops.slo_evaluations, evaluated with the run's SLO checks.
    rows = evaluation_rows(store, run_as_of(lead_parity).replace(tzinfo=UTC))
    if rows:
        write_evaluations(
            paths.warehouse,
            rows[0]["evaluated_at"],
            EVALUATION_RULE,
            pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS)),
            paths.history,
        )
    counts: dict[str, int] = {}
    for action in store.actions():
        counts[action["status"]] = counts.get(action["status"], 0) + 1
    return dg.MaterializeResult(
        metadata={
            "summary": report.line(),
            "confirmed": len(report.confirmed),
            "failed": len(report.failed),
            "review_items_requeued": len(report.requeued_items),
            "dagster/row_count": report.mirrored,
            **{f"status_{k}": v for k, v in sorted(counts.items())},
            "store": dg.MetadataValue.path(str(paths.history / STORE_FILE)),
        }
    )


@dg.asset_check(
    asset=REMEDIATION_KEY,
    description="No re-sent lead failed to show up in its system two runs after it was sent.",
)
def remediation_nothing_failed(lead_parity: LeadParityConfig) -> dg.AssetCheckResult:
    failed = RemediationStore.in_history(lead_parity.paths().history).actions(status="failed")
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": len(failed), "actions": ", ".join(a["action_id"] for a in failed[:20])},
    )


remediation_assets = [remediation]
remediation_checks = [remediation_nothing_failed]
