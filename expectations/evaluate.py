"""Run a rule's suite on its warehouse frame and turn GX's verdict into judged units.

GX decides pass/fail (which rows are unexpected); this module only maps those rows back to the
units of ops.slo_evaluations (integration.md) and orders breaches worst first.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.exceptions import DataContextError

from expectations import frames
from expectations.context import DATASOURCE_NAME, SITE_NAME, context_lock, quality_context
from expectations.context import data_docs_url as site_url
from expectations.offline_docs import make_offline
from expectations.suites import SUITES, UNIT_SEVERITY, SuiteSpec
from expectations.suites.fct_conversions import is_high_intent
from expectations.suites.fct_hop_parity_daily import is_judged
from lead_parity.contract import Contract
from lead_parity.contract.evaluations import COLUMNS

SLO_COLUMNS = list(COLUMNS)  # the row shape of ops.slo_evaluations, declared once
SAMPLE_IDS = 10


@dataclass
class RuleOutcome:
    """One rule's evaluation: GX's verdict, the judged units, and where to read the details."""

    rule: str
    spec: SuiteSpec
    evaluated_at: datetime
    success: bool
    units: pd.DataFrame  # SLO: rows of ops.slo_evaluations; integrity: the offending rows
    statistics: dict = field(default_factory=dict)
    validation_url: str | None = None
    data_docs_url: str | None = None

    @property
    def passed(self) -> bool:
        return self.success

    @property
    def breached(self) -> pd.DataFrame:
        """Breached units, worst first (critical before warning, then by how far off)."""
        if self.spec.kind != "slo":
            return self.units
        bad = self.units.loc[~self.units["passed"].astype(bool)].copy()
        rank = bad["severity"].map({"critical": 0, "warning": 1}).fillna(2)
        # Enrichment is a floor (lower is worse); every other rule is a ceiling.
        badness = bad["observed"] if self.rule == "enrichment_success" else -bad["observed"]
        bad = bad.assign(_rank=rank, _badness=badness, _expected=-bad["expected"].fillna(0))
        bad = bad.sort_values(["_rank", "_badness", "_expected", "scope"])
        return bad.drop(columns=["_rank", "_badness", "_expected"]).reset_index(drop=True)


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _frame(rule: str, con: duckdb.DuckDBPyConnection, contract: Contract, as_of: datetime):
    """The frame a rule validates and the columns naming one of its rows."""
    if rule == "parity":
        return frames.parity_units(con), ["scope"]
    if rule == "conversion_id_unique":
        return frames.conversion_ids(con), ["conversion_id"]
    if rule == "median_assignment_latency":
        return frames.latency_units(con), ["scope"]
    if rule == "high_intent_unassigned":
        return frames.high_intent_conversions(con, contract, as_of), ["conversion_id"]
    if rule == "enrichment_success":
        return frames.enrichment_units(con, as_of), ["scope"]
    if rule == "dead_letters":
        return frames.dead_letters(con, as_of), ["conversion_id", "hop"]
    if rule == "ledger_balanced":
        return frames.ledger(con), ["source", "file"]
    if rule == "quarantine":
        return frames.quarantined(con), []
    raise KeyError(f"no suite for rule {rule!r}; known: {', '.join(SUITES)}")


def _replace(collection, name: str) -> None:
    """Drop a stored object so the next add carries the current contract's thresholds."""
    with contextlib.suppress(DataContextError):  # absent on the first run in this process
        collection.delete(name)


