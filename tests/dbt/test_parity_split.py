"""SPEC section 6's parity split, on a simulated stack built for real: fct_hop_parity_daily holds
campaign slices only, so sums over it count each conversion once; the (day, hop) totals the SLO
is judged on live in fct_hop_parity_daily_totals. Also: `dbt source freshness` on that stack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from lead_parity.contract import DEFAULT_CONTRACT_PATH, load_contract
from lead_parity.pipeline.build import build_warehouse, run_dbt
from lead_parity.pipeline.paths import RunPaths
from lead_parity.pipeline.timeparse import parse_as_of
from lead_parity.simulator import simulate

# Small enough to build in seconds; a lower slice volume so that some slices are judged alone
# and some are not.
MIN_SLICE_VOLUME = 12
COUNTS = ("expected", "reached", "dropped", "pending")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    simulate(root / "input", leads=600, days=4, seed=17)
    contract_path = root / "contract.yaml"
    text = Path(DEFAULT_CONTRACT_PATH).read_text()
    assert "min_slice_volume: 30" in text
    contract_path.write_text(
        text.replace("min_slice_volume: 30", f"min_slice_volume: {MIN_SLICE_VOLUME}")
    )
    as_of = json.loads((root / "input" / "truth" / "manifest.json").read_text())["as_of"]
    paths = RunPaths((root / "data" / "warehouse.duckdb").resolve())
    build_warehouse(
        root / "input", paths.warehouse, as_of=parse_as_of(as_of), contract_path=contract_path
    )
    return paths, load_contract(contract_path)


def _rows(warehouse: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _chain_params(contract) -> list[list]:
    chain = [
        (rule.conversion_type, hop, order)
        for rule in contract.conversions
        for order, hop in enumerate(rule.hops, start=1)
    ]
    return [[c[0] for c in chain], [c[1] for c in chain], [c[2] for c in chain]]


def test_the_slice_mart_holds_campaign_slices_only(stack):
    paths, _ = stack
    rows = _rows(
        paths.warehouse,
        "select count(*), count(*) filter (where conversion_type = 'all' or origin = 'all'),"
        " count(distinct (conversion_date, conversion_type, origin, hop))"
        " from marts.fct_hop_parity_daily",
    )
    total, all_rows, distinct_grain = rows[0]
    assert total > 0
    assert all_rows == 0
    assert distinct_grain == total


def test_both_marts_have_the_same_columns_and_totals_are_all_all(stack):
    paths, _ = stack
    slices = _rows(paths.warehouse, "describe marts.fct_hop_parity_daily")
    totals = _rows(paths.warehouse, "describe marts.fct_hop_parity_daily_totals")
    assert [(r[0], r[1]) for r in slices] == [(r[0], r[1]) for r in totals]
    names = [r[0] for r in slices]
    assert "is_total" not in names
    for column in ("conversion_date", "conversion_type", "origin", "hop", *COUNTS,
                   "discrepancy_pct", "slo_breached"):  # fmt: skip
        assert column in names
    keys = _rows(
        paths.warehouse,
        "select distinct conversion_type, origin from marts.fct_hop_parity_daily_totals",
    )
    assert keys == [("all", "all")]


def test_sums_over_slices_equal_the_totals_and_the_conversions_expected_at_each_hop(stack):
    paths, contract = stack
    slices = dict(
        _rows(
            paths.warehouse,
            "select hop, sum(expected) from marts.fct_hop_parity_daily group by hop",
        )
    )
    totals = dict(
        _rows(
            paths.warehouse,
            "select hop, sum(expected) from marts.fct_hop_parity_daily_totals group by hop",
        )
    )
    # Straight from fct_conversions: a conversion is expected at a hop of its chain when it
    # reached every earlier hop and is not pending (or unknown) there.
    conversions = dict(
        _rows(
            paths.warehouse,
            """
            with chain as (
                select
                    unnest(?::varchar[]) as conversion_type,
                    unnest(?::varchar[]) as hop,
                    unnest(?::integer[]) as hop_order
            )

            select chain.hop, count(*)
            from marts.fct_conversions as conversions
            inner join chain
                on conversions.conversion_type = chain.conversion_type
            left join chain as stalled
                on conversions.conversion_type = stalled.conversion_type
                and conversions.stalled_at_hop = stalled.hop
            where
                conversions.stalled_at_hop is null
                or chain.hop_order < stalled.hop_order
                or (chain.hop = conversions.stalled_at_hop and conversions.status = 'dropped')
            group by chain.hop
            """,
            _chain_params(contract),
        )
    )
    assert set(slices) == set(contract.hop_names)
    assert all(count > 0 for count in conversions.values())
    assert slices == totals == conversions


def _totals_tests(paths: RunPaths) -> dict[str, tuple[str, str]]:
    """The `totals_add_up_to_slices` tests of the build: totals model -> (status, compiled SQL)."""
    manifest = json.loads((paths.dbt_target / "manifest.json").read_text())
    results = json.loads((paths.dbt_target / "run_results.json").read_text())["results"]
    status = {r["unique_id"]: r["status"] for r in results}
    return {
        node["attached_node"].split(".")[-1]: (status.get(unique_id), node["compiled_code"])
        for unique_id, node in manifest["nodes"].items()
        if node.get("test_metadata", {}).get("name") == "totals_add_up_to_slices"
    }


def test_the_totals_add_up_to_slices_test_passes_on_the_build_and_fails_on_a_broken_total(
    stack, tmp_path
):
    """The generic test (dbt_project/tests/generic) guards both totals marts: the build ran it
    and it passed; its compiled SQL, run on a copy of the warehouse with one total off by one,
    a day's slices missing and a latency day total missing, names exactly those keys."""
    paths, _ = stack
    tests = _totals_tests(paths)
    assert set(tests) == {"fct_hop_parity_daily_totals", "fct_assignment_latency_daily_totals"}
    assert {status for status, _ in tests.values()} == {"pass"}
    # Same file name, so the same catalog name as the compiled SQL's relations.
    broken = tmp_path / paths.warehouse.name
    shutil.copyfile(paths.warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        for _, sql in tests.values():
            assert con.execute(sql).fetchall() == []
        days = [r[0] for r in con.execute(
            "select distinct conversion_date from marts.fct_hop_parity_daily order by 1"
        ).fetchall()]  # fmt: skip
        assert len(days) >= 2
        con.execute(
            "update marts.fct_hop_parity_daily_totals set dropped = dropped + 1"
            " where conversion_date = ? and hop = 'crm'",
            [days[0]],
        )
        con.execute("delete from marts.fct_hop_parity_daily where conversion_date = ?", [days[1]])
        (latency_day,) = con.execute(
            "delete from marts.fct_assignment_latency_daily_totals where conversion_date ="
            " (select min(conversion_date) from marts.fct_assignment_latency_daily_totals)"
            " returning conversion_date"
        ).fetchone()
        # Quantiles are not additive: the test compares the counts only.
        con.execute("update marts.fct_assignment_latency_daily_totals set median_s = median_s + 1")
        parity = con.execute(
            f"select conversion_date, hop, is_in_slices, is_in_totals,"
            f" slice_dropped, total_dropped"
            f" from ({tests['fct_hop_parity_daily_totals'][1]}) order by all"
        ).fetchall()
        latency = con.execute(
            f"select conversion_date, is_in_slices, is_in_totals"
            f" from ({tests['fct_assignment_latency_daily_totals'][1]})"
        ).fetchall()
        hops_of_day = con.execute(
            "select hop from marts.fct_hop_parity_daily_totals where conversion_date = ?"
            " order by hop",
            [days[1]],
        ).fetchall()
    crm = [r for r in parity if r[0] == days[0]]
    assert len(crm) == 1 and crm[0][1:4] == ("crm", True, True) and crm[0][5] == crm[0][4] + 1
    assert [r[1:4] for r in parity if r[0] == days[1]] == [(h, False, True) for (h,) in hops_of_day]
    assert {r[0] for r in parity} == {days[0], days[1]}
    assert latency == [(latency_day, True, False)]


def test_totals_are_always_judged_and_small_slices_never_alone(stack):
    paths, contract = stack
    threshold = contract.slo.parity_discrepancy_pct
    slices = _rows(
        paths.warehouse,
        "select expected, dropped, discrepancy_pct, slo_breached from marts.fct_hop_parity_daily",
    )
    judged = [r for r in slices if r[3] is not None]
    unjudged = [r for r in slices if r[3] is None]
    assert judged and unjudged, "the stack should have slices on both sides of the volume"
    assert all(r[0] >= MIN_SLICE_VOLUME for r in judged)
    assert all(r[0] < MIN_SLICE_VOLUME for r in unjudged)
    assert all(r[3] == (100.0 * r[1] / r[0] >= threshold) for r in judged)
    totals = _rows(
        paths.warehouse,
        "select expected, dropped, discrepancy_pct, slo_breached"
        " from marts.fct_hop_parity_daily_totals",
    )
    assert all((r[3] is None) == (r[0] == 0) for r in totals)
    assert all(r[2] is None for r in totals if r[0] == 0)
    assert any(r[3] for r in totals)


def test_source_freshness_reports_every_landed_source(stack):
    paths, contract = stack
    result = run_dbt(paths, ["source", "freshness"], contract)
    # Freshness only warns: simulated data is old, which must not fail anything.
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads((paths.dbt_target / "sources.json").read_text())["results"]
    by_source = {r["unique_id"].split(".")[2] for r in results}
    assert by_source == {
        "segment", "hubspot_forms", "hubspot_contacts", "zendesk_tickets", "zendesk_users",
        "receipts",
    }  # fmt: skip
    assert all(r["status"] in ("pass", "warn") for r in results), results
    landed = [r for r in results if r["unique_id"] == "source.lead_parity.segment.messages"]
    assert landed and landed[0]["max_loaded_at"].startswith("20")


def test_latency_slices_keep_the_spec_grain_and_day_totals_are_medians_of_conversions(stack):
    paths, _ = stack
    (total, all_rows, distinct_grain), *_ = _rows(
        paths.warehouse,
        "select count(*), count(*) filter (where conversion_type = 'all' or origin = 'all'),"
        " count(distinct (conversion_date, conversion_type, origin))"
        " from marts.fct_assignment_latency_daily",
    )
    assert total > 0 and all_rows == 0 and distinct_grain == total
    names = [r[0] for r in _rows(paths.warehouse, "describe marts.fct_assignment_latency_daily")]
    assert "is_total" not in names
    totals = _rows(
        paths.warehouse,
        "select conversion_date, assigned, round(median_s, 6), round(p95_s, 6)"
        " from marts.fct_assignment_latency_daily_totals where assigned > 0 order by 1",
    )
    # Straight from fct_conversions: every assigned conversion of the day, whatever its slice.
    conversions = _rows(
        paths.warehouse,
        "select cast(converted_at as date), count(*),"
        " round(quantile_cont(assignment_latency_s, 0.5), 6),"
        " round(quantile_cont(assignment_latency_s, 0.95), 6)"
        " from marts.fct_conversions where assignment_latency_s is not null group by 1 order by 1",
    )
    assert len(totals) > 1
    assert totals == conversions
    summed = _rows(
        paths.warehouse,
        "select conversion_date, sum(assigned) from marts.fct_assignment_latency_daily"
        " group by 1 having sum(assigned) > 0 order by 1",
    )
    assert summed == [(day, assigned) for day, assigned, _, _ in totals]
