"""Review items, their action history and the notification outbox, in SQLite beside the warehouse.

Why SQLite and not the warehouse: a person claims an item while a run holds the DuckDB writer
lock; the claim must be neither lost nor blocked. SQLite in WAL mode takes it at once from any
process; the next run mirrors the store into ops.review_queue. Every method opens, does one short
`BEGIN IMMEDIATE` transaction and closes. dbt never touches this file, so state survives
re-runs and `--full-refresh`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lead_parity.pipeline.human_state import SqliteStore, from_iso, iso
from lead_parity.pipeline.review_queue.evidence import Evidence
from lead_parity.pipeline.review_queue.settings import DUE_AFTER_S, REACHED, RESOLUTIONS

STORE_FILE = "review_queue.sqlite"
SYSTEM_ACTOR = "lead-parity"
_EVENT_NAMESPACE = uuid.UUID("0b7f3f5e-2c1e-4d43-9a51-6d2f0c3e9a11")

SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists items (
    item_id text primary key, kind text not null, conversion_id text not null,
    hop text not null, owner text not null, conversion_type text, origin text,
    intent_score real, evidence text not null,
    opened_at text not null, due_at text not null, state text not null,
    claimed_by text, claimed_at text, resolution text, closed_at text, closed_by text,
    note text, escalated_at text, escalation_owner text,
    first_seen_at text not null, notified text not null,
    unique (kind, conversion_id));
create table if not exists actions (
    seq integer primary key autoincrement, item_id text not null, action text not null,
    actor text not null, at text not null, resolution text, note text);
create table if not exists events (
    seq integer primary key autoincrement, event_id text not null unique,
    item_id text, kind text not null, recipient text not null, created_at text not null,
    payload text not null);
create table if not exists deliveries (
    id integer primary key, event_id text not null, sink text not null,
    attempts integer not null default 0, last_error text, last_status integer,
    delivered_at text, unique (event_id, sink));
"""


class QueueError(ValueError):
    """A person's action cannot be applied; the message says why in one line."""


def item_id_for(kind: str, conversion_id: str) -> str:
    """Short and stable: the same (kind, conversion_id) has the same id in every run."""
    return "rq_" + hashlib.sha256(f"{kind}|{conversion_id}".encode()).hexdigest()[:10]


def event_id_for(*parts: str) -> str:
    # Deterministic: re-running the same as_of cannot mint a second notification.
    return str(uuid.uuid5(_EVENT_NAMESPACE, "|".join(parts)))


@dataclass
class ApplyResult:
    as_of: datetime
    skipped: str | None = None
    opened: list[str] = field(default_factory=list)
    reached: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    digested: int = 0

    def line(self) -> str:
        if self.skipped:
            return f"review queue: as_of {iso(self.as_of)} not applied ({self.skipped})"
        return (
            f"review queue: {len(self.opened)} opened, {len(self.reached)} closed themselves "
            f"(reached), {len(self.escalated)} escalated, {self.digested} in the digest"
        )


