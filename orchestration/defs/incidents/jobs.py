"""Small jobs the incident sensors launch: deliver the outbox, escalate unacknowledged pages.

Neither touches the DuckDB warehouse (they read the published snapshot and the SQLite incident
store), so they carry no writer-lane tag and the run queue never holds them behind a pipeline
run; their side-lane tag tells the `lead_parity` resource not to take the writer lane either.
"""

from datetime import UTC, datetime

import dagster as dg

from lead_parity.pipeline.incidents import IncidentStore, policy_of, run_url_for, sensor_pass
from lead_parity.pipeline.incidents.sinks import configured_sink_names
from lead_parity.pipeline.timeparse import parse_as_of
from orchestration.defs.incidents.settings import tick_settings
from orchestration.defs.resources import DEPLOYMENT_ENV, SIDE_LANE_TAG, LeadParityConfig

# The incident jobs' own lane: no warehouse access, so no writer lane (see the docstring).
INCIDENT_TAGS = {SIDE_LANE_TAG: "incidents"}


class DeliveryConfig(dg.Config):
    """`evaluate`: first apply an evaluation the run's asset did not (from the snapshot)."""

    evaluate: bool = False
    source_run_id: str = ""


@dg.op(description="Deliver every due event of the incident outbox to PagerDuty/Slack/webhook.")
def deliver_incident_outbox(
    context: dg.OpExecutionContext, config: DeliveryConfig, lead_parity: LeadParityConfig
) -> dg.Output[None]:
    paths = lead_parity.paths()
    report = sensor_pass(
        paths.published,
        paths.history,
        lead_parity.contract(),
        run_url=run_url_for(config.source_run_id or None, DEPLOYMENT_ENV),
        new_materialization=config.evaluate,
        env=DEPLOYMENT_ENV,
        settings=tick_settings(),
    )
    for line in report.delivery.errors:
        context.log.warning(line)
    for line in report.lines():
        context.log.info(line)
    d = report.delivery
    # A sink that is down is not a failed run: the outbox keeps the event and the sensor
    # launches another run when its retry is due.
    return dg.Output(
        None,
        metadata={
            "delivered": sum(d.delivered.values()),
            "still_in_outbox": sum(d.pending.values()),
            "waiting_for_unconfigured_sinks": sum(d.unconfigured.values()),
        },
    )


@dg.job(
    name="incident_delivery_job",
    tags=INCIDENT_TAGS,
    description="Delivers the incident outbox; launched by incident_outbox_sensor.",
)
def incident_delivery_job():
    deliver_incident_outbox()


class EscalationConfig(dg.Config):
    """`as_of`: the moment to judge ack_within against (ISO-8601; empty = now)."""

    as_of: str = ""


@dg.op(description="Tell escalation.owner about critical incidents not acknowledged in time.")
def escalate_unacknowledged_incidents(
    context: dg.OpExecutionContext, config: EscalationConfig, lead_parity: LeadParityConfig
) -> dg.Output[None]:
    now = parse_as_of(config.as_of) if config.as_of else datetime.now(UTC)
    store = IncidentStore.in_history(lead_parity.paths().history)
    contract = lead_parity.contract()
    escalated = store.escalate_due(now, policy_of(contract), configured_sink_names(DEPLOYMENT_ENV))
    for incident_id in escalated:
        context.log.info(f"{incident_id}: escalated to {contract.escalation.owner}")
    # The escalation messages wait in the outbox; incident_outbox_sensor launches their delivery.
    return dg.Output(None, metadata={"escalated": len(escalated), "as_of": now.isoformat()})


@dg.job(
    name="incident_escalation_job",
    tags=INCIDENT_TAGS,
    description="Escalates unacknowledged critical incidents; launched by "
    "incident_escalation_sensor.",
)
def incident_escalation_job():
    escalate_unacknowledged_incidents()


incident_jobs = [incident_delivery_job, incident_escalation_job]