def run_suite(
    spec: SuiteSpec,
    contract: Contract,
    frame: pd.DataFrame,
    index_columns: list[str],
    as_of: datetime,
    data_docs_dir: Path | None,
):
    """Validate `frame` with the spec's suite in the ephemeral context; update Data Docs.

    The run is named after as_of, so evaluating the same as_of again replaces its page.
    Returns (validation result, URL of its Data Docs page).
    """
    with context_lock():
        context = quality_context(data_docs_dir)
        datasource = context.data_sources.get(DATASOURCE_NAME)
        asset_name = spec.suite_name.replace(".", "__")
        if asset_name in datasource.get_asset_names():
            batch_definition = datasource.get_asset(asset_name).get_batch_definition("frame")
        else:
            asset = datasource.add_dataframe_asset(asset_name)
            batch_definition = asset.add_batch_definition_whole_dataframe("frame")
        _replace(context.checkpoints, spec.suite_name)
        _replace(context.validation_definitions, spec.suite_name)
        _replace(context.suites, spec.suite_name)
        suite = context.suites.add(spec.build(contract))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=spec.suite_name, data=batch_definition, suite=suite)
        )
        result_format: dict = {"result_format": "COMPLETE"}
        if index_columns:
            result_format["unexpected_index_column_names"] = index_columns
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=spec.suite_name,
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="data_docs", site_names=[SITE_NAME])]
                if data_docs_dir is not None
                else [],
                result_format=result_format,
            )
        )
        run_id = RunIdentifier(run_name=f"as_of_{as_of:%Y%m%dT%H%M%SZ}", run_time=as_of)
        checkpoint_result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)
        (identifier, result), *_ = checkpoint_result.run_results.items()
        urls = (
            context.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE_NAME)
            if data_docs_dir is not None
            else []
        )
        if data_docs_dir is not None:
            make_offline(Path(data_docs_dir))
    for expectation_result in result.results:
        info = expectation_result.exception_info or {}
        if info.get("raised_exception"):
            raise frames.QualityInputError(
                f"suite {spec.suite_name} could not evaluate "
                f"{expectation_result.expectation_config.type}: {info.get('exception_message')}"
            )
    return result, (urls[0]["site_url"] if urls else None)


def _unexpected(expectation_result, columns: list[str]) -> set[tuple]:
    rows = expectation_result.result.get("unexpected_index_list") or []
    return {tuple(row[c] for c in columns) for row in rows}


def _by_unit_severity(result) -> dict[str, object]:
    return {
        (r.expectation_config.meta or {}).get(UNIT_SEVERITY, "warning"): r for r in result.results
    }


def _rows(frame: pd.DataFrame, evaluated_at: datetime, rule: str, **values) -> pd.DataFrame:
    rows = pd.DataFrame(index=frame.index)
    rows["evaluated_at"] = evaluated_at
    rows["rule"] = rule
    for column in SLO_COLUMNS[2:]:
        value = values.get(column)
        rows[column] = value if value is not None else None
    # Typed even when empty, so boolean masks and sorts behave the same with zero units.
    rows["passed"] = rows["passed"].astype(bool)
    for column in ("observed", "threshold"):
        rows[column] = pd.to_numeric(rows[column]).astype("float64")
    for column in ("expected", "dropped"):
        rows[column] = pd.array(pd.to_numeric(rows[column]), dtype="Int64")
    return rows[SLO_COLUMNS].reset_index(drop=True)


def _details(**values) -> str:
    return json.dumps(values, sort_keys=True, default=str)


def _parity(frame, result, contract, evaluated_at) -> pd.DataFrame:
    by_level = _by_unit_severity(result)
    warning, critical = by_level["warning"], by_level["critical"]
    judged = frame[is_judged(frame, contract)]
    judged = judged[judged["discrepancy_pct"].notna()]
    warn_scopes = {s for (s,) in _unexpected(warning, ["scope"])}
    crit_scopes = {s for (s,) in _unexpected(critical, ["scope"])}
    severity = judged["scope"].map(
        lambda s: "critical" if s in crit_scopes else "warning" if s in warn_scopes else "ok"
    )
    return _rows(
        judged,
        evaluated_at,
        "parity",
        scope=judged["scope"],
        conversion_date=judged["conversion_date"],
        conversion_type=judged["conversion_type"],
        origin=judged["origin"],
        hop=judged["hop"],
        observed=judged["discrepancy_pct"],
        threshold=float(contract.slo.parity_discrepancy_pct),
        passed=severity == "ok",
        severity=severity,
        expected=judged["expected"],
        dropped=judged["dropped"],
        details=judged["unit"].map(
            lambda unit: _details(
                unit=unit,
                critical_threshold=contract.slo.critical_discrepancy_pct,
                min_slice_volume=contract.slo.min_slice_volume,
            )
        ),
    )


