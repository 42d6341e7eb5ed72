"""Incident lifecycle and delivery outbox in SQLite, beside the warehouse (not in it).

Why not the warehouse: the sensor runs while pipeline runs need the DuckDB writer lock, and a
DuckDB file admits one writer process. SQLite in WAL mode takes many short transactions from
several processes (run, CLI, sensor) without holding anything between them.

Lifecycle: a finding opens an incident unless one with its dedup_key is open; an open incident
whose unit passes a later evaluation resolves; a later breach of that unit opens a new incident.
Every transition is an event in the outbox with one delivery row per sink configured when the
event was made; a delivery is marked delivered only after the sink answered 2xx.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lead_parity.pipeline.incidents.rules import SEVERITY_RANK, TAGS, Finding

STORE_FILE = "incidents.sqlite"
_EVENT_NAMESPACE = uuid.UUID("6f1c1d1e-7a55-4b8e-9d4e-1ead0a717e51")

SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists evaluations (
    evaluated_at text primary key, fingerprint text not null, processed_at text not null,
    source text not null,
    findings integer not null, opened integer not null, escalated integer not null,
    resolved integer not null, run_url text);
create table if not exists incidents (
    incident_id text primary key, dedup_key text not null, rule text not null,
    severity text not null, status text not null, scope text not null,
    conversion_date text, conversion_type text, origin text, hop text,
    opened_at text not null, resolved_at text, last_evaluated_at text not null,
    expected integer, dropped integer, discrepancy_pct real, observed real, threshold real,
    sample_conversion_ids text not null, owner text not null, tags text not null,
    run_url text, advice text not null, summary text not null);
create unique index if not exists incidents_one_open
    on incidents (dedup_key) where status = 'open';
create table if not exists events (
    seq integer primary key autoincrement, event_id text not null unique,
    incident_id text not null, dedup_key text not null, kind text not null,
    created_at text not null, payload text not null);
create table if not exists deliveries (
    id integer primary key, event_id text not null, sink text not null,
    attempts integer not null default 0, last_error text, last_status integer,
    next_attempt_at text not null, delivered_at text, lease_owner text, lease_until text,
    unique (event_id, sink));
create index if not exists deliveries_pending on deliveries (sink, delivered_at);
"""


