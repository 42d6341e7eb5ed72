"""The pipeline run's part: confirm sent actions it sees, mirror the store into ops.

Runs inside the warehouse's writer lane after the staging models. A sent HubSpot action is seen
when a contact holds its email (primary or additional) or, updated by id, when the contact it
was written to is there; a sent ticket when a ticket with `external_id = lp:<conversion_id>` is
there; a Zendesk routing flag when the user is there.
Unseen by two runs after it was sent, the action fails. A confirmed action finishes the
conversion's open review items with `resolution = 'requeued'`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from lead_parity.pipeline.human_state import TIMESTAMP, ops_table, replace_ops_tables
from lead_parity.pipeline.remediation.senders import EXTERNAL_PREFIX
from lead_parity.pipeline.remediation.store import RemediationStore, iso
from lead_parity.pipeline.review_queue import QueueError, QueueStore
from lead_parity.pipeline.review_queue.store import STORE_FILE as QUEUE_FILE

SYSTEM_ACTOR = "lead-parity"
_TS = TIMESTAMP
QUEUE_SCHEMA = pa.schema([
    ("action_id", pa.string()), ("batch_id", pa.string()), ("conversion_id", pa.string()),
    ("lead_key", pa.string()), ("hop", pa.string()), ("root_cause", pa.string()),
    ("conversion_type", pa.string()), ("action", pa.string()), ("target", pa.string()),
    ("target_id", pa.string()), ("status", pa.string()), ("proposed_at", _TS),
    ("decided_by", pa.string()), ("decided_at", _TS), ("sent_at", _TS),
    ("object_id", pa.string()), ("confirmed_at", _TS), ("unseen_runs", pa.int64()),
    ("failed_at", _TS), ("failure", pa.string()), ("tries", pa.int64()),
])  # fmt: skip
ATTEMPT_SCHEMA = pa.schema([
    ("seq", pa.int64()), ("action_id", pa.string()), ("at", _TS), ("method", pa.string()),
    ("endpoint", pa.string()), ("idempotency_key", pa.string()), ("status_code", pa.int64()),
    ("outcome", pa.string()), ("detail", pa.string()),
])  # fmt: skip


def mirror_to_warehouse(store: RemediationStore, con: duckdb.DuckDBPyConnection) -> int:
    """Replace ops.remediation_queue and ops.remediation_attempts from the store, in one
    transaction; returns the actions mirrored. The email the vendor was addressed by
    (target_key) stays in SQLite: QUEUE_SCHEMA does not name it."""
    actions = ops_table(store.actions(), QUEUE_SCHEMA)
    attempts = ops_table(store.attempts(), ATTEMPT_SCHEMA)
    replace_ops_tables(con, {"remediation_queue": actions, "remediation_attempts": attempts})
    return actions.num_rows


def seen_actions(con: duckdb.DuckDBPyConnection, sent: list[dict]) -> set[str]:
    """Ids of sent actions whose object is in this run's staging tables."""
    if not sent:
        return set()
    emails: set[str] = set()
    contact_ids: set[str] = set()  # an update by id is seen on its contact, whatever its email
    schema = _schema_of(con, "stg_hubspot__contacts")
    if schema:
        for contact_id, email, extra in con.execute(
            f"select contact_id, email, additional_emails from {schema}.stg_hubspot__contacts"
        ).fetchall():
            contact_ids.add(str(contact_id))
            emails.add((email or "").strip().lower())
            emails.update(e.strip().lower() for e in (extra or "").split(";") if e.strip())
    externals: set[str] = set()
    users: set[str] = set()
    schema = _schema_of(con, "stg_zendesk__tickets")
    if schema:
        externals = {
            r[0]
            for r in con.execute(
                f"select external_id from {schema}.stg_zendesk__tickets where external_id like ?",
                [EXTERNAL_PREFIX + "%"],
            ).fetchall()
        }
    schema = _schema_of(con, "stg_zendesk__users")
    if schema:
        users = {
            (r[0] or "").strip().lower()
            for r in con.execute(f"select email from {schema}.stg_zendesk__users").fetchall()
        }
    seen = set()
    for action in sent:
        if action["action"] == "zendesk_ticket":
            hit = EXTERNAL_PREFIX + action["conversion_id"] in externals
        elif action["action"] == "zendesk_flag":
            hit = action["target_key"] in users
        elif action.get("target_id"):
            hit = action["object_id"] in contact_ids or action["target_key"] in emails
        else:
            hit = action["target_key"] in emails
        if hit:
            seen.add(action["action_id"])
    return seen


