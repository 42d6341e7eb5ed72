"""One module per mart, each building its GX suites from the routing contract's `slo` section."""

from expectations.suites import (
    fct_conversions,
    fct_dead_letters_daily,
    fct_hop_parity_daily,
    ingestion_ledger,
    quarantined_records,
)
from expectations.suites._spec import UNIT_SEVERITY, SuiteSpec

SUITES: dict[str, SuiteSpec] = {
    spec.rule: spec
    for module in (
        fct_hop_parity_daily,
        fct_conversions,
        fct_dead_letters_daily,
        ingestion_ledger,
        quarantined_records,
    )
    for spec in module.SUITES
}
"""Every suite by rule name, in evaluation order."""

SLO_RULES = tuple(rule for rule, spec in SUITES.items() if spec.kind == "slo")
INTEGRITY_RULES = tuple(rule for rule, spec in SUITES.items() if spec.kind == "integrity")

__all__ = ["INTEGRITY_RULES", "SLO_RULES", "SUITES", "UNIT_SEVERITY", "SuiteSpec"]