def _per_unit(frame, result, evaluated_at, rule, observed, threshold, **values) -> pd.DataFrame:
    """Rows for rules whose frame already has one row per unit (keyed by `scope`)."""
    (only,) = result.results
    failed = {s for (s,) in _unexpected(only, ["scope"])}
    judged = frame[frame[observed].notna()]
    passed = ~judged["scope"].isin(failed)
    return _rows(
        judged,
        evaluated_at,
        rule,
        scope=judged["scope"],
        conversion_date=judged["conversion_date"],
        observed=judged[observed],
        threshold=threshold,
        passed=passed,
        severity=passed.map({True: "ok", False: "warning"}),
        **{k: (judged[v] if isinstance(v, str) else v) for k, v in values.items()},
    )


def _grouped(items: pd.DataFrame, failing: pd.Series, keys: list[str], sort_by: str):
    """Per unit of `keys`: how many items, how many failing, and a sample of failing ids."""
    items = items.assign(_failing=failing.to_numpy())
    groups = []
    for key, group in items.groupby(keys, sort=True):
        bad = group[group["_failing"]].sort_values(sort_by, ascending=False)
        groups.append(
            (key, len(group), len(bad), bad["conversion_id"].head(SAMPLE_IDS).tolist(), bad)
        )
    return groups


def _high_intent(frame, result, contract, evaluated_at) -> pd.DataFrame:
    (only,) = result.results
    judged = frame[is_high_intent(frame, contract)]
    failed = {c for (c,) in _unexpected(only, ["conversion_id"])}
    records = []
    for (day, ctype), total, n_bad, sample, bad in _grouped(
        judged, judged["conversion_id"].isin(failed), ["conversion_date", "conversion_type"],
        "unassigned_s",
    ):  # fmt: skip
        records.append(
            {
                "scope": f"{day}|{ctype}",
                "conversion_date": day,
                "conversion_type": ctype,
                "observed": float(n_bad),
                "expected": total,
                "passed": n_bad == 0,
                "details": _details(
                    high_intent_score=contract.slo.high_intent_score,
                    unassigned_after_s=contract.slo.high_intent_unassigned_after_s,
                    still_unassigned=int(bad["is_unassigned"].sum()),
                    worst_unassigned_s=float(bad["unassigned_s"].max()) if n_bad else None,
                    sample_conversion_ids=sample,
                ),
            }
        )
    units = pd.DataFrame.from_records(
        records,
        columns=["scope", "conversion_date", "conversion_type", "observed", "expected", "passed",
                 "details"],
    )  # fmt: skip
    return _rows(
        units,
        evaluated_at,
        "high_intent_unassigned",
        **{c: units[c] for c in units.columns},
        threshold=0.0,
        severity=units["passed"].map({True: "ok", False: "warning"}),
    )


def _dead_letters(frame, result, evaluated_at) -> pd.DataFrame:
    (only,) = result.results
    failed = _unexpected(only, ["conversion_id", "hop"])
    failing = pd.Series(
        [(c, h) in failed for c, h in zip(frame["conversion_id"], frame["hop"], strict=True)],
        dtype=bool,
    )
    records = []
    for (day, hop), total, n_bad, sample, _ in _grouped(
        frame, failing, ["dead_lettered_date", "hop"], "dead_lettered_at"
    ):
        records.append(
            {
                "scope": f"{day}|{hop}",
                "conversion_date": day,
                "hop": hop,
                "observed": float(n_bad),
                "expected": total,
                "passed": n_bad == 0,
                "details": _details(date_of="dead_lettering", sample_conversion_ids=sample),
            }
        )
    units = pd.DataFrame.from_records(
        records,
        columns=["scope", "conversion_date", "hop", "observed", "expected", "passed", "details"],
    )
    return _rows(
        units,
        evaluated_at,
        "dead_letters",
        **{c: units[c] for c in units.columns},
        threshold=0.0,
        severity=units["passed"].map({True: "ok", False: "warning"}),
    )


