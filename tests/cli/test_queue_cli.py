"""The review queue end to end, as users run it: `lead-parity run` on the worked examples (m3 a
dead letter, m8 a failed enrichment, plus a high-intent demo request nobody assigns), `queue
claim` / `queue done` between runs, and a second run with a later as_of whose new input assigns
the lead: that item closes itself, the people's actions are in the published ops.review_queue."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

WORKED = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "worked"
CLI = str(Path(sys.executable).with_name("lead-parity"))


def _cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAD_PARITY_")}
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)  # fmt: skip


def _contact_page(path: Path, updated: str, owner_assigned: str | None) -> None:
    props = {"email": "zed@acme.com", "createdate": "2026-10-12T08:01:00Z",
             "lastmodifieddate": updated}  # fmt: skip
    if owner_assigned:
        props |= {"hubspot_owner_id": "7", "hubspot_owner_assigneddate": owner_assigned}
    page = {"results": [{"id": "120", "properties": props, "createdAt": "2026-10-12T08:01:00Z",
                         "updatedAt": updated, "archived": False}]}  # fmt: skip
    path.write_text(json.dumps(page))


def _published_queue(warehouse: Path) -> dict[str, dict]:
    snapshot = warehouse.parent / "published" / "lead_parity.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        cur = con.execute("select * from ops.review_queue")
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return {r["conversion_id"]: r for r in rows}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_items_from_a_real_run_are_worked_and_close_themselves_on_the_next_run(tmp_path):
    input_dir = tmp_path / "input"
    shutil.copytree(WORKED, input_dir)
    track = {"type": "track", "messageId": "m20", "event": "Demo Requested",
             "timestamp": "2026-10-12T08:00:00Z", "anonymousId": "aZ",
             "properties": {"email": "zed@acme.com", "intent_score": 95},
             "context": {"campaign": {"source": "google"}}}  # fmt: skip
    with (input_dir / "segment" / "s.jsonl").open("a") as f:
        f.write(json.dumps(track) + "\n")
    _contact_page(input_dir / "hubspot_contacts" / "p2.json", "2026-10-12T08:01:00Z", None)
    warehouse = tmp_path / "wh" / "lp.duckdb"
    wh = ["--warehouse", str(warehouse)]

    first = _cli("run", "--input", str(input_dir), *wh, "--as-of", "2026-10-12T10:00:00Z")
    assert first.returncode == 0, first.stderr
    items = _published_queue(warehouse)
    assert {(r["kind"], r["owner"]) for r in items.values()} == {
        ("dead_letter", "platform"),
        ("enrichment_fallback", "sales_ops"),
        ("high_intent_unassigned", "sales_ops"),
    }
    assert set(items) == {"m3", "m8", "m20"}
    m20 = items["m20"]
    assert (m20["opened_at"].isoformat(), m20["due_at"].isoformat()) == (
        "2026-10-12T08:30:00", "2026-10-12T09:00:00")  # fmt: skip
    assert m20["escalated_at"].isoformat() == "2026-10-12T10:00:00"

    listed = _cli("queue", "list", "--kind", "dead_letter", *wh)
    assert listed.returncode == 0 and items["m3"]["item_id"] in listed.stdout
    assert items["m8"]["item_id"] not in listed.stdout
    claim = _cli("queue", "claim", items["m3"]["item_id"], "--by", "ann", *wh)
    assert claim.returncode == 0, claim.stderr
    done = _cli("queue", "done", items["m8"]["item_id"], "--by", "bob", "--resolution",
                "not_a_lead", "--note", "a test lead", *wh)  # fmt: skip
    assert done.returncode == 0, done.stderr

    # New input: the contact got an owner at 10:02 (a newer version of contact 120).
    _contact_page(input_dir / "hubspot_contacts" / "p3.json", "2026-10-12T10:02:00Z",
                  "2026-10-12T10:02:00Z")  # fmt: skip
    second = _cli("run", "--input", str(input_dir), *wh, "--as-of", "2026-10-12T10:05:00Z")
    assert second.returncode == 0, second.stderr
    after = _published_queue(warehouse)
    assert (after["m20"]["state"], after["m20"]["resolution"]) == ("done", "reached")
    assert (after["m3"]["state"], after["m3"]["claimed_by"]) == ("claimed", "ann")
    assert (after["m8"]["state"], after["m8"]["resolution"]) == ("done", "not_a_lead")
    assert {r["item_id"] for r in after.values()} == {r["item_id"] for r in items.values()}
    assert after["m20"]["escalated_at"] == m20["escalated_at"]  # escalated once, kept
