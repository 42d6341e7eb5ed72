"""Dead-letter SLO: every (conversion, hop) parked in the dead-letter queue was replayed.

The frame holds one row per dead-lettered (conversion_id, hop) with `replayed_at`, the first
replay or delivery after its latest dead-lettering (null: still parked).
"""

from __future__ import annotations

import great_expectations as gx
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.suites._spec import UNIT_SEVERITY, SuiteSpec, new_suite
from lead_parity.contract import Contract

MART = "fct_dead_letters_daily"


def dead_letters_suite(contract: Contract) -> gx.ExpectationSuite:
    expectations = []
    expectations.append(
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="replayed_at",
            severity=FailureSeverity.WARNING,
            meta={UNIT_SEVERITY: "warning"},
            description="No conversion stays dead-lettered without a replay.",
        )
    )
    return new_suite(MART, "dead_letters", contract, expectations)


SUITES = (
    SuiteSpec(
        rule="dead_letters",
        mart=MART,
        kind="slo",
        build=dead_letters_suite,
        description="Conversions dead-lettered and never replayed, per day and hop.",
    ),
)
