"""Ledger invariant on ops.ingestion_ledger (SPEC section 2): no record is silently lost.

For every file, records_read = records_loaded + records_quarantined + duplicates; the frame
carries the right-hand side as `records_accounted`.
"""

from __future__ import annotations

import great_expectations as gx

from expectations.suites._spec import SuiteSpec, new_suite
from lead_parity.contract import Contract

MART = "ingestion_ledger"


def ledger_integrity_suite(contract: Contract) -> gx.ExpectationSuite:
    expectations = []
    expectations.append(
        gx.expectations.ExpectColumnValuesToNotBeNull(
            column="records_read", description="Every landed file says how many records it held."
        )
    )
    expectations.append(
        gx.expectations.ExpectColumnPairValuesToBeEqual(
            column_A="records_read",
            column_B="records_accounted",
            description="records_read = records_loaded + records_quarantined + duplicates.",
        )
    )
    return new_suite(MART, "ledger_balanced", contract, expectations)


SUITES = (
    SuiteSpec(
        rule="ledger_balanced",
        mart=MART,
        kind="integrity",
        build=ledger_integrity_suite,
        description="Every input file's records are loaded, quarantined or duplicates.",
    ),
)