def _quarantine(frame, result, contract, evaluated_at) -> pd.DataFrame:
    (only,) = result.results
    counts = frame.groupby(["source", "reason"]).size().sort_values(ascending=False)
    units = pd.DataFrame(
        {
            "scope": ["all"],
            "observed": [float(only.result.get("observed_value", len(frame)))],
            "passed": [bool(only.success)],
            "details": [
                _details(
                    by_source_and_reason=[
                        {"source": s, "reason": r, "records": int(n)}
                        for (s, r), n in counts.head(20).items()
                    ]
                )
            ],
        }
    )
    return _rows(
        units,
        evaluated_at,
        "quarantine",
        **{c: units[c] for c in units.columns},
        threshold=float(contract.slo.quarantined_records),
        severity=units["passed"].map({True: "ok", False: "warning"}),
    )


def _integrity_offenders(rule: str, frame: pd.DataFrame, result) -> pd.DataFrame:
    if rule == "conversion_id_unique":
        ids = frame["conversion_id"]
        return frame[ids.isna() | ids.duplicated(keep=False)].drop_duplicates()
    failed = set()
    for expectation_result in result.results:
        failed |= _unexpected(expectation_result, ["source", "file"])
    keys = list(zip(frame["source"], frame["file"], strict=True))
    return frame[[k in failed for k in keys]]


def units_of(rule, frame, result, contract, evaluated_at) -> pd.DataFrame:
    """The judged units of an SLO rule as ops.slo_evaluations rows."""
    slo = contract.slo
    if rule == "parity":
        return _parity(frame, result, contract, evaluated_at)
    if rule == "median_assignment_latency":
        return _per_unit(
            frame, result, evaluated_at, rule, "median_s",
            float(slo.median_assignment_latency_s),
            conversion_type="conversion_type", expected="assigned",
        )  # fmt: skip
    if rule == "enrichment_success":
        return _per_unit(
            frame, result, evaluated_at, rule, "success_pct", float(slo.enrichment_success_pct),
            expected="expected",
            details=frame["enriched"].map(lambda n: _details(enriched=int(n))),
        )  # fmt: skip
    if rule == "high_intent_unassigned":
        return _high_intent(frame, result, contract, evaluated_at)
    if rule == "dead_letters":
        return _dead_letters(frame, result, evaluated_at)
    if rule == "quarantine":
        return _quarantine(frame, result, contract, evaluated_at)
    raise KeyError(rule)


def evaluate_rule(
    rule: str,
    warehouse: Path,
    contract: Contract,
    as_of: datetime,
    data_docs_dir: Path | None,
) -> RuleOutcome:
    """Read the rule's frame from `warehouse` (read-only), validate it, and judge its units.

    `data_docs_dir` None skips the Data Docs pages (verdicts only, several times faster).
    """
    spec = SUITES[rule]
    evaluated_at = _naive_utc(as_of)
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise frames.QualityInputError(f"warehouse {warehouse} does not exist")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame, index_columns = _frame(rule, con, contract, evaluated_at)
    finally:
        con.close()
    result, validation_url = run_suite(
        spec, contract, frame, index_columns, evaluated_at, data_docs_dir
    )
    if spec.kind == "slo":
        units = units_of(rule, frame, result, contract, evaluated_at)
    else:
        units = _integrity_offenders(rule, frame, result)
    return RuleOutcome(
        rule=rule,
        spec=spec,
        evaluated_at=evaluated_at,
        success=bool(result.success),
        units=units,
        statistics={"rows_validated": len(frame), **dict(result.statistics)},
        validation_url=validation_url,
        data_docs_url=site_url(data_docs_dir) if data_docs_dir is not None else None,
    )


def evaluate_all(
    warehouse: Path,
    contract: Contract,
    as_of: datetime,
    data_docs_dir: Path | None,
    rules: list[str] | None = None,
) -> dict[str, RuleOutcome]:
    """Every rule (or `rules`) in suite order, for callers outside Dagster (benchmarks, CLI)."""
    return {
        rule: evaluate_rule(rule, warehouse, contract, as_of, data_docs_dir)
        for rule in (rules or list(SUITES))
    }
