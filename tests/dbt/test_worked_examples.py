"""SPEC section 8: the worked examples, built for real, give exactly expected.csv."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

WORKED = Path("/work/shared/examples/worked")
FIELDS = ("status", "hop", "cause", "late", "lead_key")
AS_OF = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)

with open(WORKED / "expected.csv", newline="", encoding="utf-8") as _f:
    EXPECTED = list(csv.DictReader(_f))


@pytest.fixture(scope="module")
def built(worked_build):
    # The session's build of the worked examples (tests/conftest.py), at AS_OF.
    assert worked_build.as_of == AS_OF
    with duckdb.connect(str(worked_build.warehouse), read_only=True) as con:
        rows = con.execute(
            "select conversion_id, status, dropped_at_hop, root_cause, late, lead_key"
            " from marts.fct_conversions"
        ).fetchall()
        dropped = {
            r[0]: r[1:]
            for r in con.execute(
                "select conversion_id, dropped_at_hop, root_cause, owner, email"
                " from marts.rpt_dropped_leads"
            ).fetchall()
        }
    verdicts = {r[0]: dict(zip(FIELDS, r[1:], strict=True)) for r in rows}
    return verdicts, dropped


def test_exactly_the_expected_conversions(built):
    verdicts, _ = built
    assert sorted(verdicts) == sorted(row["conversion_id"] for row in EXPECTED)


@pytest.mark.parametrize("row", EXPECTED, ids=[r["conversion_id"] for r in EXPECTED])
def test_verdict(built, row):
    verdicts, _ = built
    got = verdicts[row["conversion_id"]]
    assert got["status"] == row["status"]
    assert (got["hop"] or "") == row["dropped_at_hop"]
    assert (got["cause"] or "") == row["root_cause"]
    assert got["late"] is (row["late"] == "true")


def test_same_lead_relations(built):
    """same_as names an earlier conversion of the same lead; every other pair differs."""
    verdicts, _ = built
    lead_of = {c: v["lead_key"] for c, v in verdicts.items()}
    partner = {r["conversion_id"]: r["same_lead_as"] for r in EXPECTED if r["same_lead_as"]}
    for a in lead_of:
        for b in lead_of:
            if a < b:
                same = partner.get(a) == b or partner.get(b) == a
                assert (lead_of[a] == lead_of[b]) is same, (a, b)


def test_dropped_leads_report(built):
    verdicts, dropped = built
    assert set(dropped) == {c for c, v in verdicts.items() if v["status"] == "dropped"}
    assert dropped["m2"] == ("crm", "identity_mismatch", "platform", "bob@corp.com")
    assert dropped["m8"][2:] == ("sales_ops", "fay@acme.com")
    assert dropped["m10"][2] == "support_ops"
