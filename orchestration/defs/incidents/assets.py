"""The `incidents` asset: SLO breaches of this run become incidents, mirrored to ops.incidents."""

from collections.abc import Sequence

import dagster as dg

from lead_parity.pipeline.incidents import IncidentStore, evaluate_in_run, run_url_for
from lead_parity.pipeline.incidents.store import STORE_FILE
from orchestration.defs.resources import DEPLOYMENT_ENV, LeadParityConfig

INCIDENTS_KEY = dg.AssetKey("incidents")
# The marts the SLO evaluations judge and the samples come from (SPEC section 6).
MART_KEYS = (
    dg.AssetKey("fct_hop_parity_daily"),
    dg.AssetKey("fct_hop_parity_daily_totals"),
    dg.AssetKey("rpt_dropped_leads"),
    dg.AssetKey("fct_assignment_latency_daily"),
    dg.AssetKey("fct_assignment_latency_daily_totals"),
    dg.AssetKey("fct_dead_letters_daily"),
    dg.AssetKey("fct_parity_budget_daily"),  # read when the contract says slo.alerting: burn_rate
)
# The quality area's asset that runs after every (blocking) SLO check has written its rows.
SLO_EVALUATIONS_KEY = dg.AssetKey("slo_evaluations")
# Writes the `remediation` rule's rows (re-sent leads unseen after two runs) to the same table.
REMEDIATION_KEY = dg.AssetKey("remediation")


def _md_table(rows: list[dict]) -> str:
    head = (
        "| id | severity | status | rule | scope | owner | breached days | notified |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['incident_id']} | {r['severity']} | {r['status']} | {r['rule']} | `{r['scope']}` "
        f"| {r['owner']} | {r['first_breach_date']}..{r['last_breach_date']} "
        f"({r['days_breached']}) | {r['notified']} |\n"
        for r in rows[:50]
    )
    return head + body if rows else "No open incident."


def build_incidents_asset(extra_deps: Sequence[dg.AssetKey] = ()) -> dg.AssetsDefinition:
    """The asset, after the marts and the run's SLO evaluation; `extra_deps` adds more keys."""

    @dg.asset(
        key=INCIDENTS_KEY,
        deps=[*MART_KEYS, SLO_EVALUATIONS_KEY, REMEDIATION_KEY, *extra_deps],
        group_name="incidents",
        kinds={"sqlite", "duckdb"},
        description="One incident per episode of breached final days of one rule and scope "
        "(ops.slo_evaluations): opened, extended by the next breached final day, resolved once "
        "when the latest final day passes; history older than alerting.page_within goes to one "
        "digest. Lifecycle, people's actions and the outbox live in history/incidents.sqlite; "
        "ops.incidents and ops.incident_events mirror them. Delivery happens after the run "
        "(CLI) or in incident_delivery_job, which incident_outbox_sensor launches.",
    )
    def incidents(context: dg.AssetExecutionContext, lead_parity: LeadParityConfig):
        paths = lead_parity.duckdb_paths("incidents")
        result, rows = evaluate_in_run(
            paths.warehouse,
            paths.history,
            lead_parity.contract(),
            run_url=run_url_for(context.run.run_id, DEPLOYMENT_ENV),
            env=DEPLOYMENT_ENV,
        )
        open_rows = IncidentStore.in_history(paths.history).incidents("live")
        if result is None:
            context.log.warning("no SLO evaluation in ops.slo_evaluations: no incident judged")
        elif result.skipped:
            context.log.info(f"evaluation {result.evaluated_at.isoformat()} {result.skipped}")
        return dg.MaterializeResult(
            metadata={
                "evaluated_at": result.evaluated_at.isoformat() if result else "none",
                "opened": len(result.opened) if result else 0,
                "opened_as_digest": len(result.digest) if result else 0,
                "notified": len(result.notified) if result else 0,
                "escalated": len(result.escalated) if result else 0,
                "resolved": len(result.resolved) if result else 0,
                "open": len(open_rows),
                "open_critical": sum(1 for r in open_rows if r["severity"] == "critical"),
                "rows_in_ops_incidents": rows,
                "open_incidents": dg.MetadataValue.md(_md_table(open_rows)),
                "store": dg.MetadataValue.path(str(paths.history / STORE_FILE)),
            }
        )

    return incidents


incidents = build_incidents_asset()
incident_assets = [incidents]
