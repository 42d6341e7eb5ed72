"""Remediation actions, their batches and every attempt, in SQLite beside the warehouse.

Why SQLite and not the warehouse: a person approves a batch while a run holds the DuckDB writer
lock; the approval must be neither lost nor blocked. Like the review queue
(lead_parity/pipeline/review_queue/store.py) every method opens, does one short `BEGIN IMMEDIATE`
transaction and closes; a pipeline run mirrors the tables into ops.remediation_queue and
ops.remediation_attempts. dbt never touches this file, so it survives `--full-refresh`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lead_parity.pipeline.human_state import connect, from_iso, iso, transaction

STORE_FILE = "remediation.sqlite"
STATUSES = ("proposed", "approved", "rejected", "sent", "confirmed", "failed")
# Unseen by this many pipeline runs after it was sent, an action has failed.
UNSEEN_RUNS_LIMIT = 2

SCHEMA = """
create table if not exists batches (
    batch_id text primary key, planned_at text not null, planned_by text not null,
    snapshot_as_of text, actions integer not null);
create table if not exists actions (
    action_id text primary key, batch_id text not null, conversion_id text not null,
    lead_key text, hop text not null, root_cause text, conversion_type text,
    action text not null, target text not null, target_key text not null,
    status text not null, proposed_at text not null,
    decided_by text, decided_at text, sent_at text, object_id text,
    confirmed_at text, unseen_runs integer not null default 0, failed_at text, failure text,
    tries integer not null default 0, last_seen_as_of text, target_id text,
    unique (conversion_id, hop));
create table if not exists attempts (
    seq integer primary key autoincrement, action_id text not null, at text not null,
    method text not null, endpoint text not null, idempotency_key text,
    status_code integer, outcome text not null, detail text);
create index if not exists actions_batch on actions (batch_id, status);
"""


class RemediationError(ValueError):
    """A person's command cannot be applied; the message says why in one line."""


