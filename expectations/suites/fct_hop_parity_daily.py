"""Parity SLO on fct_hop_parity_daily: dropped / expected per (day, hop) total and big slices.

The frame holds one row per unit: `unit` is `total` (a day's hop across every type and origin,
the rows of fct_hop_parity_daily_totals) or `slice` (one conversion type and origin, the rows of
fct_hop_parity_daily). A slice below `min_slice_volume` expected conversions is judged only
inside its total, so one drop among ten conversions pages nobody.
"""

from __future__ import annotations

import great_expectations as gx
import pandas as pd
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column, Condition

from expectations.suites._spec import UNIT_SEVERITY, SuiteSpec, new_suite
from lead_parity.contract import Contract

MART = "fct_hop_parity_daily"


def judged_units_condition(contract: Contract) -> Condition:
    """Row condition selecting the units the parity SLO judges."""
    return (Column("unit") == "total") | (Column("expected") >= int(contract.slo.min_slice_volume))


def is_judged(units: pd.DataFrame, contract: Contract) -> pd.Series:
    """The same selection as `judged_units_condition`, on a frame (for the evaluation rows)."""
    return (units["unit"] == "total") | (units["expected"] >= int(contract.slo.min_slice_volume))


def parity_suite(contract: Contract) -> gx.ExpectationSuite:
    slo = contract.slo
    expectations = []
    judged = judged_units_condition(contract)
    for level, threshold, severity in (
        ("warning", slo.parity_discrepancy_pct, FailureSeverity.WARNING),
        ("critical", slo.critical_discrepancy_pct, FailureSeverity.CRITICAL),
    ):
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeBetween(
                column="discrepancy_pct",
                max_value=float(threshold),
                strict_max=True,  # the contract says "breach at or above"
                row_condition=judged,
                severity=severity,
                meta={UNIT_SEVERITY: level},
                description=(
                    f"Dropped share of expected conversions stays below {threshold}% for every "
                    f"(day, hop) total and every slice with at least {slo.min_slice_volume} "
                    f"expected ({level} at or above)."
                ),
            )
        )
    return new_suite(MART, "parity", contract, expectations)


SUITES = (
    SuiteSpec(
        rule="parity",
        mart=MART,
        kind="slo",
        build=parity_suite,
        description="Dropped share per (day, hop) total and per large (type, origin) slice.",
    ),
)
