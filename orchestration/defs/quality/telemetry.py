"""Asset checks on the telemetry marts (docs/telemetry.md): warnings, never run failures.

Each reads its mart from the warehouse after the build (connect read-only, judge, close) and
reports the breached days in its metadata. None is blocking: nothing downstream waits on them.
"""

import dagster as dg
import duckdb

from lead_parity.pipeline.telemetry import CHECKS, CheckOutcome
from orchestration.defs.quality.checks import run_as_of
from orchestration.defs.resources import LeadParityConfig

BREACH_ROWS = 25
CHECK_MARTS = {
    "lead_id_coverage": "fct_capture_compliance_daily",
    "rate_limit_spike": "fct_vendor_rate_limits_daily",
    "enrichment_success_daily": "fct_enrichment_daily",
    "enrichment_latency": "fct_enrichment_daily",
}
CHECK_DESCRIPTIONS = {
    "lead_id_coverage": "Warns when the share of a day's conversions carrying a lead_id falls "
    "below the contract's telemetry.lead_id_coverage_pct (last 7 days).",
    "rate_limit_spike": "Warns when a destination's 429 share spikes against the median of its "
    "own previous 14 days (telemetry.rate_limit_spike_ratio), receipts and connectors alike.",
    "enrichment_success_daily": "Warns when a day's enrichment success is at or below the SPEC's "
    "slo.enrichment_success_pct (99%).",
    "enrichment_latency": "Warns when a day's P95 enrichment latency reaches "
    "telemetry.enrichment_p95_degradation_ratio times its 14-day median.",
}


def breach_table(outcome: CheckOutcome) -> str:
    if not outcome.breaches:
        return "No breach."
    columns = list(outcome.breaches[0])
    text = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    for row in outcome.breaches[:BREACH_ROWS]:
        text += "| " + " | ".join(str(row[c]).replace("|", "\\|") for c in columns) + " |\n"
    if len(outcome.breaches) > BREACH_ROWS:
        text += f"\n{len(outcome.breaches) - BREACH_ROWS} more not shown.\n"
    return text


def build_telemetry_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(CHECK_MARTS[name]),
        name=name,
        description=CHECK_DESCRIPTIONS[name],
        blocking=False,
    )
    def _check(lead_parity: LeadParityConfig) -> dg.AssetCheckResult:
        paths = lead_parity.duckdb_paths(f"the {name} check")
        con = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            outcome = CHECKS[name](con, lead_parity.contract(), run_as_of(lead_parity))
        finally:
            con.close()
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "judged_units": outcome.judged,
                "breached_units": len(outcome.breaches),
                "breaches": dg.MetadataValue.json(outcome.breaches[:BREACH_ROWS]),
                "breached": dg.MetadataValue.md(breach_table(outcome)),
            },
        )

    return _check


telemetry_checks = [build_telemetry_check(name) for name in CHECKS]
