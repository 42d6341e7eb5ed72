"""SLO expectations (Great Expectations suites built from the routing contract) and integrity
checks, run on DataFrames read from the warehouse; results land in ops.slo_evaluations and a
static Data Docs site."""

# Before anything imports great_expectations (see the module).
from expectations import spark_connect_guard

spark_connect_guard.install()

# ruff: noqa: E402
from expectations.context import data_docs_index, data_docs_url
from expectations.evaluate import RuleOutcome, evaluate_all, evaluate_rule
from expectations.frames import QualityInputError
from expectations.store import read_evaluations, write_evaluations
from expectations.suites import INTEGRITY_RULES, SLO_RULES, SUITES

__all__ = [
    "INTEGRITY_RULES",
    "SLO_RULES",
    "SUITES",
    "QualityInputError",
    "RuleOutcome",
    "data_docs_index",
    "data_docs_url",
    "evaluate_all",
    "evaluate_rule",
    "read_evaluations",
    "write_evaluations",
]
