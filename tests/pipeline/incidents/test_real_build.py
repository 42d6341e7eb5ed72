"""End to end on a real build of the worked examples: dbt marts, the quality helper's real
ops.slo_evaluations, incidents, the published snapshot, delivery to local PagerDuty and Slack
receivers. The worked examples are one day of a handful of conversions: every breach is a
warning (critical needs min_slice_volume), so Slack hears of each episode and PagerDuty of none."""

import csv
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.incidents import deliver_after_run, evaluate_in_run
from lead_parity.pipeline.paths import RunPaths

from .helpers import FAST, Receiver, read_incidents

WORKED = Path("/work/shared/examples/worked")
AS_OF = datetime(2026, 10, 12, 10, tzinfo=UTC)


def _evaluate_slos(paths: RunPaths, as_of: datetime) -> None:
    from expectations import evaluate_all, write_evaluations

    outcomes = evaluate_all(paths.warehouse, load_contract(), as_of, paths.data_docs)
    for rule, outcome in outcomes.items():
        if outcome.spec.kind == "slo":
            write_evaluations(
                paths.warehouse, outcome.evaluated_at, rule, outcome.units, paths.history
            )


def _failed_units(warehouse: Path, as_of: datetime) -> set[tuple[str, str]]:
    """(rule, scope without the date) of the failed units: one episode each."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select rule, scope, cast(conversion_date as varchar) from ops.slo_evaluations "
            "where evaluated_at = ? and not passed",
            [as_of.replace(tzinfo=None)],
        ).fetchall()
    finally:
        con.close()
    # A unit whose scope is only its date (enrichment per day) has the episode scope 'all'.
    return {
        (rule, "|".join(p for p in scope.split("|") if p != day) or "all")
        for rule, scope, day in rows
    }


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_worked_examples_raise_one_incident_per_breached_episode_and_notify_once(tmp_path):
    from lead_parity.pipeline.publish import publish_snapshot

    shutil.copytree(WORKED, tmp_path / "input")
    paths = RunPaths((tmp_path / "data" / "lead_parity.duckdb").resolve())
    build_warehouse(tmp_path / "input", paths.warehouse, as_of=AS_OF)
    _evaluate_slos(paths, AS_OF)
    pd, slack = Receiver().start(), Receiver(default_status=200).start()
    env = {
        "LEAD_PARITY_PAGERDUTY_ROUTING_KEY": "rk-worked",
        "LEAD_PARITY_PAGERDUTY_URL": pd.url("/v2/enqueue"),
        "LEAD_PARITY_SLACK_WEBHOOK_URL": slack.url("/services/T/B/worked"),
    }
    contract = load_contract()
    try:
        result, _ = evaluate_in_run(paths.warehouse, paths.history, contract, run_url=None, env=env)
        publish_snapshot(paths.warehouse, paths.published)
        report = deliver_after_run(paths.warehouse, contract, run_id="r1", env=env, settings=FAST)
        failed = _failed_units(paths.warehouse, AS_OF)
        incidents = read_incidents(paths.warehouse)
        assert failed and {(i["rule"], i["scope"]) for i in incidents} == failed
        assert {i["severity"] for i in incidents} == {"warning"}
        assert {i["notified"] for i in incidents} == {"chat"}  # the day is final and recent
        assert len(result.opened) == len(failed) == report.delivery.delivered["slack"]
        assert pd.requests == []

        # Samples of a parity incident are exactly the conversions the SPEC says dropped there.
        with (WORKED / "expected.csv").open() as fh:
            truth = list(csv.DictReader(fh))
        by_hop = {i["hop"]: i for i in incidents if i["rule"] == "parity"}
        for hop in ("crm", "support"):
            dropped = {t["conversion_id"] for t in truth if t["dropped_at_hop"] == hop}
            assert set(by_hop[hop]["sample_conversion_ids"]) == dropped
            assert by_hop[hop]["owner"] == contract.hop(hop).owner

        # The published snapshot carries the same incidents for readers (dashboard, report).
        published = duckdb.connect()
        rows = published.execute(
            "select count(*) from read_parquet(?)",
            [str(paths.published.resolve() / "ops" / "incidents.parquet")],
        ).fetchone()[0]
        published.close()
        assert rows == len(incidents)

        # A day later nothing changed in the data: a new evaluation, no new final day, nothing
        # opened, resolved or sent.
        later = AS_OF + timedelta(days=1)
        _evaluate_slos(paths, later)
        again, _ = evaluate_in_run(paths.warehouse, paths.history, contract, run_url=None, env=env)
        assert again.skipped is None and again.opened == [] and again.resolved == []
        deliver_after_run(paths.warehouse, contract, run_id="r2", env=env, settings=FAST)
        assert len(slack.requests) == len(failed) and pd.requests == []
    finally:
        pd.stop()
        slack.stop()