class QueueStore(SqliteStore):
    """The SQLite file at `path`."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise QueueError(f"no review queue at {self.path}; run the pipeline first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)

    @classmethod
    def in_history(cls, history_dir: Path, *, create: bool = True) -> QueueStore:
        return cls(Path(history_dir) / STORE_FILE, create=create)

    # ---- the run -------------------------------------------------------------------------

    def last_as_of(self) -> datetime | None:
        with self._connect() as con:
            row = con.execute("select value from meta where key = 'last_as_of'").fetchone()
        return from_iso(row[0]) if row else None

    def apply(
        self,
        as_of: datetime,
        evidence: Sequence[Evidence],
        *,
        hop_owners: dict[str, str],
        escalation_owner: str,
        page_within_s: int,
        sinks: Sequence[str],
    ) -> ApplyResult:
        """Open, close (reached) and escalate items as known at `as_of`, in one transaction.

        Everything is keyed and dated by data time, so applying the same as_of again changes
        nothing; an as_of older than the last applied one is ignored (a rebuilt warehouse).
        """
        result = ApplyResult(as_of)
        at = iso(as_of)
        page_from = as_of - timedelta(seconds=page_within_s)
        digest: list[dict] = []
        with self._tx() as con:
            row = con.execute("select value from meta where key = 'last_as_of'").fetchone()
            if row and from_iso(row[0]) > as_of:
                result.skipped = f"older than the last applied as_of {row[0]}"
                return result
            known = {
                (r["kind"], r["conversion_id"]): r
                for r in con.execute("select kind, conversion_id, item_id, state from items")
            }
            for ev in evidence:
                current = known.get((ev.kind, ev.conversion_id))
                if ev.reached_at is not None:
                    if current is not None and current["state"] != "done":
                        closed = iso(max(ev.reached_at, ev.opened_at))
                        con.execute(
                            "update items set state = 'done', resolution = ?, closed_at = ?, "
                            "closed_by = ? where item_id = ?",
                            [REACHED, closed, SYSTEM_ACTOR, current["item_id"]],
                        )
                        _action(con, current["item_id"], "reached", SYSTEM_ACTOR, closed, REACHED)
                        result.reached.append(current["item_id"])
                    continue
                if current is not None:
                    continue
                item_id = item_id_for(ev.kind, ev.conversion_id)
                owner = hop_owners.get(ev.hop, escalation_owner)
                due = ev.opened_at + timedelta(seconds=DUE_AFTER_S[ev.kind])
                fresh = ev.opened_at >= page_from
                con.execute(
                    "insert into items (item_id, kind, conversion_id, hop, owner, conversion_type,"
                    " origin, intent_score, evidence, opened_at, due_at, state, first_seen_at,"
                    " notified) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
                    [
                        item_id, ev.kind, ev.conversion_id, ev.hop, owner, ev.conversion_type,
                        ev.origin, ev.intent_score, ev.evidence, iso(ev.opened_at), iso(due), at,
                        "message" if fresh else "digest",
                    ],
                )  # fmt: skip
                _action(con, item_id, "opened", SYSTEM_ACTOR, iso(ev.opened_at), None)
                result.opened.append(item_id)
                item = _item(con, item_id)
                if fresh:
                    self._event(con, item, "opened", owner, at, sinks)
                else:
                    digest.append({**item, "digest_reason": "opened"})
            overdue = con.execute(
                "select item_id from items where state != 'done' and escalated_at is null "
                "and due_at <= ? order by due_at, item_id",
                [at],
            ).fetchall()
            for (item_id,) in overdue:
                con.execute(
                    "update items set escalated_at = ?, escalation_owner = ? where item_id = ?",
                    [at, escalation_owner, item_id],
                )
                _action(con, item_id, "escalated", SYSTEM_ACTOR, at, None, escalation_owner)
                result.escalated.append(item_id)
                item = _item(con, item_id)
                if from_iso(item["opened_at"]) >= page_from:
                    self._event(con, item, "escalated", escalation_owner, at, sinks)
                else:
                    digest.append({**item, "digest_reason": "escalated"})
            if digest:
                self._digest(con, digest, escalation_owner, at, sinks)
                result.digested = len(digest)
            con.execute("insert or replace into meta values ('last_as_of', ?)", [at])
        return result

    def open_items(
        self,
        found: Sequence[Evidence],
        *,
        hop_owners: dict[str, str],
        escalation_owner: str,
        sinks: Sequence[str],
        at: datetime,
    ) -> list[str]:
        """Open items a person's command found (remediation's merge candidates), never twice;
        the next run's queue step escalates and mirrors them like any other item."""
        opened: list[str] = []
        seen_at = iso(at)
        with self._tx() as con:
            for ev in found:
                item_id = item_id_for(ev.kind, ev.conversion_id)
                if con.execute("select 1 from items where item_id = ?", [item_id]).fetchone():
                    continue
                owner = hop_owners.get(ev.hop, escalation_owner)
                due = ev.opened_at + timedelta(seconds=DUE_AFTER_S[ev.kind])
                con.execute(
                    "insert into items (item_id, kind, conversion_id, hop, owner, conversion_type,"
                    " origin, intent_score, evidence, opened_at, due_at, state, first_seen_at,"
                    " notified) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, 'message')",
                    [
                        item_id, ev.kind, ev.conversion_id, ev.hop, owner, ev.conversion_type,
                        ev.origin, ev.intent_score, ev.evidence, iso(ev.opened_at), iso(due),
                        seen_at,
                    ],
                )  # fmt: skip
                _action(con, item_id, "opened", SYSTEM_ACTOR, iso(ev.opened_at), None)
                self._event(con, _item(con, item_id), "opened", owner, seen_at, sinks)
                opened.append(item_id)
        return opened

    def _event(
        self,
        con: sqlite3.Connection,
        item: dict,
        kind: str,
        recipient: str,
        at: str,
        sinks: Sequence[str],
    ) -> None:
        event_id = event_id_for(item["item_id"], kind)
        payload = {
            "event_id": event_id,
            "kind": kind,
            "occurred_at": at,
            "recipient": recipient,
            "item": item,
        }
        self._insert_event(con, event_id, item["item_id"], kind, recipient, at, payload, sinks)

    def _digest(
        self, con: sqlite3.Connection, items: list[dict], recipient: str, at: str, sinks
    ) -> None:
        ids = sorted(f"{i['item_id']}:{i['digest_reason']}" for i in items)
        event_id = event_id_for("digest", at, *ids)
        by_owner: dict[str, int] = {}
        for i in items:
            by_owner[i["owner"]] = by_owner.get(i["owner"], 0) + 1
        payload = {
            "event_id": event_id,
            "kind": "digest",
            "occurred_at": at,
            "recipient": recipient,
            "opened": sum(1 for i in items if i["digest_reason"] == "opened"),
            "escalated": sum(1 for i in items if i["digest_reason"] == "escalated"),
            "by_owner": by_owner,
            "items": items[:20],
        }
        self._insert_event(con, event_id, None, "digest", recipient, at, payload, sinks)

    @staticmethod
    def _insert_event(con, event_id, item_id, kind, recipient, at, payload, sinks) -> None:
        cur = con.execute(
            "insert or ignore into events (event_id, item_id, kind, recipient, created_at, "
            "payload) values (?, ?, ?, ?, ?, ?)",
            [event_id, item_id, kind, recipient, at, json.dumps(payload, sort_keys=True)],
        )
        if cur.rowcount:
            for sink in sinks:
                con.execute(
                    "insert or ignore into deliveries (event_id, sink) values (?, ?)",
                    [event_id, sink],
                )

    # ---- people --------------------------------------------------------------------------

    def claim(self, item_id: str, by: str, at: datetime | None = None) -> dict:
        """Take an open item; claiming one's own claim again is a no-op."""
        by = _name(by)
        when = iso(at or datetime.now(UTC))
        with self._tx() as con:
            item = _find(con, item_id)
            if item["state"] == "done":
                raise QueueError(f"item {item_id} is already done ({item['resolution']})")
            if item["state"] == "claimed":
                if item["claimed_by"] == by:
                    return item
                raise QueueError(f"item {item_id} is already claimed by {item['claimed_by']}")
            con.execute(
                "update items set state = 'claimed', claimed_by = ?, claimed_at = ? "
                "where item_id = ?",
                [by, when, item_id],
            )
            _action(con, item_id, "claimed", by, when, None)
            return _item(con, item_id)

    def done(
        self,
        item_id: str,
        by: str,
        resolution: str,
        note: str | None = None,
        at: datetime | None = None,
    ) -> dict:
        """Close an item with a person's resolution (an open item is claimed on the way)."""
        by = _name(by)
        if resolution not in RESOLUTIONS:
            raise QueueError(f"resolution {resolution!r} is not one of {', '.join(RESOLUTIONS)}")
        when = iso(at or datetime.now(UTC))
        with self._tx() as con:
            item = _find(con, item_id)
            if item["state"] == "done":
                if item["resolution"] == resolution and item["closed_by"] == by:
                    return item
                raise QueueError(
                    f"item {item_id} is already done ({item['resolution']} by {item['closed_by']})"
                )
            if item["state"] == "claimed" and item["claimed_by"] != by:
                raise QueueError(f"item {item_id} is claimed by {item['claimed_by']}")
            con.execute(
                "update items set state = 'done', claimed_by = coalesce(claimed_by, ?), "
                "claimed_at = coalesce(claimed_at, ?), resolution = ?, closed_at = ?, "
                "closed_by = ?, note = ? where item_id = ?",
                [by, when, resolution, when, by, note, item_id],
            )
            _action(con, item_id, "done", by, when, resolution, note)
            return _item(con, item_id)

    # ---- reading ---------------------------------------------------------------------------

    def items(
        self,
        *,
        states: Sequence[str] | None = None,
        owner: str | None = None,
        kind: str | None = None,
    ) -> list[dict]:
        """Items, oldest due first."""
        sql, params = "select * from items where 1 = 1", []
        if states:
            sql += f" and state in ({', '.join('?' for _ in states)})"
            params.extend(states)
        if owner:
            sql += " and (owner = ? or escalation_owner = ?)"
            params.extend([owner, owner])
        if kind:
            sql += " and kind = ?"
            params.append(kind)
        with self._connect() as con:
            rows = con.execute(sql + " order by due_at, item_id", params).fetchall()
        return [dict(r) for r in rows]

    def item(self, item_id: str) -> dict:
        with self._connect() as con:
            return _find(con, item_id)

    def actions(self, item_id: str | None = None) -> list[dict]:
        sql, params = "select * from actions", []
        if item_id:
            sql += " where item_id = ?"
            params.append(item_id)
        with self._connect() as con:
            return [dict(r) for r in con.execute(sql + " order by seq", params).fetchall()]

    # ---- outbox ----------------------------------------------------------------------------

    def pending(self, sinks: Sequence[str]) -> list[dict]:
        """Undelivered deliveries for `sinks`, oldest event first."""
        if not sinks:
            return []
        marks = ", ".join("?" for _ in sinks)
        with self._connect() as con:
            rows = con.execute(
                "select d.id, d.sink, d.attempts, e.event_id, e.kind, e.recipient, e.payload "
                "from deliveries d join events e using (event_id) "
                f"where d.delivered_at is null and d.sink in ({marks}) order by e.seq, d.sink",
                list(sinks),
            ).fetchall()
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    def mark(self, delivery_id: int, *, ok: bool, status: int | None, error: str | None) -> None:
        with self._tx() as con:
            con.execute(
                "update deliveries set attempts = attempts + 1, last_status = ?, last_error = ?, "
                "delivered_at = case when ? then ? else delivered_at end where id = ?",
                [status, error, int(ok), iso(datetime.now(UTC)), delivery_id],
            )

    def outbox(self) -> list[dict]:
        with self._connect() as con:
            rows = con.execute(
                "select d.sink, e.event_id, e.kind, e.recipient, e.item_id, d.attempts, "
                "d.last_status, d.last_error, d.delivered_at "
                "from deliveries d join events e using (event_id) order by e.seq, d.sink"
            ).fetchall()
        return [dict(r) for r in rows]


def _name(by: str) -> str:
    name = (by or "").strip()
    if not name:
        raise QueueError("--by needs a name")
    return name


def _find(con: sqlite3.Connection, item_id: str) -> dict:
    row = con.execute("select * from items where item_id = ?", [item_id]).fetchone()
    if row is None:
        raise QueueError(f"no review item {item_id!r}")
    return dict(row)


def _item(con: sqlite3.Connection, item_id: str) -> dict:
    return dict(con.execute("select * from items where item_id = ?", [item_id]).fetchone())


def _action(
    con: sqlite3.Connection,
    item_id: str,
    action: str,
    actor: str,
    at: str,
    resolution: str | None,
    note: str | None = None,
) -> None:
    con.execute(
        "insert into actions (item_id, action, actor, at, resolution, note) "
        "values (?, ?, ?, ?, ?, ?)",
        [item_id, action, actor, at, resolution, note],
    )
