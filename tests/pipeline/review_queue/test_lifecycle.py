"""The review queue's lifecycle on a real DuckDB warehouse and the real CLI, clocks driven by
as_of: items open with their clocks and owners, are claimed and done, escalate once when overdue,
close themselves when the hop is reached, and re-running the same as_of changes nothing."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.review_queue import QueueStore, item_id_for, refresh_in_run

from .stack import cli, review_queue, t, write_stack

CONTRACT = load_contract()
NO_SINKS: dict[str, str] = {}

HIGH_INTENT = {"conversion_id": "hi1", "converted_at": t(10, 10), "intent_score": 92,
               "marketing_reached_at": t(10, 10, 1), "crm_reached_at": t(10, 10, 2)}  # fmt: skip
LOW_INTENT = {"conversion_id": "lo1", "converted_at": t(10, 10), "intent_score": 40}
ENRICHED_BADLY = {"conversion_id": "en1", "converted_at": t(10, 10), "intent_score": 10}
DEAD = {"conversion_id": "dl1", "conversion_type": "question", "converted_at": t(10, 10)}
RECEIPTS = [
    {"conversion_id": "en1", "hop": "enrichment", "attempted_at": t(10, 10), "outcome": "failed"},
    {"conversion_id": "dl1", "hop": "support", "attempted_at": t(10, 10, 5),
     "outcome": "dead_lettered"},
]  # fmt: skip


def _refresh(wh, as_of, env=NO_SINKS):
    return refresh_in_run(wh, wh.parent / "history", CONTRACT, as_of, env=env)


@pytest.fixture
def wh(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    write_stack(warehouse, [HIGH_INTENT, LOW_INTENT, ENRICHED_BADLY, DEAD], RECEIPTS)
    return warehouse


def test_items_open_with_clocks_from_the_evidence_and_owners_from_the_contract(wh):
    report = _refresh(wh, t(10, 10, 40))
    items = review_queue(wh)
    assert set(items) == {
        ("high_intent_unassigned", "hi1"),
        ("enrichment_fallback", "en1"),
        ("dead_letter", "dl1"),
    }
    assert len(report.applied.opened) == 3
    hi = items[("high_intent_unassigned", "hi1")]
    # Evidence visible 30 min after converting; 30 min on the clock from then.
    assert hi["opened_at"].isoformat() == "2026-10-10T10:30:00"
    assert hi["due_at"].isoformat() == "2026-10-10T11:00:00"
    assert hi["owner"] == "sales_ops" and hi["state"] == "open" and hi["escalated_at"] is None
    assert hi["item_id"] == item_id_for("high_intent_unassigned", "hi1")
    en = items[("enrichment_fallback", "en1")]
    assert (en["opened_at"].isoformat(), en["due_at"].isoformat()) == (
        "2026-10-10T10:00:00", "2026-10-10T10:15:00")  # fmt: skip
    # 10:40 is past the enrichment clock: escalated in this very run, to the CRO.
    assert en["escalated_at"].isoformat() == "2026-10-10T10:40:00"
    assert en["escalation_owner"] == "cro"
    dl = items[("dead_letter", "dl1")]
    assert dl["owner"] == "platform" and dl["due_at"].isoformat() == "2026-10-10T11:05:00"


def test_high_intent_is_not_an_item_before_its_evidence_is_visible(wh):
    _refresh(wh, t(10, 10, 29))
    assert ("high_intent_unassigned", "hi1") not in review_queue(wh)


def test_an_item_is_claimed_and_done_through_the_cli_with_its_history(wh):
    _refresh(wh, t(10, 10, 40))
    item_id = item_id_for("high_intent_unassigned", "hi1")
    warehouse = ["--warehouse", str(wh)]
    listed = cli("queue", "list", "--owner", "sales_ops", "--as-of", "2026-10-10T10:40:00Z",
                 *warehouse)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert item_id in listed.stdout and "20m left" in listed.stdout
    assert item_id_for("dead_letter", "dl1") not in listed.stdout  # platform's, not sales_ops'
    claimed = cli("queue", "claim", item_id, "--by", "ann", *warehouse)
    assert claimed.returncode == 0, claimed.stderr
    other = cli("queue", "claim", item_id, "--by", "bob", *warehouse)
    assert other.returncode == 2 and other.stderr.count("\n") == 1
    assert "claimed by ann" in other.stderr
    done = cli("queue", "done", item_id, "--by", "ann", "--resolution", "handled",
               "--note", "called them", *warehouse)  # fmt: skip
    assert done.returncode == 0, done.stderr
    _refresh(wh, t(10, 10, 45))
    row = review_queue(wh)[("high_intent_unassigned", "hi1")]
    assert (row["state"], row["claimed_by"], row["resolution"]) == ("done", "ann", "handled")
    assert row["note"] == "called them"
    con = duckdb.connect(str(wh), read_only=True)
    history = con.execute(
        "select action, actor, resolution from ops.review_queue_actions where item_id = ? "
        "order by seq",
        [item_id],
    ).fetchall()
    con.close()
    assert history == [("opened", "lead-parity", None), ("claimed", "ann", None),
                       ("done", "ann", "handled")]  # fmt: skip
    assert cli("queue", "list", *warehouse).stdout.count(item_id) == 0


def test_bad_id_or_resolution_is_one_line_and_exit_2(wh):
    _refresh(wh, t(10, 10, 40))
    item_id = item_id_for("dead_letter", "dl1")
    for args in (
        ("claim", "rq_nope", "--by", "ann"),
        ("done", "rq_nope", "--by", "ann", "--resolution", "handled"),
        ("done", item_id, "--by", "ann", "--resolution", "fixed_it"),
    ):
        result = cli("queue", *args, "--warehouse", str(wh))
        assert result.returncode == 2, args
        assert result.stderr.startswith("lead-parity: ") and result.stderr.count("\n") == 1
    assert QueueStore.in_history(wh.parent / "history").item(item_id)["state"] == "open"


def test_an_overdue_item_escalates_exactly_once(wh):
    hi = item_id_for("high_intent_unassigned", "hi1")
    _refresh(wh, t(10, 10, 45))
    assert review_queue(wh)[("high_intent_unassigned", "hi1")]["escalated_at"] is None
    first = _refresh(wh, t(10, 11, 5))
    assert hi in first.applied.escalated
    later = _refresh(wh, t(10, 13, 0))
    assert hi not in later.applied.escalated
    row = review_queue(wh)[("high_intent_unassigned", "hi1")]
    assert row["escalated_at"].isoformat() == "2026-10-10T11:05:00"
    actions = QueueStore.in_history(wh.parent / "history").actions(hi)
    assert [a["action"] for a in actions].count("escalated") == 1


def test_an_item_closes_itself_when_its_conversion_reaches_the_hop(wh, tmp_path):
    _refresh(wh, t(10, 10, 40))
    # The next run's input: the contact got an owner at 11:20 and the ticket was created.
    assigned = {**HIGH_INTENT, "crm_assignment_reached_at": t(10, 11, 20)}
    dead_reached = {**DEAD, "support_reached_at": t(10, 12, 0)}
    write_stack(wh, [assigned, LOW_INTENT, ENRICHED_BADLY, dead_reached], RECEIPTS)
    report = _refresh(wh, t(10, 12, 30))
    items = review_queue(wh)
    hi = items[("high_intent_unassigned", "hi1")]
    assert (hi["state"], hi["resolution"]) == ("done", "reached")
    assert hi["closed_at"].isoformat() == "2026-10-10T11:20:00"
    assert items[("dead_letter", "dl1")]["resolution"] == "reached"
    assert items[("enrichment_fallback", "en1")]["state"] == "open"
    assert len(report.applied.reached) == 2


def test_rerunning_the_same_as_of_changes_nothing(wh):
    _refresh(wh, t(10, 12, 0))
    before = review_queue(wh)
    store = QueueStore.in_history(wh.parent / "history")
    actions = store.actions()
    again = _refresh(wh, t(10, 12, 0))
    assert again.applied.opened == again.applied.escalated == again.applied.reached == []
    assert review_queue(wh) == before
    assert store.actions() == actions
    older = _refresh(wh, t(10, 11, 0))
    assert older.applied.skipped and review_queue(wh) == before


def test_items_survive_a_rebuilt_warehouse(wh):
    _refresh(wh, t(10, 10, 40))
    item_id = item_id_for("dead_letter", "dl1")
    assert cli("queue", "claim", item_id, "--by", "kim", "--warehouse", str(wh)).returncode == 0
    wh.unlink()  # --full-refresh / a rebuilt file: the store beside it keeps the state
    write_stack(wh, [HIGH_INTENT, LOW_INTENT, ENRICHED_BADLY, DEAD], RECEIPTS)
    _refresh(wh, t(10, 10, 50))
    assert review_queue(wh)[("dead_letter", "dl1")]["claimed_by"] == "kim"


def test_time_left_is_shown_oldest_due_first(wh):
    _refresh(wh, t(10, 10, 40))
    out = cli("queue", "list", "--as-of", "2026-10-10T10:40:00Z", "--warehouse", str(wh)).stdout
    lines = out.splitlines()[1:]
    assert [ln.split()[1] for ln in lines] == [
        "enrichment_fallback", "high_intent_unassigned", "dead_letter"]  # fmt: skip
    assert "overdue 25m" in lines[0] and "25m left" in lines[2]


def test_due_clock_matches_the_kind(wh):
    _refresh(wh, t(10, 12, 0))
    for row in review_queue(wh).values():
        minutes = {"high_intent_unassigned": 30, "enrichment_fallback": 15, "dead_letter": 60}
        assert row["due_at"] - row["opened_at"] == timedelta(minutes=minutes[row["kind"]])


def test_without_a_warehouse_the_commands_ask_for_one_instead_of_using_the_demos(tmp_path):
    result = cli("queue", "list")
    assert result.returncode == 2
    assert (
        result.stderr
        == "lead-parity: queue list needs --warehouse FILE (or LEAD_PARITY_WAREHOUSE)\n"
    )
    missing = cli(
        "queue", "claim", "rq_x", "--by", "ann", "--warehouse", str(tmp_path / "no.duckdb")
    )
    assert missing.returncode == 2 and "run the pipeline first" in missing.stderr
    assert missing.stderr.count("\n") == 1
