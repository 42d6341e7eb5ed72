"""Asset checks on the marts that run the GX suites after each build (SPEC sections 3 and 6).

SLO breaches are findings about the go-to-market stack, not pipeline failures: they WARN and the
run goes on. Integrity checks (unique conversion ids, the ingestion ledger invariant) mean the
pipeline itself is wrong: they fail with ERROR and, being blocking, stop the run.

Every check is blocking so that anything downstream of a checked mart (the `slo_evaluations`
asset, then incidents) waits for the verdicts; a WARN failure never gates anything. Each SLO
check writes its rule's units to ops.slo_evaluations itself (connect, write, close).
"""

from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from expectations.context import data_docs_index, data_docs_url
from expectations.evaluate import RuleOutcome, evaluate_rule
from expectations.store import ensure_table, read_evaluations, write_evaluations
from expectations.suites import SUITES, SuiteSpec
from orchestration.defs.resources import LeadParityConfig

TABLE_ROWS = 25


def run_as_of(config: LeadParityConfig) -> datetime:
    """The as_of the contract asset fixed for this run, else the resource's (naive UTC)."""
    settings = config.paths().contract_tables / "settings.parquet"
    if settings.is_file():
        value = pq.read_table(settings, columns=["as_of"]).column("as_of")[0].as_py()
        if value is not None:
            return value
    return config.as_of_datetime().replace(tzinfo=None)


def _number(value) -> str:
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return str(int(value)) if isinstance(value, float) else str(value)


def _cell(text: str) -> str:
    # Scopes are `day|hop|type|origin`; an unescaped pipe would split the markdown cell.
    return str(text).replace("|", "\\|")


def breach_table(outcome: RuleOutcome, limit: int = TABLE_ROWS) -> str:
    """Markdown table of the breached units, worst first, with their figures."""
    bad = outcome.breached
    if bad.empty:
        return "No breached unit."
    if outcome.spec.kind == "integrity":
        columns = list(bad.columns)
        rows = [[_cell(v) for v in row] for row in bad.head(limit).itertuples(index=False)]
    elif outcome.rule == "parity":
        columns = ["severity", "scope", "expected", "dropped", "discrepancy_pct", "threshold"]
        rows = [
            [r.severity, f"`{_cell(r.scope)}`", _number(r.expected), _number(r.dropped),
             _number(r.observed), _number(r.threshold)]
            for r in bad.head(limit).itertuples(index=False)
        ]  # fmt: skip
    else:
        columns = ["severity", "scope", "observed", "threshold", "expected"]
        rows = [
            [r.severity, f"`{_cell(r.scope)}`", _number(r.observed), _number(r.threshold),
             _number(r.expected)]
            for r in bad.head(limit).itertuples(index=False)
        ]  # fmt: skip
    text = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    text += "".join("| " + " | ".join(row) + " |\n" for row in rows)
    if len(bad) > limit:
        text += f"\n{len(bad) - limit} more not shown; see ops.slo_evaluations or Data Docs.\n"
    return text


def _docs_metadata(outcome: RuleOutcome, data_docs_dir: Path) -> dict:
    metadata: dict = {}
    index = data_docs_index(data_docs_dir)
    if index is not None:
        metadata["data_docs"] = dg.MetadataValue.url(data_docs_url(data_docs_dir))
        metadata["data_docs_index"] = dg.MetadataValue.path(str(index))
    if outcome.validation_url:
        metadata["validation_page"] = dg.MetadataValue.url(outcome.validation_url)
    return metadata


def check_metadata(outcome: RuleOutcome, data_docs_dir: Path) -> dict:
    """What a reader of the check needs: verdict figures, breached units, where to read more."""
    bad = outcome.breached
    metadata: dict = {
        "rule": outcome.rule,
        "suite": outcome.spec.suite_name,
        "evaluated_at": outcome.evaluated_at.isoformat(),
        "rows_validated": int(outcome.statistics.get("rows_validated", 0)),
    }
    if outcome.spec.kind == "slo":
        units = outcome.units
        metadata.update(
            {
                "judged_units": len(units),
                "breached_units": len(bad),
                "critical_units": int((units["severity"] == "critical").sum()),
                "threshold": float(units["threshold"].iloc[0]) if len(units) else None,
                "breached_scopes": dg.MetadataValue.json(bad["scope"].tolist()),
                "breached": dg.MetadataValue.md(breach_table(outcome)),
            }
        )
    else:
        metadata.update(
            {
                "offending_rows": len(bad),
                "offenders": dg.MetadataValue.md(breach_table(outcome)),
            }
        )
    metadata.update(_docs_metadata(outcome, data_docs_dir))
    return {k: v for k, v in metadata.items() if v is not None}


