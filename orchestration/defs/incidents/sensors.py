"""`incident_delivery_sensor`: after each materialization of the marts (or of the incidents /
published snapshot), evaluate from the published files and deliver the outbox.

It reads only the published snapshot and the SQLite store, never the warehouse, so a tick can
never hold the DuckDB lock a run needs. The cursor keeps the newest materialization storage id
per monitored asset, so a tick never works a materialization twice; the outbox makes the sends
themselves exactly-once, and between runs the sensor retries what is due in the outbox.
"""

import json
from collections.abc import Sequence
from dataclasses import replace

import dagster as dg

from lead_parity.pipeline.incidents import IncidentStore, run_url_for, sensor_pass
from lead_parity.pipeline.incidents.sinks import (
    DeliverySettings,
    SinkConfigError,
    configured_sink_names,
)
from orchestration.defs.resources import LeadParityConfig

# A tick must finish well inside Dagster's sensor timeout (60 s by default): no new event is
# started after TICK_BUDGET_S, and one event's retries are kept short; the outbox keeps the rest.
TICK_BUDGET_S = 20.0


def tick_settings() -> DeliverySettings:
    try:
        s = DeliverySettings.from_env()
    except SinkConfigError:
        s = DeliverySettings()  # the CLI's run summary names the bad variable
    return replace(
        s,
        connect_timeout_s=min(s.connect_timeout_s, 3.0),
        read_timeout_s=min(s.read_timeout_s, 8.0),
        max_attempts=min(s.max_attempts, 3),
        backoff_max_s=min(s.backoff_max_s, 5.0),
        retry_after_max_s=min(s.retry_after_max_s, 10),
    )


MONITORED_KEYS = (
    dg.AssetKey("incidents"),
    dg.AssetKey("published_snapshot"),
    dg.AssetKey("fct_hop_parity_daily"),
)


def _newest(
    context: dg.SensorEvaluationContext, keys: Sequence[dg.AssetKey], cursor: dict[str, int]
) -> tuple[dict[str, int], str | None]:
    """Newest unseen materialization storage id per key, and the run of the newest of them."""
    newest: dict[str, int] = {}
    run_id, best = None, -1
    for key in keys:
        name = key.to_user_string()
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=cursor.get(name)),
            limit=1,
            ascending=False,
        ).records
        if records:
            newest[name] = records[0].storage_id
            if records[0].storage_id > best:
                best, run_id = records[0].storage_id, records[0].event_log_entry.run_id
    return newest, run_id


def build_incident_delivery_sensor(
    *,
    name: str = "incident_delivery_sensor",
    monitored_keys: Sequence[dg.AssetKey] = MONITORED_KEYS,
    minimum_interval_seconds: int = 30,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Evaluates incidents from the published snapshot after each "
        "materialization of the marts and delivers the outbox to PagerDuty / Slack / webhook.",
    )
    def _sensor(context: dg.SensorEvaluationContext, lead_parity: LeadParityConfig):
        cursor = json.loads(context.cursor) if context.cursor else {}
        newest, run_id = _newest(context, monitored_keys, cursor)
        paths = lead_parity.paths()
        if not newest:
            store = IncidentStore.in_history(paths.history)
            if store.pending_due(configured_sink_names()) == 0:
                return dg.SkipReason("no new materialization and nothing due in the outbox")
        report = sensor_pass(
            paths.published,
            paths.history,
            lead_parity.contract(),
            run_url=run_url_for(run_id),
            new_materialization=bool(newest),
            settings=tick_settings(),
            budget_s=TICK_BUDGET_S,
        )
        context.update_cursor(json.dumps({**cursor, **newest}, sort_keys=True))
        for line in report.delivery.errors:
            context.log.warning(line)
        # The sensor never launches runs; the skip reason is the tick's summary in the UI.
        return dg.SkipReason(
            " | ".join(
                report.lines()[:1]
                + [
                    f"delivered {sum(report.delivery.delivered.values())}, "
                    f"in outbox {sum(report.delivery.pending.values())}"
                ]
            )
        )

    return _sensor


incident_delivery_sensor = build_incident_delivery_sensor()
incident_sensors = [incident_delivery_sensor]