def action_id_for(conversion_id: str, hop: str) -> str:
    """Short and stable: one conversion and hop is one action, however often it is planned."""
    return "ra_" + hashlib.sha256(f"{conversion_id}|{hop}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Proposal:
    """One action the planner proposes (lead_parity/pipeline/remediation/planner.py)."""

    conversion_id: str
    lead_key: str | None
    hop: str
    root_cause: str | None
    conversion_type: str | None
    action: str  # hubspot_upsert, hubspot_flag, zendesk_ticket, zendesk_flag
    target: str  # hubspot or zendesk
    target_key: str  # the email the vendor's unique index resolves
    contact_id: str | None = None  # the HubSpot contact the identity spine knows: update by id

    @property
    def action_id(self) -> str:
        return action_id_for(self.conversion_id, self.hop)


def _name(by: str) -> str:
    name = (by or "").strip()
    if not name or len(name) > 100 or any(ch in name for ch in "\r\n\t"):
        raise RemediationError("--by needs a person's name (one line, up to 100 characters)")
    return name


class RemediationStore:
    """The SQLite file at `path`."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self._shared: sqlite3.Connection | None = None
        if not create and not self.path.is_file():
            raise RemediationError(
                f"no remediation plan at {self.path}; run `lead-parity remediate plan` first"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)
            # A store made before contact ids were planned: add the column, keep every row.
            columns = {r[1] for r in con.execute("pragma table_info(actions)")}
            if "target_id" not in columns:
                con.execute("alter table actions add column target_id text")

    @classmethod
    def in_history(cls, history_dir: Path, *, create: bool = True) -> RemediationStore:
        return cls(Path(history_dir) / STORE_FILE, create=create)

    def close(self) -> None:
        """Close the sender's bookkeeping connection (decisions never keep one open)."""
        if self._shared is not None:
            self._shared.close()
            self._shared = None

    @contextmanager
    def _connect(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        if not durable:
            # Reads and the sender's per-request marks: one kept connection, not an open and a
            # checkpoint-on-close each time.
            if self._shared is None:
                self._shared = connect(self.path, synchronous="normal")
            yield self._shared
            return
        # A decision acknowledged to a person must survive a power cut. The sender's
        # bookkeeping (above) survives a crashed process either way (WAL); losing its last
        # marks to a power cut is safe: an unmarked HubSpot upsert is idempotent, and a
        # ticket is always looked up before it is created.
        con = connect(self.path, synchronous="full")
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _tx(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        with self._connect(durable) as con, transaction(con):
            yield con

    # ---- planning and people's decisions ---------------------------------------------------

    def record_plan(
        self,
        proposals: Sequence[Proposal],
        *,
        by: str,
        at: datetime,
        snapshot_as_of: datetime | None,
        max_per_batch: int,
    ) -> list[str]:
        """Record proposals not planned before, in batches of at most `max_per_batch`;
        returns the new batch ids (none when every proposal was already recorded)."""
        by = _name(by)
        batches: list[str] = []
        with self._tx() as con:
            known = {r[0] for r in con.execute("select action_id from actions")}
            fresh = [p for p in proposals if p.action_id not in known]
            fresh = list({p.action_id: p for p in fresh}.values())
            for start in range(0, len(fresh), max_per_batch):
                chunk = fresh[start : start + max_per_batch]
                digest = hashlib.sha256(
                    ",".join(sorted(p.action_id for p in chunk)).encode()
                ).hexdigest()[:8]
                batch_id = f"rb_{at.astimezone(UTC):%Y%m%d}_{digest}"
                con.execute(
                    "insert into batches values (?, ?, ?, ?, ?)",
                    [batch_id, iso(at), by, iso(snapshot_as_of) if snapshot_as_of else None,
                     len(chunk)],
                )  # fmt: skip
                con.executemany(
                    "insert into actions (action_id, batch_id, conversion_id, lead_key, hop, "
                    "root_cause, conversion_type, action, target, target_key, target_id, status, "
                    "proposed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'proposed', ?)",
                    [
                        [p.action_id, batch_id, p.conversion_id, p.lead_key, p.hop, p.root_cause,
                         p.conversion_type, p.action, p.target, p.target_key, p.contact_id,
                         iso(at)]
                        for p in chunk
                    ],
                )  # fmt: skip
                batches.append(batch_id)
        return batches

    def approve(
        self,
        batch_id: str,
        by: str,
        *,
        hop: str | None = None,
        at: datetime | None = None,
        max_per_day: int,
    ) -> list[str]:
        """Approve the batch's proposed actions (only those at `hop` when given). Refused when
        the day's approvals would pass the contract's `remediation.max_per_day`."""
        return self._decide(batch_id, by, "approved", hop=hop, at=at, max_per_day=max_per_day)

    def reject(
        self, batch_id: str, by: str, *, hop: str | None = None, at: datetime | None = None
    ) -> list[str]:
        return self._decide(batch_id, by, "rejected", hop=hop, at=at, max_per_day=None)

    def _decide(
        self,
        batch_id: str,
        by: str,
        status: str,
        *,
        hop: str | None,
        at: datetime | None,
        max_per_day: int | None,
    ) -> list[str]:
        by = _name(by)
        at = at or datetime.now(UTC)
        with self._tx() as con:
            if not con.execute("select 1 from batches where batch_id = ?", [batch_id]).fetchone():
                raise RemediationError(f"no remediation batch {batch_id}")
            sql = "select action_id from actions where batch_id = ? and status = 'proposed'"
            params: list = [batch_id]
            if hop:
                sql += " and hop = ?"
                params.append(hop)
            ids = [r[0] for r in con.execute(sql + " order by action_id", params)]
            if not ids:
                scope = f" at hop {hop}" if hop else ""
                raise RemediationError(f"batch {batch_id} has no proposed action{scope} left")
            if max_per_day is not None:
                day = f"{at.astimezone(UTC):%Y-%m-%d}"
                today = con.execute(
                    "select count(*) from actions where status in "
                    "('approved', 'sent', 'confirmed', 'failed') and substr(decided_at, 1, 10) = ?",
                    [day],
                ).fetchone()[0]
                if today + len(ids) > max_per_day:
                    raise RemediationError(
                        f"approving {len(ids)} actions would pass remediation.max_per_day "
                        f"{max_per_day} ({today} already approved on {day}); narrow it with --only"
                    )
            con.executemany(
                "update actions set status = ?, decided_by = ?, decided_at = ? where action_id = ?",
                [[status, by, iso(at), action_id] for action_id in ids],
            )
        return ids

    # ---- the sender's bookkeeping -----------------------------------------------------------

    def approved(self, batch_id: str | None = None) -> list[dict]:
        sql = "select * from actions where status = 'approved'"
        params: list = []
        if batch_id:
            sql += " and batch_id = ?"
            params.append(batch_id)
        with self._connect(durable=False) as con:
            return [dict(r) for r in con.execute(sql + " order by action_id", params)]

    def sent_today(self, at: datetime) -> int:
        with self._connect(durable=False) as con:
            return con.execute(
                "select count(*) from actions where sent_at is not null "
                "and substr(sent_at, 1, 10) = ?",
                [f"{at.astimezone(UTC):%Y-%m-%d}"],
            ).fetchone()[0]

    def mark_trying(self, action_ids: Iterable[str]) -> None:
        """Before a write leaves: from now on the object may exist, so a later try reads first."""
        with self._tx(durable=False) as con:
            con.executemany(
                "update actions set tries = tries + 1 where action_id = ?",
                [[a] for a in action_ids],
            )

    def mark_sent(self, sent: dict[str, str], at: datetime) -> None:
        """`sent`: action id -> the vendor's object id. Only approved actions move."""
        with self._tx(durable=False) as con:
            con.executemany(
                "update actions set status = 'sent', sent_at = ?, object_id = ? "
                "where action_id = ? and status = 'approved'",
                [[iso(at), object_id, action_id] for action_id, object_id in sent.items()],
            )

    def record_attempt(
        self,
        action_ids: Sequence[str],
        *,
        method: str,
        endpoint: str,
        idempotency_key: str | None,
        status_code: int | None,
        outcome: str,
        detail: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Append one row per action the request carried (never a payload or a header)."""
        at_text = iso(at or datetime.now(UTC))
        with self._tx(durable=False) as con:
            con.executemany(
                "insert into attempts (action_id, at, method, endpoint, idempotency_key, "
                "status_code, outcome, detail) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [[a, at_text, method, endpoint, idempotency_key, status_code, outcome,
                  (detail or "")[:300] or None] for a in action_ids],
            )  # fmt: skip

    # ---- the pipeline run's confirmation ----------------------------------------------------

    def confirm(self, seen: set[str], as_of: datetime) -> tuple[list[str], list[str]]:
        """Sent actions whose object the run saw become confirmed; one unseen by
        UNSEEN_RUNS_LIMIT runs fails. The same as_of twice counts once."""
        confirmed: list[str] = []
        failed: list[str] = []
        at = iso(as_of)
        with self._tx() as con:
            rows = con.execute(
                "select action_id, unseen_runs, last_seen_as_of from actions where status = 'sent'"
            ).fetchall()
            for row in rows:
                if row["action_id"] in seen:
                    con.execute(
                        "update actions set status = 'confirmed', confirmed_at = ?, "
                        "last_seen_as_of = ? where action_id = ?",
                        [at, at, row["action_id"]],
                    )
                    confirmed.append(row["action_id"])
                    continue
                if row["last_seen_as_of"] is not None and row["last_seen_as_of"] >= at:
                    continue
                unseen = row["unseen_runs"] + 1
                if unseen >= UNSEEN_RUNS_LIMIT:
                    con.execute(
                        "update actions set status = 'failed', failed_at = ?, unseen_runs = ?, "
                        "last_seen_as_of = ?, failure = ? where action_id = ?",
                        [at, unseen, at, f"not seen by {unseen} pipeline runs after it was sent",
                         row["action_id"]],
                    )  # fmt: skip
                    failed.append(row["action_id"])
                else:
                    con.execute(
                        "update actions set unseen_runs = ?, last_seen_as_of = ? "
                        "where action_id = ?",
                        [unseen, at, row["action_id"]],
                    )
        return confirmed, failed

    # ---- reads ------------------------------------------------------------------------------

    def actions(self, batch_id: str | None = None, status: str | None = None) -> list[dict]:
        sql, params = "select * from actions where 1 = 1", []
        if batch_id:
            sql += " and batch_id = ?"
            params.append(batch_id)
        if status:
            sql += " and status = ?"
            params.append(status)
        with self._connect(durable=False) as con:
            return [dict(r) for r in con.execute(sql + " order by batch_id, action_id", params)]

    def attempts(self, action_id: str | None = None) -> list[dict]:
        sql, params = "select * from attempts", []
        if action_id:
            sql += " where action_id = ?"
            params.append(action_id)
        with self._connect(durable=False) as con:
            return [dict(r) for r in con.execute(sql + " order by seq", params)]

    def batches(self) -> list[dict]:
        with self._connect(durable=False) as con:
            rows = con.execute(
                "select b.batch_id, b.planned_at, b.planned_by, b.actions, "
                "a.status, count(*) as n from batches b join actions a using (batch_id) "
                "group by b.batch_id, a.status order by b.batch_id, a.status"
            ).fetchall()
        out: dict[str, dict] = {}
        for r in rows:
            entry = out.setdefault(
                r["batch_id"],
                {"batch_id": r["batch_id"], "planned_at": r["planned_at"],
                 "planned_by": r["planned_by"], "actions": r["actions"], "statuses": {}},
            )  # fmt: skip
            entry["statuses"][r["status"]] = r["n"]
        return list(out.values())

    def approved_batches(self) -> list[str]:
        """Batches with approved actions not sent yet: what the sensor launches."""
        with self._connect(durable=False) as con:
            return [
                r[0]
                for r in con.execute(
                    "select distinct batch_id from actions where status = 'approved' "
                    "order by batch_id"
                )
            ]

    def state_of(self, batch_id: str) -> str:
        """A digest of the batch's approved actions and tries: one state, one launched run."""
        with self._connect(durable=False) as con:
            rows = con.execute(
                "select action_id, tries from actions where batch_id = ? and status = 'approved' "
                "order by action_id",
                [batch_id],
            ).fetchall()
        return hashlib.sha256(json.dumps([list(r) for r in rows]).encode()).hexdigest()[:12]


def remediated_rows(history_dir: Path) -> list[tuple[str, str, datetime]]:
    """(conversion_id, hop, sent_at) of every sent action, for the models' `remediated_at`;
    empty when no plan was ever made (the store is not created by asking)."""
    path = Path(history_dir) / STORE_FILE
    if not path.is_file():
        return []
    store = RemediationStore(path, create=False)
    with store._connect() as con:
        rows = con.execute(
            "select conversion_id, hop, sent_at from actions where sent_at is not null "
            "order by conversion_id, hop"
        ).fetchall()
    return [(r[0], r[1], from_iso(r[2])) for r in rows]
