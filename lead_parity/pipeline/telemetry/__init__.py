"""The playbook's telemetry checks on the telemetry marts (docs/telemetry.md)."""

from lead_parity.pipeline.telemetry.checks import (
    CHECKS,
    CheckOutcome,
    enrichment_latency,
    enrichment_success,
    lead_id_coverage,
    rate_limit_spikes,
)

__all__ = [
    "CHECKS",
    "CheckOutcome",
    "enrichment_latency",
    "enrichment_success",
    "lead_id_coverage",
    "rate_limit_spikes",
]
