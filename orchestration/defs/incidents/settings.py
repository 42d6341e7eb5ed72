"""Delivery settings for runs the sensors launch: short, so a run never hangs on a dead sink."""

from dataclasses import replace

from lead_parity.pipeline.http_client import HttpSettings
from lead_parity.pipeline.incidents.sinks import SINK_SETTINGS, SinkConfigError, sink_settings
from orchestration.defs.resources import DEPLOYMENT_ENV


def tick_settings() -> HttpSettings:
    try:
        s = sink_settings(DEPLOYMENT_ENV)
    except SinkConfigError:
        s = SINK_SETTINGS  # the run's log and the CLI's summary name the bad variable
    return replace(
        s,
        connect_timeout_s=min(s.connect_timeout_s, 3.0),
        read_timeout_s=min(s.read_timeout_s, 8.0),
        max_attempts=min(s.max_attempts, 3),
        backoff_max_s=min(s.backoff_max_s, 5.0),
        retry_after_max_s=min(s.retry_after_max_s, 10),
    )
