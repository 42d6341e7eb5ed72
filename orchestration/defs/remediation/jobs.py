"""The job the remediation sensor launches: send one approved batch.

It never touches the DuckDB warehouse (it reads and writes history/remediation.sqlite and talks
to HubSpot and Zendesk), so it carries a side-lane tag: it runs beside a pipeline run instead of
waiting for the writer lane, and the run queue never holds it behind one.
"""

import dagster as dg

from lead_parity.pipeline.remediation import send_batch
from orchestration.defs.resources import DEPLOYMENT_ENV, SIDE_LANE_TAG, LeadParityConfig

REMEDIATION_TAGS = {SIDE_LANE_TAG: "remediation"}


class BatchConfig(dg.Config):
    """`batch_id`: the approved batch to send (empty: every approved batch)."""

    batch_id: str = ""


@dg.op(description="Send the approved actions of one remediation batch to HubSpot and Zendesk.")
def send_remediation_batch(
    context: dg.OpExecutionContext, config: BatchConfig, lead_parity: LeadParityConfig
) -> dg.Output[None]:
    report = send_batch(
        lead_parity.paths().history,
        lead_parity.contract(),
        config.batch_id or None,
        env=DEPLOYMENT_ENV,
    )
    context.log.info(report.line())
    # Actions left approved (a vendor down, the day's cap) are not a failed run: the sensor
    # launches another run for the batch's new state.
    return dg.Output(
        None,
        metadata={
            "sent": report.sent,
            "left_to_retry": report.unresolved,
            "held_by_daily_cap": report.deferred_by_cap,
            "write_requests": report.writes,
            "read_requests": report.reads,
        },
    )


@dg.job(
    name="remediation_job",
    tags=REMEDIATION_TAGS,
    description="Sends one approved remediation batch; launched by remediation_sensor.",
)
def remediation_job():
    send_remediation_batch()
