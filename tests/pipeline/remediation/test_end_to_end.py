"""The worked examples, remediated the way ops would: plan (a dry run), approve with the CLI,
send to fake HubSpot and Zendesk, then the next build sees the objects. The parity marts do not
move, the re-sent conversions stay dropped and gain remediated_at, the audit is mirrored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.build import build_warehouse
from lead_parity.pipeline.http_client import HttpSettings
from lead_parity.pipeline.paths import RunPaths
from lead_parity.pipeline.publish.snapshot import publish_snapshot
from lead_parity.pipeline.remediation import RemediationStore, confirm_in_run, send_batch
from lead_parity.pipeline.review_queue import item_id_for

from .fake_writes import HUBSPOT_TOKEN, ZENDESK_TOKEN, FakeWrites

CLI = str(Path(sys.executable).with_name("lead-parity"))
PARITY = (
    "select * from marts.fct_hop_parity_daily "
    "order by conversion_date, conversion_type, origin, hop"
)
TOTALS = "select * from marts.fct_hop_parity_daily_totals order by conversion_date, hop"


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def seed_contacts(fake: FakeWrites, input_dir: Path) -> dict[str, dict]:
    """The fake CRM holds the contacts the input holds (same ids), so upserts update them."""
    originals = {}
    for page in sorted((input_dir / "hubspot_contacts").glob("*.json")):
        for contact in json.loads(page.read_text())["results"]:
            fake.put_contact(contact["id"], dict(contact["properties"]))
            originals[contact["id"]] = contact
    return originals


def land_vendor_state(fake: FakeWrites, input_dir: Path, originals: dict, at: str) -> None:
    """What the next fetch would land: the contacts the remediation touched or created, and
    the tickets and users it created, each dated `at` (before the build's as_of)."""
    contacts = []
    for contact_id, props in fake.contacts.items():
        if "lp_remediation" not in props:
            continue
        base = originals.get(contact_id, {"properties": {"createdate": at}, "createdAt": at})
        merged = {**base["properties"], **props, "lastmodifieddate": at}
        contacts.append({"id": contact_id, "properties": merged, "createdAt": base["createdAt"],
                         "updatedAt": at, "archived": False})  # fmt: skip
    (input_dir / "hubspot_contacts" / "p9_remediated.json").write_text(
        json.dumps({"results": contacts, "paging": {}})
    )
    tickets = [
        {"id": t["id"], "created_at": at, "updated_at": at, "requester_id": t["requester_id"],
         "assignee_id": None, "external_id": t["external_id"], "status": "new",
         "via": {"channel": "api"}}
        for t in fake.tickets
    ]  # fmt: skip
    users = [{"id": u["id"], "email": u["email"], "name": u["name"]} for u in fake.users.values()]
    (input_dir / "zendesk_tickets" / "p9_remediated.json").write_text(
        json.dumps({"tickets": tickets, "users": users, "metric_sets": [],
                    "after_cursor": None, "end_of_stream": True})
    )  # fmt: skip


@pytest.mark.slow
def test_remediate_the_worked_examples(worked_build, tmp_path):
    shutil.copytree(worked_build.root, tmp_path / "run")
    input_dir = tmp_path / "run" / "input"
    warehouse = tmp_path / "run" / "wh" / "warehouse.duckdb"
    paths = RunPaths(warehouse)
    publish_snapshot(warehouse, paths.published, contract_dir=paths.contract_tables)
    parity_before = rows(warehouse, PARITY)
    totals_before = rows(warehouse, TOTALS)
    assert parity_before

    with FakeWrites() as fake:
        env = {**fake.env(), "LEAD_PARITY_WAREHOUSE": str(warehouse)}
        originals = seed_contacts(fake, input_dir)

        # The dry run: proposals printed and recorded, nothing sent (not even a read).
        plan = cli("remediate", "plan", "--by", "ops", "--json", env=env)
        assert plan.returncode == 0, plan.stderr
        planned = json.loads(plan.stdout)
        assert fake.log == []
        by_conversion = {a["conversion_id"]: a for a in planned["actions"]}
        assert by_conversion["m3"]["action"] == "hubspot_upsert"  # C: integration_failure
        assert by_conversion["m4"]["action"] == "zendesk_ticket"  # E: silent_drop
        assert by_conversion["m7"]["action"] == "zendesk_ticket"  # K: no_trace
        assert by_conversion["m8"]["action"] == "hubspot_flag"  # F: enrichment_failure
        # F's lead has a contact (never assigned): the spine knows it, so it is flagged by id;
        # C's lead has none, so its contact is upserted by email.
        assert by_conversion["m8"]["target_id"] in originals
        assert by_conversion["m3"]["target_id"] is None
        assert by_conversion["m10"]["action"] == "zendesk_flag"  # G: unassigned
        assert "m2" in planned["merge_candidates"] and "m2" not in by_conversion  # B
        # ... which is a person's call: a merge_candidate item in the review queue, once.
        [merge_item] = planned["review_items_opened"]
        assert merge_item == item_id_for("merge_candidate", "m2")
        [batch] = planned["batches"]
        again = cli("remediate", "plan", env=env)
        assert "0 new proposed actions" in again.stdout and fake.log == []
        assert "(0 new merge_candidate items" in again.stdout
        listed = cli("queue", "list", "--kind", "merge_candidate", "--json", env=env)
        [item] = json.loads(listed.stdout)
        assert (item["conversion_id"], item["owner"], item["state"]) == ("m2", "platform", "open")

        # No approval, no write: the sender finds nothing approved.
        assert cli("remediate", "send", "--batch", batch, env=env).returncode == 0
        assert fake.log == []

        # Approve support first, then the rest; a second approval of the same is refused.
        ok = cli("remediate", "approve", "--batch", batch, "--by", "ana", "--only",
                 "hop=support", env=env)  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        ok = cli("remediate", "approve", "--batch", batch, "--by", "ana", env=env)
        assert ok.returncode == 0, ok.stderr
        refused = cli("remediate", "approve", "--batch", batch, "--by", "ana", env=env)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1

        # What remediation_job does, with the send dated an hour before the build's as_of so
        # the next build counts it.
        sent_at = worked_build.as_of - timedelta(hours=1)
        report = send_batch(
            paths.history, load_contract(), batch, env=fake.env(),
            settings=HttpSettings(read_timeout_s=5, request_deadline_s=10), now=lambda: sent_at,
        )  # fmt: skip
        assert report.sent == len(planned["actions"]) and report.unresolved == 0
        assert {"update", "upsert"} <= {r.endpoint for r in fake.writes()}
        writes = len(fake.writes())
        assert send_batch(paths.history, load_contract(), batch, env=fake.env()).sent == 0
        assert len(fake.writes()) == writes  # a re-run writes nothing
        status = cli("remediate", "status", "--batch", batch, "--json", env=env)
        assert {a["status"] for a in json.loads(status.stdout)} == {"sent"}
        # Updated by id: the contact the spine knows, not a new one under the lead's email.
        assert all(a["object_id"] == a["target_id"] for a in json.loads(status.stdout)
                   if a["target_id"])  # fmt: skip
        land_vendor_state(fake, input_dir, originals, sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    # The next run: build, confirm, mirror.
    build_warehouse(input_dir, warehouse, as_of=worked_build.as_of)
    report = confirm_in_run(warehouse, paths.history, worked_build.as_of)
    assert sorted(report.confirmed) == sorted(a["action_id"] for a in planned["actions"])

    assert rows(warehouse, PARITY) == parity_before
    assert rows(warehouse, TOTALS) == totals_before
    resent = set(by_conversion)
    for conversion_id, status, remediated_at in rows(
        warehouse, "select conversion_id, status, remediated_at from marts.fct_conversions"
    ):
        if conversion_id in resent:
            assert status == "dropped" and remediated_at == sent_at.replace(tzinfo=None)
        else:
            assert remediated_at is None
    queue = rows(warehouse, "select status, count(*) from ops.remediation_queue group by 1")
    assert queue == [("confirmed", len(resent))]
    attempts = rows(warehouse, "select * from ops.remediation_attempts")
    assert attempts and HUBSPOT_TOKEN not in repr(attempts) and ZENDESK_TOKEN not in repr(attempts)
    columns = [r[0] for r in rows(warehouse, "describe ops.remediation_queue")]
    assert "target_key" not in columns  # the addressed email stays in the SQLite store
    assert RemediationStore.in_history(paths.history).approved() == []