def _description(spec: SuiteSpec) -> str:
    if spec.kind == "slo":
        return (
            f"SLO `{spec.rule}` (GX suite {spec.suite_name}, thresholds from the contract's slo "
            f"section): {spec.description} Breaches warn and land in ops.slo_evaluations."
        )
    return f"Integrity (GX suite {spec.suite_name}): {spec.description} Fails the run."


def build_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    """The Dagster check running one suite on its mart."""

    @dg.asset_check(
        asset=dg.AssetKey(spec.mart),
        name=spec.check_name,
        description=_description(spec),
        blocking=True,
    )
    def _check(
        context: dg.AssetCheckExecutionContext, lead_parity: LeadParityConfig
    ) -> dg.AssetCheckResult:
        paths = lead_parity.duckdb_paths("the GX SLO checks")
        outcome = evaluate_rule(
            spec.rule, paths.warehouse, lead_parity.contract(), run_as_of(lead_parity),
            paths.data_docs,
        )  # fmt: skip
        if spec.kind == "slo":
            written = write_evaluations(
                paths.warehouse, outcome.evaluated_at, spec.rule, outcome.units, paths.history
            )
            context.log.info(f"{spec.rule}: {written} units written to ops.slo_evaluations")
        severity = dg.AssetCheckSeverity.WARN if spec.kind == "slo" else dg.AssetCheckSeverity.ERROR
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=severity,
            metadata=check_metadata(outcome, paths.data_docs),
        )

    return _check


quality_checks = [build_check(spec) for spec in SUITES.values()]

CHECKED_ASSET_KEYS = tuple(dict.fromkeys(dg.AssetKey(spec.mart) for spec in SUITES.values()))
SLO_EVALUATIONS_KEY = dg.AssetKey("slo_evaluations")


def _summary_table(evaluations) -> str:
    if evaluations.empty:
        return "No unit judged."
    counts = evaluations.groupby(["rule", "severity"]).size().unstack(fill_value=0).reset_index()
    levels = [c for c in ("critical", "warning", "ok") if c in counts.columns]
    text = "| rule | " + " | ".join(levels) + " |\n|---|" + "---|" * len(levels) + "\n"
    for row in counts.itertuples(index=False):
        values = row._asdict()
        text += f"| {values['rule']} | " + " | ".join(str(values[c]) for c in levels) + " |\n"
    return text


@dg.asset(
    key=SLO_EVALUATIONS_KEY,
    deps=list(CHECKED_ASSET_KEYS),
    group_name="quality",
    kinds={"duckdb", "greatexpectations"},
    description="ops.slo_evaluations: one row per SLO rule and judged unit per evaluation, kept "
    "across runs. Written by the SLO asset checks on the marts; this asset runs after all of "
    "them (they are blocking) and summarises the run's evaluation, so incidents can depend on it.",
)
def slo_evaluations(lead_parity: LeadParityConfig) -> dg.MaterializeResult:
    paths = lead_parity.duckdb_paths("slo_evaluations")
    ensure_table(paths.warehouse, paths.history)
    as_of = run_as_of(lead_parity)
    evaluations = read_evaluations(paths.warehouse, as_of)
    breached = evaluations[~evaluations["passed"].astype(bool)]
    metadata: dict = {
        "evaluated_at": as_of.isoformat(),
        "judged_units": len(evaluations),
        "breached_units": len(breached),
        "critical_units": int((evaluations["severity"] == "critical").sum()),
        "rules_breached": dg.MetadataValue.json(sorted(breached["rule"].unique().tolist())),
        "by_rule": dg.MetadataValue.md(_summary_table(evaluations)),
    }
    url = data_docs_url(paths.data_docs)
    if url:
        metadata["data_docs"] = dg.MetadataValue.url(url)
    return dg.MaterializeResult(metadata=metadata)


quality_assets = [slo_evaluations]
