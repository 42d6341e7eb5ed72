"""The SLO judgement of a run and the asset checks that report it (SPEC sections 3 and 6).

One direction: the `slo_evaluations` asset runs every SLO rule's GX suite once (Data Docs
included) and writes the judged units to ops.slo_evaluations; the SLO checks on the marts read
their rule's rows of the run back and report them, with no side effect, and incidents evaluate
those rows. SLO breaches are findings about the go-to-market stack, not pipeline failures: they
WARN and the run goes on.

Integrity checks (unique conversion ids, the ingestion ledger invariant) mean the pipeline itself
is wrong: they validate their suite read-only, fail with ERROR and, being blocking, stop the run
before anything downstream (the SLO evaluation, incidents, publishing) uses a broken mart. Their
only output besides the verdict is their Data Docs page.
"""

from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from expectations.context import data_docs_index, data_docs_url
from expectations.evaluate import RuleOutcome, evaluate_rule
from expectations.store import read_evaluations, write_evaluation
from expectations.suites import SLO_RULES, SUITES, SuiteSpec
from lead_parity.contract.evaluations import SCHEMA
from orchestration.defs.owners import MART_OWNERS
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
            f"section): {spec.description} Reports the run's units of the rule from "
            "ops.slo_evaluations (judged once by the slo_evaluations asset); breaches warn."
        )
    return f"Integrity (GX suite {spec.suite_name}): {spec.description} Fails the run."


CHECKED_ASSET_KEYS = tuple(dict.fromkeys(dg.AssetKey(spec.mart) for spec in SUITES.values()))
SLO_EVALUATIONS_KEY = dg.AssetKey("slo_evaluations")
EVALUATION_COLUMNS = dg.TableSchema(
    columns=[dg.TableColumn(field.name, str(field.type)) for field in SCHEMA]
)
VALIDATIONS = "validations"  # the asset's metadata entry: each rule's GX run, for its check


def _validation_of(context: dg.AssetCheckExecutionContext, rule: str, evaluated_at: datetime):
    """What the slo_evaluations asset recorded of `rule`'s GX run for this as_of, or {}."""
    event = context.instance.get_latest_materialization_event(SLO_EVALUATIONS_KEY)
    materialization = event.asset_materialization if event else None
    if materialization is None:
        return {}
    metadata = materialization.metadata
    stamp = metadata.get("evaluated_at")
    if stamp is None or stamp.value != evaluated_at.isoformat():
        return {}
    entry = metadata.get(VALIDATIONS)
    return (entry.value if entry is not None else {}).get(rule, {})


def _slo_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    """Reads the rule's rows of this run's evaluation (read-only) and reports them."""

    @dg.asset_check(
        asset=dg.AssetKey(spec.mart),
        name=spec.check_name,
        description=_description(spec),
        additional_deps=[SLO_EVALUATIONS_KEY],
        # Not blocking: it runs after the evaluation, downstream of the mart it reports on, and
        # a WARN never gates anything.
        blocking=False,
    )
    def _check(
        context: dg.AssetCheckExecutionContext, lead_parity: LeadParityConfig
    ) -> dg.AssetCheckResult:
        paths = lead_parity.duckdb_paths("the GX SLO checks")
        evaluated_at = run_as_of(lead_parity).replace(microsecond=0)
        units = read_evaluations(paths.warehouse, evaluated_at, spec.rule)
        validation = _validation_of(context, spec.rule, evaluated_at)
        outcome = RuleOutcome(
            rule=spec.rule,
            spec=spec,
            evaluated_at=evaluated_at,
            success=bool(units["passed"].astype(bool).all()),
            units=units,
            statistics={"rows_validated": validation.get("rows_validated", 0)},
            validation_url=validation.get("validation_page"),
        )
        metadata = check_metadata(outcome, paths.data_docs)
        if not validation and units.empty:
            # Materializing a mart alone runs its checks without the evaluation: say so rather
            # than let "0 units" read as a clean verdict.
            metadata["note"] = (
                f"no slo_evaluations materialization for as_of {evaluated_at.isoformat()}: "
                "materialize slo_evaluations to judge this rule"
            )
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=metadata,
        )

    return _check


def _integrity_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    """Validates the integrity suite on its mart (read-only) and fails the run on offenders."""

    @dg.asset_check(
        asset=dg.AssetKey(spec.mart),
        name=spec.check_name,
        description=_description(spec),
        blocking=True,
    )
    def _check(lead_parity: LeadParityConfig) -> dg.AssetCheckResult:
        paths = lead_parity.duckdb_paths("the GX integrity checks")
        outcome = evaluate_rule(
            spec.rule, paths.warehouse, lead_parity.contract(), run_as_of(lead_parity),
            paths.data_docs,
        )  # fmt: skip
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=check_metadata(outcome, paths.data_docs),
        )

    return _check


def build_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    """The Dagster check of one suite on its mart."""
    return _slo_check(spec) if spec.kind == "slo" else _integrity_check(spec)


quality_checks = [build_check(spec) for spec in SUITES.values()]


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
    owners=MART_OWNERS,
    description="ops.slo_evaluations: one row per SLO rule and judged unit per evaluation, kept "
    "across runs. Runs every SLO rule's GX suite once on the marts (after the blocking "
    "integrity checks), builds their Data Docs pages and writes the judged units (a re-run of "
    "the same as_of replaces them); the SLO checks report these rows and incidents evaluate them.",
    metadata={"dagster/column_schema": EVALUATION_COLUMNS},
)
def slo_evaluations(
    context: dg.AssetExecutionContext, lead_parity: LeadParityConfig
) -> dg.MaterializeResult:
    paths = lead_parity.duckdb_paths("slo_evaluations")
    contract = lead_parity.contract()
    as_of = run_as_of(lead_parity)
    outcomes = {
        rule: evaluate_rule(rule, paths.warehouse, contract, as_of, paths.data_docs)
        for rule in SLO_RULES
    }
    evaluated_at = next(iter(outcomes.values())).evaluated_at
    written = write_evaluation(
        paths.warehouse,
        evaluated_at,
        {rule: outcome.units for rule, outcome in outcomes.items()},
        paths.history,
    )
    context.log.info(
        "ops.slo_evaluations: " + ", ".join(f"{r} {n} units" for r, n in written.items())
    )
    evaluations = pd.concat([o.units for o in outcomes.values()], ignore_index=True)
    breached = evaluations[~evaluations["passed"].astype(bool)]
    metadata: dict = {
        "evaluated_at": evaluated_at.isoformat(),
        "judged_units": len(evaluations),
        "breached_units": len(breached),
        "critical_units": int((evaluations["severity"] == "critical").sum()),
        "rules_breached": dg.MetadataValue.json(sorted(breached["rule"].unique().tolist())),
        "by_rule": dg.MetadataValue.md(_summary_table(evaluations)),
        VALIDATIONS: dg.MetadataValue.json(
            {
                rule: {
                    "suite": outcome.spec.suite_name,
                    "success": outcome.success,
                    "rows_validated": int(outcome.statistics.get("rows_validated", 0)),
                    "validation_page": outcome.validation_url,
                }
                for rule, outcome in outcomes.items()
            }
        ),
        "dagster/row_count": len(evaluations),
    }
    url = data_docs_url(paths.data_docs)
    if url:
        metadata["data_docs"] = dg.MetadataValue.url(url)
    return dg.MaterializeResult(metadata=metadata)


quality_assets = [slo_evaluations]
