"""Read the latest SLO evaluation and sample dropped conversions, from the warehouse or files.

Two ways in, one query shape: inside a run the `incidents` asset reads the warehouse (dbt is
done, nothing else holds it); the sensor and the CLI read the published snapshot's Parquet files
through an in-memory DuckDB, so they never take the warehouse lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lead_parity.contract import Contract
from lead_parity.contract.evaluations import COLUMNS
from lead_parity.pipeline.incidents.early_warnings import (
    ANOMALY_RULE,
    DEAD_LETTER_RULE,
    NEW_CAUSE_RULE,
    DeadLetterDay,
    SliceDay,
    dead_letter_rises,
    drop_anomalies,
    episodes_from_incidents,
    new_root_causes,
)
from lead_parity.pipeline.incidents.rules import (
    EvaluationRow,
    Finding,
    assignment_hops,
    parse_details,
)

EVALUATION_COLUMNS = COLUMNS  # ops.slo_evaluations, as the quality layer writes it
MAX_SAMPLES = 10
BUDGET_MART = "fct_parity_budget_daily"
BURN_RULE = "parity_burn"
# The marts the early warnings read (early_warnings.py); any may be absent in an older snapshot.
WARNING_MARTS = (
    "fct_hop_parity_daily",
    "fct_hop_parity_daily_totals",
    "fct_delivery_receipts_daily",
)

log = logging.getLogger(__name__)


@dataclass
class EvaluationSource:
    """A connection plus the relation names of the evaluations and the dropped-leads mart."""

    con: duckdb.DuckDBPyConnection
    evaluations: str | None  # relation name, None when the table does not exist (yet)
    dropped_leads: str | None
    origin: str  # "warehouse" or "published", for logs
    budget: str | None = None  # the parity error-budget mart, when the stack has it
    warning_marts: dict[str, str] = field(default_factory=dict)  # mart -> relation name

    def latest_evaluated_at(self) -> datetime | None:
        if self.evaluations is None:
            return None
        value = self.con.execute(f"select max(evaluated_at) from {self.evaluations}").fetchone()[0]
        return _utc(value)

    def evaluation(self, evaluated_at: datetime) -> list[EvaluationRow]:
        """Every row of the evaluation made at `evaluated_at`."""
        assert self.evaluations is not None
        present = {
            c[0] for c in self.con.execute(f"select * from {self.evaluations} limit 0").description
        }
        # A writer that lacks an optional column still works: it reads as null.
        cols = ", ".join(c if c in present else f"null as {c}" for c in EVALUATION_COLUMNS)
        rows = self.con.execute(
            f"select {cols} from {self.evaluations} where evaluated_at = ? order by rule, scope",
            [evaluated_at.astimezone(UTC).replace(tzinfo=None)],
        ).fetchall()
        return [_row(dict(zip(EVALUATION_COLUMNS, r, strict=True))) for r in rows]

    def budget_rows(self, evaluated_at: datetime) -> list[EvaluationRow]:
        """The error-budget mart as evaluation rows of rule `parity_burn` (slo.alerting:
        burn_rate): one unit per final (day, hop); a page is critical, a ticket a warning."""
        if self.budget is None:
            return []
        cur = self.con.execute(
            f"select budget_date, hop, expected, dropped, burn_rate_1d, burn_rate_3d, "
            f"budget_remaining_pct, burn_alert from {self.budget} order by budget_date, hop"
        )
        rows = []
        for day, hop, expected, dropped, burn_1d, burn_3d, remaining, alert in cur.fetchall():
            burn = max((b for b in (burn_1d, burn_3d) if b is not None), default=None)
            rows.append(
                EvaluationRow(
                    evaluated_at=evaluated_at,
                    rule=BURN_RULE,
                    scope=f"{day.isoformat()}|{hop}",
                    passed=alert is None,
                    severity={"page": "critical", "ticket": "warning"}.get(alert, "ok"),
                    conversion_date=day,
                    hop=hop,
                    observed=burn,
                    threshold=None,
                    expected=None if expected is None else int(expected),
                    dropped=None if dropped is None else int(dropped),
                    details={
                        "burn_alert": alert,
                        "burn_rate_1d": burn_1d,
                        "burn_rate_3d": burn_3d,
                        "budget_remaining_pct": remaining,
                    },
                )
            )
        return rows

    def early_warning_rows(
        self, evaluated_at: datetime, contract: Contract, incidents: list[dict]
    ) -> list[EvaluationRow]:
        """The early-warning rules' units (early_warnings.py) from the marts in this source."""
        try:
            return self._early_warning_rows(evaluated_at, contract, incidents)
        except duckdb.Error as exc:
            # Early warnings are extra: a warehouse whose marts predate them (a column missing)
            # must not stop the SLO incidents. Said once, in the run's log.
            first = str(exc).strip().splitlines()[0]
            log.warning("early warnings skipped: the marts lack what they read (%s)", first)
            return []

    def _early_warning_rows(
        self, evaluated_at: datetime, contract: Contract, incidents: list[dict]
    ) -> list[EvaluationRow]:
        rows: list[EvaluationRow] = []
        slices = self.warning_marts.get("fct_hop_parity_daily")
        if slices:
            cur = self.con.execute(
                f"select conversion_date, hop, conversion_type, origin, expected, dropped "
                f"from {slices} where coverage = 'covered'"
            )
            rows += drop_anomalies(
                [SliceDay(*r[:4], int(r[4]), int(r[5])) for r in cur.fetchall()],
                contract,
                evaluated_at,
                episodes_from_incidents(incidents),
            )
        receipts = self.warning_marts.get("fct_delivery_receipts_daily")
        if receipts:
            cur = self.con.execute(
                f"select attempt_date, hop, sum(attempts), sum(dead_lettered) from {receipts} "
                "group by attempt_date, hop"
            )
            days = [DeadLetterDay(d, h, int(a), int(x)) for d, h, a, x in cur.fetchall()]
            rows += dead_letter_rises(days, contract, evaluated_at)
        totals = self.warning_marts.get("fct_hop_parity_daily_totals")
        if totals and self.dropped_leads:
            drops = self.con.execute(
                f"select cast(converted_at as date), dropped_at_hop, root_cause, count(*) "
                f"from {self.dropped_leads} group by all"
            ).fetchall()
            hop_days = self.con.execute(
                f"select conversion_date, hop from {totals} where expected > 0"
            ).fetchall()
            rows += new_root_causes(drops, hop_days, evaluated_at)
        return rows

    def samples(self, finding: Finding, contract: Contract, limit: int = MAX_SAMPLES) -> list[str]:
        """Up to `limit` dropped conversion ids in the finding's scope, highest intent first."""
        given = finding.details.get("sample_conversion_ids")
        if isinstance(given, list) and given:
            return [str(v) for v in given[:limit]]
        if self.dropped_leads is None or finding.rule == "quarantine":
            return []
        where, params = _sample_filter(finding, contract)
        if where is None:
            return []
        sql = (
            f"select conversion_id from {self.dropped_leads} where {where} "
            "order by intent_score desc nulls last, converted_at, conversion_id limit ?"
        )
        return [r[0] for r in self.con.execute(sql, [*params, limit]).fetchall()]


