"""Suites on fct_conversions: unique conversion ids (integrity) and three conversion SLOs.

- median_assignment_latency: one row per (day, type) with the median seconds to assignment;
- high_intent_unassigned: one row per conversion with `unassigned_s`, how long it waited for
  an owner (until assignment, or until as_of when nobody was assigned);
- enrichment_success: one row per day with the share of conversions that had enrichment
  receipts and got some delivered or replayed.
"""

from __future__ import annotations

import great_expectations as gx
import pandas as pd
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column, Condition

from expectations.suites._spec import UNIT_SEVERITY, SuiteSpec, new_suite
from lead_parity.contract import Contract

MART = "fct_conversions"


def conversion_integrity_suite(contract: Contract) -> gx.ExpectationSuite:
    expectations = []
    expectations.append(
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="conversion_id", description="Every conversion has its messageId."
        )
    )
    expectations.append(
        gx.expectations.ExpectColumnValuesToBeUnique(
            column="conversion_id", description="One row per conversion."
        )
    )
    return new_suite(MART, "conversion_id_unique", contract, expectations)


def median_assignment_latency_suite(contract: Contract) -> gx.ExpectationSuite:
    limit = contract.slo.median_assignment_latency_s
    expectations = []
    expectations.append(
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="median_s",
            max_value=float(limit),
            strict_max=True,
            severity=FailureSeverity.WARNING,
            meta={UNIT_SEVERITY: "warning"},
            description=f"Median conversion-to-assignment time per day and type below {limit}s.",
        )
    )
    return new_suite(MART, "median_assignment_latency", contract, expectations)


def high_intent_condition(contract: Contract) -> Condition:
    """Row condition selecting the high-intent conversions."""
    return Column("intent_score") >= float(contract.slo.high_intent_score)


def is_high_intent(conversions: pd.DataFrame, contract: Contract) -> pd.Series:
    """The same selection as `high_intent_condition`, on a frame (for the evaluation rows)."""
    return conversions["intent_score"] >= float(contract.slo.high_intent_score)


def high_intent_unassigned_suite(contract: Contract) -> gx.ExpectationSuite:
    slo = contract.slo
    expectations = []
    expectations.append(
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="unassigned_s",
            max_value=float(slo.high_intent_unassigned_after_s),
            row_condition=high_intent_condition(contract),
            severity=FailureSeverity.WARNING,
            meta={UNIT_SEVERITY: "warning"},
            description=(
                f"No conversion with intent_score >= {slo.high_intent_score} waits longer than "
                f"{slo.high_intent_unassigned_after_s}s for an owner."
            ),
        )
    )
    return new_suite(MART, "high_intent_unassigned", contract, expectations)


def enrichment_success_suite(contract: Contract) -> gx.ExpectationSuite:
    floor = contract.slo.enrichment_success_pct
    expectations = []
    expectations.append(
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="success_pct",
            min_value=float(floor),
            severity=FailureSeverity.WARNING,
            meta={UNIT_SEVERITY: "warning"},
            description=(
                f"At least {floor}% of the conversions with enrichment receipts got one "
                "delivered or replayed, per conversion day."
            ),
        )
    )
    return new_suite(MART, "enrichment_success", contract, expectations)


SUITES = (
    SuiteSpec(
        rule="conversion_id_unique",
        mart=MART,
        kind="integrity",
        build=conversion_integrity_suite,
        description="conversion_id is present and unique in fct_conversions.",
    ),
    SuiteSpec(
        rule="median_assignment_latency",
        mart=MART,
        kind="slo",
        build=median_assignment_latency_suite,
        description="Median conversion-to-assignment latency per day and conversion type.",
    ),
    SuiteSpec(
        rule="high_intent_unassigned",
        mart=MART,
        kind="slo",
        build=high_intent_unassigned_suite,
        description="High-intent conversions left without an owner for too long.",
    ),
    SuiteSpec(
        rule="enrichment_success",
        mart=MART,
        kind="slo",
        build=enrichment_success_suite,
        description="Share of conversions whose enrichment was delivered or replayed.",
    ),
)
