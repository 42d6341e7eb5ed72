"""Quarantine SLO on ops.quarantined_records: at most `quarantined_records` bad input records."""

from __future__ import annotations

import great_expectations as gx
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.suites._spec import UNIT_SEVERITY, SuiteSpec, new_suite
from lead_parity.contract import Contract

MART = "quarantined_records"


def quarantine_suite(contract: Contract) -> gx.ExpectationSuite:
    limit = int(contract.slo.quarantined_records)
    expectations = []
    expectations.append(
        gx.expectations.ExpectTableRowCountToBeBetween(
            min_value=0,
            max_value=limit,
            severity=FailureSeverity.WARNING,
            meta={UNIT_SEVERITY: "warning"},
            description=f"At most {limit} input records quarantined.",
        )
    )
    return new_suite(MART, "quarantine", contract, expectations)


SUITES = (
    SuiteSpec(
        rule="quarantine",
        mart=MART,
        kind="slo",
        build=quarantine_suite,
        description="Input records that could not be loaded.",
    ),
)
