"""The funnel marts against the simulator's ground truth (SPEC section 7, truth/conversions.csv).

A simulated stack with every failure mode is ingested and built for real; fct_conversions must
agree with the truth at the thresholds of the funnel brief.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from lead_parity.pipeline.build import build_warehouse
from lead_parity.simulator import simulate

PERSONS = 4000
SEED = 23


def _pairs(groups: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in groups.values())


def score(warehouse: Path, truth_dir: Path) -> dict:
    """Agreement of marts.fct_conversions with truth/conversions.csv, plus sample mismatches."""
    with open(truth_dir / "conversions.csv", newline="", encoding="utf-8") as f:
        truth = {row["conversion_id"]: row for row in csv.DictReader(f)}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select conversion_id, lead_key, status, dropped_at_hop, root_cause"
            " from marts.fct_conversions"
        ).fetchall()
    got = {r[0]: {"lead_key": r[1], "status": r[2], "hop": r[3] or "", "cause": r[4] or ""}
           for r in rows}  # fmt: skip

    true_dropped = {c for c, t in truth.items() if t["status"] == "dropped"}
    got_dropped = {c for c, g in got.items() if g["status"] == "dropped"}
    both = true_dropped & got_dropped
    hop_ok = [c for c in both if got[c]["hop"] == truth[c]["dropped_at_hop"]]
    cause_ok = [c for c in both if got[c]["cause"] == truth[c]["root_cause"]]

    common = truth.keys() & got.keys()
    same_person = Counter(truth[c]["person_id"] for c in common)
    same_lead = Counter(got[c]["lead_key"] for c in common)
    same_both = Counter((truth[c]["person_id"], got[c]["lead_key"]) for c in common)
    true_pairs, got_pairs, hit_pairs = _pairs(same_person), _pairs(same_lead), _pairs(same_both)
    precision = hit_pairs / got_pairs if got_pairs else 1.0
    recall = hit_pairs / true_pairs if true_pairs else 1.0

    def sample(ids) -> list[str]:
        return [
            f"{c}: truth {truth.get(c, {}).get('status')}/{truth.get(c, {}).get('dropped_at_hop')}"
            f"/{truth.get(c, {}).get('root_cause')} got {got.get(c)}"
            for c in sorted(ids)[:10]
        ]

    return {
        "conversions_truth": len(truth),
        "conversions_built": len(got),
        "missing": sample(truth.keys() - got.keys()),
        "extra": sample(got.keys() - truth.keys()),
        "status_mismatches": sample(c for c in common if got[c]["status"] != truth[c]["status"]),
        "dropped_recall": len(both) / len(true_dropped) if true_dropped else 1.0,
        "dropped_precision": len(both) / len(got_dropped) if got_dropped else 1.0,
        "hop_accuracy": len(hop_ok) / len(both) if both else 1.0,
        "cause_accuracy": len(cause_ok) / len(both) if both else 1.0,
        "cause_mismatches": sample(set(both) - set(cause_ok)),
        "identity_f1": 2 * precision * recall / (precision + recall) if hit_pairs else 0.0,
        "identity_precision": precision,
        "identity_recall": recall,
        "dropped_truth": len(true_dropped),
    }


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accuracy")
    stack = tmp / "stack"
    simulate(stack, leads=PERSONS, days=14, seed=SEED)
    manifest = json.loads((stack / "truth" / "manifest.json").read_text())
    as_of = datetime.fromisoformat(manifest["as_of"].replace("Z", "+00:00"))
    warehouse = tmp / "wh" / "warehouse.duckdb"
    build_warehouse(stack, warehouse, as_of=as_of)
    return score(warehouse, stack / "truth")


def test_every_truth_conversion_is_built(scored):
    assert scored["conversions_built"] == scored["conversions_truth"], scored
    assert not scored["missing"] and not scored["extra"], scored


def test_dropped_recall_and_precision(scored):
    assert scored["dropped_truth"] >= 100, "the stack must exercise drops"
    assert scored["dropped_recall"] >= 0.99, scored
    assert scored["dropped_precision"] >= 0.99, scored


def test_dropped_at_hop_accuracy(scored):
    assert scored["hop_accuracy"] >= 0.99, scored


def test_root_cause_accuracy(scored):
    assert scored["cause_accuracy"] >= 0.97, scored


def test_pairwise_identity_f1(scored):
    assert scored["identity_f1"] >= 0.99, scored