def iso(ts: datetime) -> str:
    """Fixed-width UTC text, so text order is time order in SQLite."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def incident_id_for(dedup_key: str, opened_at: datetime, previous: int) -> str:
    # `previous` (incidents this unit had before) keeps ids apart when an evaluation is
    # replaced and the unit reopens at the same evaluated_at.
    text = f"{dedup_key}|{iso(opened_at)}|{previous}"
    return "inc_" + hashlib.sha256(text.encode()).hexdigest()[:20]


def event_id_for(incident_id: str, kind: str, evaluated_at: datetime) -> str:
    # Deterministic: re-processing the same evaluation cannot mint a second event id.
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{incident_id}|{kind}|{iso(evaluated_at)}"))


@dataclass(frozen=True)
class ApplyResult:
    evaluated_at: datetime
    skipped: str | None  # why nothing was done, None when the evaluation was applied
    opened: list[str]
    escalated: list[str]
    resolved: list[str]
    still_open: int


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: str
    sink: str
    attempts: int
    dedup_key: str
    kind: str
    payload: dict


class IncidentStore:
    """The SQLite file at `path`; every method opens, does one short transaction, closes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)  # idempotent DDL; executescript manages its own commit

    @classmethod
    def in_history(cls, history_dir: Path) -> IncidentStore:
        return cls(Path(history_dir) / STORE_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            con.execute("pragma journal_mode = wal")
            con.execute("pragma synchronous = full")  # a delivered mark must survive a crash
            con.execute("pragma busy_timeout = 30000")
            yield con
        finally:
            con.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con:
            con.execute("begin immediate")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")

    # ---- lifecycle -------------------------------------------------------------------------

    def last_applied(self) -> tuple[datetime | None, str | None]:
        """(evaluated_at, fingerprint) of the last applied evaluation."""
        with self._connect() as con:
            return _last(con)

    def apply(
        self,
        evaluated_at: datetime,
        findings: Sequence[Finding],
        passed_keys: set[str],
        *,
        samples: dict[str, list[str]],
        run_url: str | None,
        sinks: Sequence[str],
        source: str,
        fingerprint: str,
    ) -> ApplyResult:
        """Apply one evaluation; one older than the last applied, or that same one again with
        the same content, is a no-op. The same evaluated_at with other content (the evaluation
        was replaced) is applied again on top of the current state."""
        at = iso(evaluated_at)
        opened: list[str] = []
        escalated: list[str] = []
        resolved: list[str] = []
        with self._tx() as con:
            why = skip_reason(evaluated_at, fingerprint, *_last(con))
            if why:
                still = con.execute(
                    "select count(*) from incidents where status = 'open'"
                ).fetchone()[0]
                return ApplyResult(evaluated_at, why, [], [], [], still)
            open_rows = {
                r["dedup_key"]: r
                for r in con.execute("select * from incidents where status = 'open'")
            }
            for f in findings:
                current = open_rows.get(f.dedup_key)
                ids = json.dumps(samples.get(f.dedup_key, []))
                if current is None:
                    previous = con.execute(
                        "select count(*) from incidents where dedup_key = ?", [f.dedup_key]
                    ).fetchone()[0]
                    incident_id = incident_id_for(f.dedup_key, evaluated_at, previous)
                    con.execute(
                        "insert into incidents values (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, "
                        "null, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            incident_id,
                            f.dedup_key,
                            f.rule,
                            f.severity,
                            f.scope,
                            _date(f.conversion_date),
                            f.conversion_type,
                            f.origin,
                            f.hop,
                            at,
                            at,
                            f.expected,
                            f.dropped,
                            f.discrepancy_pct,
                            f.observed,
                            f.threshold,
                            ids,
                            f.owner,
                            TAGS,
                            run_url,
                            f.advice,
                            f.summary,
                        ],
                    )
                    self._event(con, incident_id, "trigger", evaluated_at, sinks)
                    opened.append(incident_id)
                    continue
                incident_id = current["incident_id"]
                worse = SEVERITY_RANK[f.severity] > SEVERITY_RANK[current["severity"]]
                # Figures follow the latest breached evaluation; severity only ever rises while
                # open, so a critical incident does not flap back to warning and re-page.
                con.execute(
                    "update incidents set last_evaluated_at = ?, expected = ?, dropped = ?, "
                    "discrepancy_pct = ?, observed = ?, threshold = ?, sample_conversion_ids = ?, "
                    "severity = ?, advice = ?, summary = ? where incident_id = ?",
                    [
                        at,
                        f.expected,
                        f.dropped,
                        f.discrepancy_pct,
                        f.observed,
                        f.threshold,
                        ids,
                        f.severity if worse else current["severity"],
                        f.advice if worse else current["advice"],
                        f.summary if worse else current["summary"],
                        incident_id,
                    ],
                )
                if worse:
                    self._event(con, incident_id, "escalate", evaluated_at, sinks)
                    escalated.append(incident_id)
            for key in sorted(passed_keys & open_rows.keys()):
                incident_id = open_rows[key]["incident_id"]
                con.execute(
                    "update incidents set status = 'resolved', resolved_at = ?, "
                    "last_evaluated_at = ? where incident_id = ?",
                    [at, at, incident_id],
                )
                self._event(con, incident_id, "resolve", evaluated_at, sinks)
                resolved.append(incident_id)
            con.execute("insert or replace into meta values ('last_evaluated_at', ?)", [at])
            con.execute("insert or replace into meta values ('last_fingerprint', ?)", [fingerprint])
            con.execute(
                "insert or replace into evaluations values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    at,
                    fingerprint,
                    iso(_now()),
                    source,
                    len(findings),
                    len(opened),
                    len(escalated),
                    len(resolved),
                    run_url,
                ],
            )
            still = con.execute("select count(*) from incidents where status = 'open'").fetchone()[
                0
            ]
        return ApplyResult(evaluated_at, None, opened, escalated, resolved, still)

    def _event(
        self,
        con: sqlite3.Connection,
        incident_id: str,
        kind: str,
        evaluated_at: datetime,
        sinks: Sequence[str],
    ) -> None:
        incident = _incident_dict(
            con.execute("select * from incidents where incident_id = ?", [incident_id]).fetchone()
        )
        event_id = event_id_for(incident_id, kind, evaluated_at)
        payload = {
            "event_id": event_id,
            "kind": kind,
            "occurred_at": iso(evaluated_at),
            "incident": incident,
        }
        con.execute(
            "insert into events (event_id, incident_id, dedup_key, kind, created_at, payload) "
            "values (?, ?, ?, ?, ?, ?)",
            [
                event_id,
                incident_id,
                incident["dedup_key"],
                kind,
                iso(evaluated_at),
                json.dumps(payload, sort_keys=True),
            ],
        )
        for sink in sinks:
            con.execute(
                "insert into deliveries (event_id, sink, next_attempt_at) values (?, ?, ?)",
                [event_id, sink, iso(_now())],
            )

    def incidents(self, status: str | None = None) -> list[dict]:
        sql = "select * from incidents"
        params: list = []
        if status:
            sql += " where status = ?"
            params.append(status)
        with self._connect() as con:
            rows = con.execute(sql + " order by opened_at, rowid", params).fetchall()
        return [_incident_dict(r) for r in rows]

    # ---- outbox ------------------------------------------------------------------------------

    def claim_next(
        self, sink: str, *, owner: str, lease_s: float, blocked: Sequence[str], due_only: bool
    ) -> Delivery | None:
        """Lease the oldest deliverable event for `sink`, or None.

        Per dedup_key events go out in order: a resolve never overtakes its trigger, also when
        another process holds the trigger's lease.
        """
        now = _now()
        skip = ", ".join("?" for _ in blocked)
        with self._tx() as con:
            row = con.execute(
                f"""
                select d.id, d.event_id, d.sink, d.attempts, e.dedup_key, e.kind, e.payload
                from deliveries d join events e using (event_id)
                where d.sink = ? and d.delivered_at is null
                  and (d.lease_until is null or d.lease_until < ?)
                  and (? = 0 or d.next_attempt_at <= ?)
                  {f"and e.dedup_key not in ({skip})" if blocked else ""}
                  and not exists (
                      select 1 from deliveries d2 join events e2 using (event_id)
                      where d2.sink = d.sink and d2.delivered_at is null
                        and e2.dedup_key = e.dedup_key and e2.seq < e.seq)
                order by e.seq
                limit 1
                """,
                [sink, iso(now), int(due_only), iso(now), *blocked],
            ).fetchone()
            if row is None:
                return None
            con.execute(
                "update deliveries set lease_owner = ?, lease_until = ? where id = ?",
                [owner, iso(now + timedelta(seconds=lease_s)), row["id"]],
            )
        return Delivery(
            row["id"],
            row["event_id"],
            row["sink"],
            row["attempts"],
            row["dedup_key"],
            row["kind"],
            json.loads(row["payload"]),
        )

    def mark_delivered(self, delivery: Delivery, status: int) -> None:
        with self._tx() as con:
            con.execute(
                "update deliveries set delivered_at = ?, attempts = attempts + 1, "
                "last_status = ?, last_error = null, lease_owner = null, lease_until = null "
                "where id = ?",
                [iso(_now()), status, delivery.id],
            )

    def mark_failed(
        self, delivery: Delivery, *, status: int | None, error: str, retry_in_s: float
    ) -> None:
        with self._tx() as con:
            con.execute(
                "update deliveries set attempts = attempts + 1, last_status = ?, last_error = ?, "
                "next_attempt_at = ?, lease_owner = null, lease_until = null where id = ?",
                [status, error[:500], iso(_now() + timedelta(seconds=retry_in_s)), delivery.id],
            )

    def release(self, delivery: Delivery) -> None:
        with self._tx() as con:
            con.execute(
                "update deliveries set lease_owner = null, lease_until = null where id = ?",
                [delivery.id],
            )

    def outbox(self) -> list[dict]:
        """Every delivery with its event, oldest first (for summaries and tests)."""
        with self._connect() as con:
            rows = con.execute(
                "select d.sink, d.event_id, e.kind, e.dedup_key, e.incident_id, d.attempts, "
                "d.last_status, d.last_error, d.delivered_at, d.next_attempt_at "
                "from deliveries d join events e using (event_id) order by e.seq, d.sink"
            ).fetchall()
        return [dict(r) for r in rows]

    def pending_due(self, sinks: Sequence[str]) -> int:
        """Undelivered deliveries for `sinks` whose retry time has come."""
        if not sinks:
            return 0
        marks = ", ".join("?" for _ in sinks)
        with self._connect() as con:
            return con.execute(
                f"select count(*) from deliveries where delivered_at is null and sink in ({marks})"
                " and next_attempt_at <= ?",
                [*sinks, iso(_now())],
            ).fetchone()[0]


def _last(con: sqlite3.Connection) -> tuple[datetime | None, str | None]:
    meta = dict(con.execute("select key, value from meta").fetchall())
    return from_iso(meta.get("last_evaluated_at")), meta.get("last_fingerprint")


def skip_reason(
    evaluated_at: datetime, fingerprint: str, last_at: datetime | None, last_fingerprint: str | None
) -> str | None:
    """Why an evaluation must not be applied, or None."""
    if last_at is None or evaluated_at > last_at:
        return None
    if evaluated_at < last_at:
        return f"older than the last applied evaluation {iso(last_at)}"
    return "already applied" if fingerprint == last_fingerprint else None


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _incident_dict(row: sqlite3.Row) -> dict:
    data = dict(row)
    data["sample_conversion_ids"] = json.loads(data["sample_conversion_ids"])
    return data
