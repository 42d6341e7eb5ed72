"""What a suite judges: the table it belongs to, the rule it encodes, and how a breach counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations as gx

from lead_parity.contract import Contract

# `unit_severity` in an expectation's meta says what a unit failing it is (SLO suites only).
UNIT_SEVERITY = "unit_severity"


@dataclass(frozen=True)
class SuiteSpec:
    """One GX suite: `rule` names it in ops.slo_evaluations (SLO) or in Dagster (integrity)."""

    rule: str
    mart: str  # the warehouse table, and the Dagster asset key the check is attached to
    kind: str  # "slo": a finding about the go-to-market stack; "integrity": the pipeline is wrong
    build: Callable[[Contract], gx.ExpectationSuite]
    description: str

    @property
    def suite_name(self) -> str:
        return f"{self.mart}.{self.rule}"

    @property
    def check_name(self) -> str:
        return f"{self.rule}_slo" if self.kind == "slo" else self.rule


def new_suite(mart: str, rule: str, contract: Contract, expectations: list) -> gx.ExpectationSuite:
    """A suite carrying where its thresholds came from, for the Data Docs reader.

    Built whole (not with add_expectation) so no Data Context is needed until it runs.
    """
    return gx.ExpectationSuite(
        name=f"{mart}.{rule}",
        expectations=expectations,
        meta={"mart": mart, "rule": rule, "contract": contract.source},
    )