def _utc(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"evaluated_at is {type(value).__name__}, expected a timestamp")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _row(raw: dict) -> EvaluationRow:
    def opt_int(v: object) -> int | None:
        return None if v is None else int(v)

    def opt_float(v: object) -> float | None:
        return None if v is None else float(v)

    return EvaluationRow(
        evaluated_at=_utc(raw["evaluated_at"]),
        rule=str(raw["rule"]),
        scope=str(raw["scope"]),
        passed=None if raw["passed"] is None else bool(raw["passed"]),
        severity=raw["severity"],
        conversion_date=raw["conversion_date"],
        conversion_type=raw["conversion_type"],
        origin=raw["origin"],
        hop=raw["hop"],
        observed=opt_float(raw["observed"]),
        threshold=opt_float(raw["threshold"]),
        expected=opt_int(raw["expected"]),
        dropped=opt_int(raw["dropped"]),
        details=parse_details(raw["details"]),
    )


def _sample_filter(finding: Finding, contract: Contract) -> tuple[str | None, list]:
    clauses: list[str] = []
    params: list = []

    def add(clause: str, *values: object) -> None:
        clauses.append(clause)
        params.extend(values)

    def in_list(column: str, values: list[str]) -> None:
        add(f"{column} in ({', '.join('?' for _ in values)})", *values)

    if finding.conversion_date is not None and finding.rule not in (
        "dead_letters",
        DEAD_LETTER_RULE,
    ):
        add("cast(converted_at as date) = ?", finding.conversion_date)
    if finding.conversion_type not in (None, "", "all"):
        add("conversion_type = ?", finding.conversion_type)
    if finding.origin not in (None, "", "all"):
        add("origin = ?", finding.origin)
    if finding.rule in ("parity", BURN_RULE, ANOMALY_RULE):
        add("dropped_at_hop = ?", finding.hop)
    elif finding.rule == NEW_CAUSE_RULE:
        add("dropped_at_hop = ?", finding.hop)
        add("root_cause = ?", str(finding.details.get("root_cause")))
    elif finding.rule == "enrichment_success":
        add("root_cause = ?", "enrichment_failure")
    elif finding.rule in ("median_assignment_latency", "high_intent_unassigned"):
        hops = [finding.hop] if finding.hop else assignment_hops(contract, finding.conversion_type)
        if not hops:
            return None, []
        in_list("dropped_at_hop", hops)
        if finding.rule == "high_intent_unassigned":
            add("intent_score >= ?", contract.slo.high_intent_score)
    elif finding.rule in ("dead_letters", DEAD_LETTER_RULE):
        add("root_cause = ?", "integration_failure")
        if finding.hop:
            add("dropped_at_hop = ?", finding.hop)
    else:
        return None, []
    return " and ".join(clauses) or "true", params