def _schema_of(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    row = con.execute(
        "select table_schema from information_schema.tables where table_name = ? "
        "order by table_schema limit 1",
        [table],
    ).fetchone()
    return '"' + row[0].replace('"', '""') + '"' if row else None


@dataclass
class ConfirmReport:
    confirmed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requeued_items: list[str] = field(default_factory=list)
    mirrored: int = 0

    def line(self) -> str:
        return (
            f"remediation: {len(self.confirmed)} confirmed, {len(self.failed)} failed (unseen "
            f"after two runs), {len(self.requeued_items)} review items closed as requeued"
        )


def confirm_in_run(warehouse: Path, history: Path, as_of: datetime) -> ConfirmReport:
    """Confirm what this run sees, close review items, mirror; the warehouse is open once."""
    store = RemediationStore.in_history(history)
    report = ConfirmReport()
    con = duckdb.connect(str(warehouse))
    try:
        sent = store.actions(status="sent")
        seen = seen_actions(con, sent)
        report.confirmed, report.failed = store.confirm(seen, as_of)
        report.mirrored = mirror_to_warehouse(store, con)
    finally:
        con.close()
    if report.confirmed and (Path(history) / QUEUE_FILE).is_file():
        report.requeued_items = _close_review_items(Path(history), store, report.confirmed)
    return report


def _close_review_items(history: Path, store: RemediationStore, confirmed: list[str]) -> list:
    queue = QueueStore.in_history(history)
    by_action = {a["action_id"]: a for a in store.actions(status="confirmed")}
    conversions = {by_action[a]["conversion_id"] for a in confirmed if a in by_action}
    closed = []
    for item in queue.items(states=("open", "claimed")):
        if item["conversion_id"] not in conversions:
            continue
        try:
            queue.done(
                item["item_id"], SYSTEM_ACTOR, "requeued", note="re-sent by lead-parity remediate"
            )
            closed.append(item["item_id"])
        except QueueError:
            continue  # a person holds it: theirs to close
    return closed


EVALUATION_RULE = "remediation"


def evaluation_rows(store: RemediationStore, as_of: datetime) -> list[dict]:
    """ops.slo_evaluations rows of the `remediation` rule for this run, one per hop anything
    was ever sent at: breached when an action failed in this run (unseen two runs after it was
    sent), so the incidents layer opens one incident per hop and resolves it on the next run
    without a new failure. Empty when nothing was ever sent."""
    at = iso(as_of)
    by_hop: dict[str, list[dict]] = {}
    for action in store.actions():
        if action["sent_at"] is not None:
            by_hop.setdefault(action["hop"], []).append(action)
    rows = []
    for hop, actions in sorted(by_hop.items()):
        failed = [a for a in actions if a["status"] == "failed" and a["failed_at"] == at]
        rows.append(
            {
                "evaluated_at": as_of.astimezone(UTC).replace(tzinfo=None),
                "rule": EVALUATION_RULE,
                "scope": f"{EVALUATION_RULE}|{hop}",
                "conversion_date": None,
                "conversion_type": None,
                "origin": None,
                "hop": hop,
                "observed": float(len(failed)),
                "threshold": 0.0,
                "passed": not failed,
                "severity": "warning",
                "expected": len(actions),
                "dropped": len(failed),
                "details": json.dumps(
                    {
                        "failed_actions": [a["action_id"] for a in failed[:10]],
                        "sample_conversion_ids": [a["conversion_id"] for a in failed[:10]],
                    }
                ),
            }
        )
    return rows
