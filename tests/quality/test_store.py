"""ops.slo_evaluations: kept across runs, replaced (never duplicated) on a re-run."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from expectations.store import HISTORY_FILE, read_evaluations, write_evaluations

from .warehouse_builder import AS_OF


def parity_stack(warehouse):
    warehouse.parity("crm", "demo_request", "google_ads", expected=200, dropped=3)
    warehouse.parity("crm", "demo_request", "linkedin", expected=100, dropped=0)


def store(warehouse, outcome, history):
    return write_evaluations(
        warehouse.path, outcome.evaluated_at, outcome.rule, outcome.units, history
    )


def test_re_running_the_same_evaluation_replaces_its_rows(warehouse, judge, tmp_path):
    parity_stack(warehouse)
    history = tmp_path / "history"
    outcome = judge("parity")

    assert store(warehouse, outcome, history) == 3
    assert store(warehouse, judge("parity"), history) == 3

    rows = read_evaluations(warehouse.path)
    assert len(rows) == 3
    assert rows["scope"].is_unique
    breached = rows[~rows["passed"]]
    assert breached[["scope", "severity", "expected", "dropped"]].values.tolist() == [
        ["2026-10-10|crm|all|all", "warning", 300, 3],
        ["2026-10-10|crm|demo_request|google_ads", "warning", 200, 3],
    ]


def test_evaluations_of_other_runs_are_kept_and_a_rule_is_replaced_whole(
    warehouse, judge, tmp_path
):
    parity_stack(warehouse)
    history = tmp_path / "history"
    earlier = judge("parity")
    earlier.units["evaluated_at"] = AS_OF - timedelta(days=1)
    write_evaluations(warehouse.path, AS_OF - timedelta(days=1), "parity", earlier.units, history)
    store(warehouse, judge("parity"), history)
    store(warehouse, judge("quarantine"), history)
    # The same evaluation again with one unit fewer: the stale unit must not linger.
    smaller = judge("parity")
    store(warehouse, smaller.__class__(**{**smaller.__dict__, "units": smaller.units.head(2)}),
          history)  # fmt: skip

    rows = read_evaluations(warehouse.path)
    per_run = rows.groupby(["evaluated_at", "rule"]).size().to_dict()
    assert per_run == {
        (AS_OF - timedelta(days=1), "parity"): 3,
        (AS_OF, "parity"): 2,
        (AS_OF, "quarantine"): 1,
    }
    assert len(read_evaluations(warehouse.path, AS_OF)) == 3


def test_the_history_copy_restores_a_dropped_table(warehouse, judge, tmp_path):
    parity_stack(warehouse)
    history = tmp_path / "history"
    store(warehouse, judge("parity"), history)
    assert (history / HISTORY_FILE).is_file()
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("drop table ops.slo_evaluations")

    store(warehouse, judge("quarantine"), history)

    rows = read_evaluations(warehouse.path)
    assert sorted(rows["rule"].unique()) == ["parity", "quarantine"]
    assert len(rows) == 4


def test_a_rule_with_no_judged_unit_writes_nothing_and_keeps_the_table_typed(
    warehouse, judge, tmp_path
):
    assert store(warehouse, judge("dead_letters"), tmp_path / "history") == 0

    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'ops' and table_name = 'slo_evaluations'"
            ).fetchall()
        )
    assert types["evaluated_at"] == "TIMESTAMP"
    assert types["conversion_date"] == "DATE"
    assert types["expected"] == "BIGINT"
    assert types["passed"] == "BOOLEAN"