def _set_utc(con: duckdb.DuckDBPyConnection) -> None:
    # converted_at may be TIMESTAMPTZ; its date must be the UTC date, whatever the host zone.
    with suppress(duckdb.Error):
        con.execute("set TimeZone = 'UTC'")


@contextmanager
def warehouse_source(con: duckdb.DuckDBPyConnection) -> Iterator[EvaluationSource]:
    """The live warehouse (only inside a run, after dbt)."""
    _set_utc(con)
    present = {
        (s, t)
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where (table_schema, table_name) in (('ops', 'slo_evaluations'), "
            "('marts', 'rpt_dropped_leads'), ('marts', ?), ('marts', ?), ('marts', ?), "
            "('marts', ?))",
            [BUDGET_MART, *WARNING_MARTS],
        ).fetchall()
    }
    yield EvaluationSource(
        con,
        "ops.slo_evaluations" if ("ops", "slo_evaluations") in present else None,
        "marts.rpt_dropped_leads" if ("marts", "rpt_dropped_leads") in present else None,
        "warehouse",
        f"marts.{BUDGET_MART}" if ("marts", BUDGET_MART) in present else None,
        {m: f"marts.{m}" for m in WARNING_MARTS if ("marts", m) in present},
    )


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def published_source(published_dir: Path) -> Iterator[EvaluationSource]:
    """The published snapshot's Parquet files, read without any lock on the warehouse."""
    # Resolve the `published` symlink once: a publish during our read swaps the link, not files.
    root = Path(published_dir).resolve()
    con = duckdb.connect()
    try:
        _set_utc(con)
        names = {}
        for rel, path in (
            ("slo_evaluations", root / "ops" / "slo_evaluations.parquet"),
            ("rpt_dropped_leads", root / "marts" / "rpt_dropped_leads.parquet"),
            (BUDGET_MART, root / "marts" / f"{BUDGET_MART}.parquet"),
            *((m, root / "marts" / f"{m}.parquet") for m in WARNING_MARTS),
        ):
            if path.is_file():
                # A path is not data; DuckDB takes no parameters in a view definition.
                con.execute(
                    f"create view {rel} as select * from read_parquet({_quote_literal(str(path))})"
                )
                names[rel] = rel
        yield EvaluationSource(
            con,
            names.get("slo_evaluations"),
            names.get("rpt_dropped_leads"),
            "published",
            names.get(BUDGET_MART),
            {m: names[m] for m in WARNING_MARTS if m in names},
        )
    finally:
        con.close()
