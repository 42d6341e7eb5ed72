"""Incident lifecycle, people's actions and the delivery outbox in SQLite, beside the warehouse.

Why not the warehouse: the sensor, the delivery job and `lead-parity incidents ack` run while
pipeline runs need the DuckDB writer lock, and a DuckDB file admits one writer process. SQLite in
WAL mode takes many short transactions from several processes without holding anything between
them; each run folds the store into `ops.incidents` and `ops.incident_events`, so the state and
its history survive re-runs and `--full-refresh` (SPEC section 9).

Lifecycle (episodes, not days): the final units of one scope (rule + hop + slice) are taken in
date order, each day once (a per-scope watermark). A breached day opens an incident unless one is
open for the scope, and extends it otherwise; the first passing final day resolves it, once.
Days more than `alerting.page_within` before as_of are recorded with notified = 'digest' and
summed up in one digest event per evaluation. Every notification is an event in the outbox with
one delivery row per sink it goes to; a delivery is marked delivered only after a 2xx.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lead_parity.pipeline.human_state import SqliteStore, from_iso, iso
from lead_parity.pipeline.incidents.rules import SEVERITY_RANK, TAGS, Finding, Judgement, Unit

STORE_FILE = "incidents.sqlite"
SCHEMA_VERSION = 3
SYSTEM_ACTOR = "lead-parity"
PAGER = "pagerduty"
DIGEST_LIMIT = 50  # incidents listed in one digest message; the rest are counted
_EVENT_NAMESPACE = uuid.UUID("6f1c1d1e-7a55-4b8e-9d4e-1ead0a717e51")

SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists evaluations (
    evaluated_at text primary key, fingerprint text not null, processed_at text not null,
    source text not null,
    findings integer not null, opened integer not null, escalated integer not null,
    resolved integer not null, run_url text);
create table if not exists incidents (
    incident_id text primary key, dedup_key text not null, scope_key text not null,
    rule text not null, severity text not null, status text not null, scope text not null,
    conversion_type text, origin text, hop text,
    first_breach_date text, last_breach_date text, days_breached integer not null,
    opened_at text not null, resolved_at text, last_evaluated_at text not null,
    expected integer, dropped integer, discrepancy_pct real, observed real, threshold real,
    worth real not null, sample_conversion_ids text not null, owner text not null,
    escalation_owner text not null, tags text not null, run_url text, advice text not null,
    summary text not null, notified text not null, notified_at text,
    sent_to text not null default '[]', acknowledged_at text, acknowledged_by text,
    resolved_by text, escalated_at text);
create unique index if not exists incidents_one_live
    on incidents (scope_key) where status != 'resolved';
create table if not exists scopes (scope_key text primary key, last_final_date text);
create table if not exists incident_events (
    seq integer primary key autoincrement, incident_id text not null, at text not null,
    actor text not null, action text not null, note text, details text not null);
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


def _now() -> datetime:
    return datetime.now(UTC)


def event_id_for(incident_id: str, kind: str, evaluated_at: datetime) -> str:
    # Deterministic: re-processing the same evaluation cannot mint a second event id.
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{incident_id}|{kind}|{iso(evaluated_at)}"))


class IncidentStateError(ValueError):
    """A person's action that does not apply (unknown id, ack of a resolved incident)."""


@dataclass(frozen=True)
class Policy:
    """The contract settings the lifecycle needs (SPEC section 9)."""

    page_within_s: int = 2 * 86400
    escalation_owner: str = "cro"
    ack_within_s: int = 1800
    critical_discrepancy_pct: float = 5.0


@dataclass(frozen=True)
class ApplyResult:
    evaluated_at: datetime
    skipped: str | None  # why nothing was done, None when the evaluation was applied
    opened: list[str]
    escalated: list[str]  # severity rose to critical while open
    resolved: list[str]
    still_open: int
    digest: list[str] = ()  # opened as history: recorded, summed up in one digest, never paged
    notified: list[str] = ()  # incidents a trigger went out for in this evaluation
    pause_requested: list[str] = ()  # campaign slices asked to pause (campaign_pause event)


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: str
    sink: str
    attempts: int
    dedup_key: str
    kind: str
    payload: dict


class IncidentStore(SqliteStore):
    """The SQLite file at `path`; every method opens, does one short transaction, closes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            if con.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # the usual case (every sensor tick, every CLI call): no write at all
        with self._tx() as con:
            _migrate(con)
        with self._connect() as con:
            con.executescript(SCHEMA)  # idempotent DDL; executescript manages its own commit
            _add_columns(con)
            con.execute(f"pragma user_version = {SCHEMA_VERSION}")

    @classmethod
    def in_history(cls, history_dir: Path) -> IncidentStore:
        return cls(Path(history_dir) / STORE_FILE)

    # ---- lifecycle -------------------------------------------------------------------------

    def last_applied(self) -> tuple[datetime | None, str | None]:
        """(evaluated_at, fingerprint) of the last applied evaluation."""
        with self._connect() as con:
            return _last(con)

    def watermarks(self) -> dict[str, date]:
        """Latest final day taken per episode scope: older days are never taken again."""
        with self._connect() as con:
            rows = con.execute("select scope_key, last_final_date from scopes").fetchall()
        return {r[0]: date.fromisoformat(r[1]) for r in rows if r[1]}

    def apply(
        self,
        evaluated_at: datetime,
        judgement: Judgement,
        *,
        samples: dict[tuple[str, date | None], list[str]],
        run_url: str | None,
        sinks: Sequence[str],
        source: str,
        fingerprint: str,
        policy: Policy | None = None,
    ) -> ApplyResult:
        """Apply one evaluation; one older than the last applied, or that same one again with
        the same content, is a no-op. The same evaluated_at with other content (the evaluation
        was replaced) is applied again on top of the current state."""
        run = _Apply(evaluated_at, samples, run_url, list(sinks), policy or Policy())
        with self._tx() as con:
            why = skip_reason(evaluated_at, fingerprint, *_last(con))
            if why:
                return ApplyResult(evaluated_at, why, [], [], [], _live_count(con))
            run.con = con
            # Day totals before their slices: a hop's total is the one that pages when both break.
            for key in sorted(judgement.units, key=_scope_order):
                run.scope(key, judgement.units[key])
            run.digest_event()
            at = iso(evaluated_at)
            con.execute("insert or replace into meta values ('last_evaluated_at', ?)", [at])
            con.execute("insert or replace into meta values ('last_fingerprint', ?)", [fingerprint])
            con.execute(
                "insert or replace into evaluations values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    at,
                    fingerprint,
                    iso(_now()),
                    source,
                    len(judgement.findings),
                    len(run.opened),
                    len(run.escalated),
                    len(run.resolved),
                    run_url,
                ],
            )
            still = _live_count(con)
        return ApplyResult(
            evaluated_at,
            None,
            run.opened,
            run.escalated,
            run.resolved,
            still,
            run.digest,
            run.notified,
            run.pause_requested,
        )

    # ---- people's actions --------------------------------------------------------------------

    def acknowledge(
        self, incident_id: str, *, by: str, note: str | None, sinks: Sequence[str],
        at: datetime | None = None,
    ) -> tuple[dict, bool]:  # fmt: skip
        """Acknowledge an open incident: no more re-notification or escalation. Returns the
        incident and whether anything changed (acknowledging twice is not an error)."""
        at = at or _now()
        with self._tx() as con:
            inc = _get(con, incident_id)
            if inc["status"] == "resolved":
                raise IncidentStateError(
                    f"incident {incident_id} is resolved ({inc['resolved_at']}); nothing to ack"
                )
            if inc["status"] == "acknowledged":
                return _incident_dict(inc), False
            con.execute(
                "update incidents set status = 'acknowledged', acknowledged_at = ?, "
                "acknowledged_by = ? where incident_id = ?",
                [iso(at), by, incident_id],
            )
            _history(con, incident_id, at, by, "acknowledged", note, {})
            targets = [s for s in json.loads(inc["sent_to"]) if s in sinks]
            _event(con, incident_id, "acknowledge", at, targets, {"by": by, "note": note})
            return _incident_dict(_get(con, incident_id)), True

    def resolve(
        self, incident_id: str, *, by: str, note: str | None, sinks: Sequence[str],
        at: datetime | None = None, postmortem: str | None = None,
    ) -> tuple[dict, bool]:  # fmt: skip
        """Resolve by hand; the scope opens a new incident only on a later breached final day.
        An incident that asked to pause a campaign needs `postmortem` (the write-up's URL)."""
        at = at or _now()
        with self._tx() as con:
            inc = _get(con, incident_id)
            if inc["status"] == "resolved":
                return _incident_dict(inc), False
            if postmortem is not None and not postmortem.startswith(("https://", "http://")):
                raise IncidentStateError(f"--postmortem must be an http(s) URL, not {postmortem!r}")
            if inc["postmortem_required"] and not (postmortem or inc["postmortem_url"]):
                raise PostmortemRequired(
                    f"incident {incident_id} asked to pause campaign {inc['origin']!r}; resolve "
                    "it with --postmortem URL (the postmortem's link)"
                )
            if postmortem:
                con.execute(
                    "update incidents set postmortem_url = ? where incident_id = ?",
                    [postmortem, incident_id],
                )
                _history(con, incident_id, at, by, "postmortem", None, {"url": postmortem})
            _resolve(con, _get(con, incident_id), at, by, note, sinks)
            return _incident_dict(_get(con, incident_id)), True

    def announce_review(
        self, kind: str, label: str, link: str, figures: dict, sinks: Sequence[str],
        at: datetime | None = None,
    ) -> bool:  # fmt: skip
        """Queue one chat message (Slack, webhook) linking a weekly or monthly review; the same
        review (kind, label) is announced once however often it is rendered. True if queued."""
        at = at or _now()
        key = f"lead-parity/review/{kind}/{label}"
        event_id = event_id_for("review", key, datetime(2000, 1, 1, tzinfo=UTC))
        payload = {
            "event_id": event_id,
            "kind": "review",
            "occurred_at": iso(at),
            "review": {"kind": kind, "period": label, "link": link, "figures": figures},
        }
        targets = [s for s in sinks if s != PAGER]
        with self._tx() as con:
            known = con.execute("select 1 from events where event_id = ?", [event_id]).fetchone()
            if known or not targets:
                return False
            _insert_event(con, event_id, "review", key, "review", at, payload, targets)
            return True

    def escalate_due(self, now: datetime, policy: Policy, sinks: Sequence[str]) -> list[str]:
        """Tell the escalation owner about critical incidents paged at least `ack_within` ago
        and still not acknowledged; once per incident. Returns their ids."""
        due_before = iso(now - timedelta(seconds=policy.ack_within_s))
        done = []
        with self._tx() as con:
            rows = con.execute(
                "select * from incidents where status = 'open' and severity = 'critical' "
                "and notified = 'paged' and escalated_at is null and notified_at <= ? "
                "order by notified_at, incident_id",
                [due_before],
            ).fetchall()
            for inc in rows:
                con.execute(
                    "update incidents set escalated_at = ? where incident_id = ?",
                    [iso(now), inc["incident_id"]],
                )
                _history(
                    con, inc["incident_id"], now, SYSTEM_ACTOR, "escalated",
                    f"not acknowledged within {policy.ack_within_s // 60} min",
                    {"escalation_owner": inc["escalation_owner"]},
                )  # fmt: skip
                # The escalation owner reads chat; the pager already carries the incident.
                targets = [s for s in sinks if s != PAGER]
                _event(con, inc["incident_id"], "escalate_owner", now, targets)
                done.append(inc["incident_id"])
        return done

    def due_escalations(self, now: datetime, policy: Policy) -> list[str]:
        """Ids `escalate_due` would act on at `now` (read-only, for the sensor)."""
        with self._connect() as con:
            rows = con.execute(
                "select incident_id from incidents where status = 'open' "
                "and severity = 'critical' and notified = 'paged' and escalated_at is null "
                "and notified_at <= ? order by incident_id",
                [iso(now - timedelta(seconds=policy.ack_within_s))],
            ).fetchall()
        return [r[0] for r in rows]

    def incident(self, incident_id: str) -> dict:
        with self._connect() as con:
            return _incident_dict(_get(con, incident_id))

    def incidents(self, status: str | None = None) -> list[dict]:
        """Incidents, oldest first; status `live` means open or acknowledged."""
        sql = "select * from incidents"
        params: list = []
        if status == "live":
            sql += " where status != 'resolved'"
        elif status:
            sql += " where status = ?"
            params.append(status)
        with self._connect() as con:
            rows = con.execute(sql + " order by opened_at, rowid", params).fetchall()
        return [_incident_dict(r) for r in rows]

    def history(self, incident_id: str | None = None) -> list[dict]:
        """ops.incident_events: who did what to which incident, when (oldest first)."""
        sql = "select * from incident_events"
        params: list = []
        if incident_id:
            sql += " where incident_id = ?"
            params.append(incident_id)
        with self._connect() as con:
            rows = con.execute(sql + " order by seq", params).fetchall()
        out = []
        for r in rows:
            row = dict(r)
            row["details"] = json.loads(row["details"])
            out.append(row)
        return out

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

    def outbox_state(self, sinks: Sequence[str]) -> str:
        """Changes whenever an event is queued or a delivery attempted: a sensor's run key, so
        one state of the outbox launches one delivery run."""
        marks = ", ".join("?" for _ in sinks) or "null"
        with self._connect() as con:
            seq, attempts = con.execute(
                "select coalesce(max(e.seq), 0), coalesce(sum(d.attempts), 0) "
                f"from deliveries d join events e using (event_id) where d.sink in ({marks})",
                list(sinks),
            ).fetchone()
        return f"{seq}.{attempts}"

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
    data["sent_to"] = json.loads(data["sent_to"])
    data["postmortem_required"] = bool(data.get("postmortem_required"))
    return data


def _live_count(con: sqlite3.Connection) -> int:
    return con.execute("select count(*) from incidents where status != 'resolved'").fetchone()[0]


def _get(con: sqlite3.Connection, incident_id: str) -> sqlite3.Row:
    row = con.execute("select * from incidents where incident_id = ?", [incident_id]).fetchone()
    if row is None:
        raise IncidentStateError(f"no incident {incident_id!r} (lead-parity incidents list)")
    return row


def _migrate(con: sqlite3.Connection) -> None:
    """A store of the day-per-incident version keeps its rows aside, never mixed with episodes."""
    version = con.execute("pragma user_version").fetchone()[0]
    columns = {r[1] for r in con.execute("pragma table_info(incidents)")}
    if version < SCHEMA_VERSION and columns and "scope_key" not in columns:
        con.execute("drop index if exists incidents_one_open")
        con.execute("alter table incidents rename to incidents_v1")


# Columns added after version 2: (name, DDL). A store of version 2 gains them in place.
ADDED_COLUMNS = (
    # The playbook's >5% mismatch on a campaign: pause requested, postmortem before resolving.
    ("postmortem_required", "integer not null default 0"),
    ("postmortem_url", "text"),
)


def _add_columns(con: sqlite3.Connection) -> None:
    present = {r[1] for r in con.execute("pragma table_info(incidents)")}
    for name, ddl in ADDED_COLUMNS:
        if name not in present:
            con.execute(f"alter table incidents add column {name} {ddl}")


class PostmortemRequired(IncidentStateError):
    """A campaign-pause incident resolved without a postmortem link."""


def is_campaign_slice(origin: str | None) -> bool:
    return origin not in (None, "", "all")


def _scope_order(key: str) -> tuple[int, str]:
    scope = key.split("/", 2)[-1]
    return sum(1 for part in scope.split("|") if part not in ("all", "")), key


def _short_id(con: sqlite3.Connection, seed: str) -> str:
    """A short id derived from the episode, so it is the same wherever the history is replayed;
    lengthened only in the rare case of a collision."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    for size in (8, 12, 16, 64):
        candidate = "inc-" + digest[:size]
        if not con.execute("select 1 from incidents where incident_id = ?", [candidate]).fetchone():
            return candidate
    raise RuntimeError("incident id collision")  # sha256 of distinct seeds: unreachable


def _history(
    con: sqlite3.Connection, incident_id: str, at: datetime, actor: str, action: str,
    note: str | None, details: dict,
) -> None:  # fmt: skip
    con.execute(
        "insert into incident_events (incident_id, at, actor, action, note, details) "
        "values (?, ?, ?, ?, ?, ?)",
        [incident_id, iso(at), actor, action, note, json.dumps(details, sort_keys=True)],
    )


def _event(
    con: sqlite3.Connection, incident_id: str, kind: str, at: datetime, targets: Sequence[str],
    extra: dict | None = None,
) -> None:  # fmt: skip
    """One outbox event with a delivery row per target sink (none: recorded, sent nowhere)."""
    if not targets:
        return
    incident = _incident_dict(_get(con, incident_id))
    event_id = event_id_for(incident_id, kind, at)
    payload = {
        "event_id": event_id,
        "kind": kind,
        "occurred_at": iso(at),
        "incident": incident,
        **(extra or {}),
    }
    _insert_event(con, event_id, incident_id, incident["dedup_key"], kind, at, payload, targets)


def _insert_event(
    con: sqlite3.Connection, event_id: str, incident_id: str, dedup_key: str, kind: str,
    at: datetime, payload: dict, targets: Sequence[str],
) -> None:  # fmt: skip
    inserted = con.execute(
        "insert or ignore into events (event_id, incident_id, dedup_key, kind, created_at, "
        "payload) values (?, ?, ?, ?, ?, ?)",
        [event_id, incident_id, dedup_key, kind, iso(at), json.dumps(payload, sort_keys=True)],
    ).rowcount
    if not inserted:
        return  # a replaced evaluation made the same event again: it is already queued
    for sink in targets:
        con.execute(
            "insert into deliveries (event_id, sink, next_attempt_at) values (?, ?, ?)",
            [event_id, sink, iso(_now())],
        )


def _resolve(
    con: sqlite3.Connection, inc: sqlite3.Row, at: datetime, by: str, note: str | None,
    sinks: Sequence[str],
) -> None:  # fmt: skip
    con.execute(
        "update incidents set status = 'resolved', resolved_at = ?, resolved_by = ?, "
        "last_evaluated_at = max(last_evaluated_at, ?) where incident_id = ?",
        [iso(at), by, iso(at), inc["incident_id"]],
    )
    _history(con, inc["incident_id"], at, by, "resolved", note, {})
    if inc["notified"] != "digest":
        # A resolve goes where the trigger went; PagerDuty closes the page under its dedup_key.
        targets = [s for s in json.loads(inc["sent_to"]) if s in sinks]
        _event(con, inc["incident_id"], "resolve", at, targets, {"by": by, "note": note})


class _Apply:
    """One evaluation being applied inside one transaction (see IncidentStore.apply)."""

    def __init__(self, at: datetime, samples: dict, run_url: str | None, sinks: list[str],
                 policy: Policy) -> None:  # fmt: skip
        self.at = at
        self.samples = samples
        self.run_url = run_url
        self.sinks = sinks
        self.policy = policy
        self.con: sqlite3.Connection
        self.opened: list[str] = []
        self.escalated: list[str] = []
        self.resolved: list[str] = []
        self.digest: list[str] = []
        self.notified: list[str] = []
        self.pause_requested: list[str] = []

    def recent(self, unit: Unit) -> bool:
        """A breach of a day within page_within of as_of pages; older ones are history."""
        if unit.conversion_date is None:
            return True
        age = self.at.astimezone(UTC).date() - unit.conversion_date
        return age.total_seconds() <= self.policy.page_within_s

    def live(self, key: str) -> sqlite3.Row | None:
        return self.con.execute(
            "select * from incidents where scope_key = ? and status != 'resolved'", [key]
        ).fetchone()

    def scope(self, key: str, units: list[Unit]) -> None:
        con = self.con
        row = con.execute("select last_final_date from scopes where scope_key = ?", [key])
        mark = (row.fetchone() or [None])[0]
        watermark = date.fromisoformat(mark) if mark else None
        for unit in units:
            new = (
                unit.conversion_date is None
                or watermark is None
                or (unit.conversion_date > watermark)
            )
            inc = self.live(key)
            if not new:
                # A day already taken: only refreshes the figures of the episode it belongs to.
                if inc is not None and unit.finding is not None and _within(inc, unit):
                    self.absorb(inc, unit, new_day=False)
                continue
            if unit.finding is not None:
                if inc is None:
                    self.open(key, unit)
                else:
                    self.absorb(inc, unit, new_day=True)
            elif inc is not None:
                self.close(inc)
        inc = self.live(key)
        if inc is not None and units and units[-1].passed and units[-1].conversion_date is not None:
            # The scope's latest final unit passes (e.g. a replaced evaluation after a fix).
            self.close(inc)
        dated = [u.conversion_date for u in units if u.conversion_date is not None]
        if dated:
            latest = max([*dated, *([watermark] if watermark else [])])
            con.execute("insert or replace into scopes values (?, ?)", [key, latest.isoformat()])

    def targets(self, severity: str, rule: str, hop: str | None, incident_id: str) -> list[str]:
        """Warnings go to chat (Slack, webhook); critical also pages, once per rule and hop."""
        chat = [s for s in self.sinks if s != PAGER]
        if severity != "critical" or PAGER not in self.sinks:
            return chat
        busy = self.con.execute(
            "select 1 from incidents where rule = ? and hop is ? and status != 'resolved' "
            "and incident_id != ? and sent_to like ?",
            [rule, hop, incident_id, f'%"{PAGER}"%'],
        ).fetchone()
        return chat if busy else [PAGER, *chat]

    def notify(self, incident_id: str, kind: str) -> None:
        inc = _get(self.con, incident_id)
        targets = self.targets(inc["severity"], inc["rule"], inc["hop"], incident_id)
        notified = "paged" if PAGER in targets or inc["severity"] == "critical" else "chat"
        sent = sorted({*json.loads(inc["sent_to"]), *targets})
        self.con.execute(
            "update incidents set notified = ?, notified_at = coalesce(notified_at, ?), "
            "sent_to = ? where incident_id = ?",
            [notified, iso(self.at), json.dumps(sent), incident_id],
        )
        _history(self.con, incident_id, self.at, SYSTEM_ACTOR, "notified", None,
                 {"kind": kind, "sinks": targets})  # fmt: skip
        _event(self.con, incident_id, kind, self.at, targets)
        self.notified.append(incident_id)

    def open(self, key: str, unit: Unit) -> None:
        f: Finding = unit.finding  # type: ignore[assignment]
        day = _date(unit.conversion_date)
        previous = self.con.execute(
            "select count(*) from incidents where scope_key = ?", [key]
        ).fetchone()[0]
        incident_id = _short_id(self.con, f"{key}|{day or iso(self.at)}|{previous}")
        # PagerDuty's dedup_key names the episode: its scope and its first breached day.
        dedup = f"{key}/{day}" if day else f"{key}/{iso(self.at)[:10]}"
        samples = self.samples.get((key, unit.conversion_date), [])
        self.con.execute(
            "insert into incidents (incident_id, dedup_key, scope_key, rule, severity, status, "
            "scope, conversion_type, origin, hop, first_breach_date, last_breach_date, "
            "days_breached, opened_at, last_evaluated_at, expected, dropped, discrepancy_pct, "
            "observed, threshold, worth, sample_conversion_ids, owner, escalation_owner, tags, "
            "run_url, advice, summary, notified) values (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, "
            "?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                incident_id, dedup, key, f.rule, f.severity, f.scope, f.conversion_type,
                f.origin, f.hop, day, day, iso(self.at), iso(self.at), f.expected, f.dropped,
                f.discrepancy_pct, f.observed, f.threshold, unit.worth, json.dumps(samples),
                f.owner, self.policy.escalation_owner, TAGS, self.run_url, f.advice, f.summary,
                "digest" if not self.recent(unit) else "pending",
            ],
        )  # fmt: skip
        _history(self.con, incident_id, self.at, SYSTEM_ACTOR, "opened", None,
                 {"breach_date": day, "severity": f.severity})  # fmt: skip
        self.opened.append(incident_id)
        if self.recent(unit):
            self.notify(incident_id, "trigger")
            self.pause_campaign(incident_id, unit)
        else:
            self.digest.append(incident_id)

    def absorb(self, inc: sqlite3.Row, unit: Unit, *, new_day: bool) -> None:
        """A breached day of the open episode: extend it, keep its worst figures."""
        f: Finding = unit.finding  # type: ignore[assignment]
        incident_id = inc["incident_id"]
        day = _date(unit.conversion_date)
        extends = (
            new_day
            and day is not None
            and (inc["last_breach_date"] is None or day > inc["last_breach_date"])
        )
        worse_level = SEVERITY_RANK[f.severity] > SEVERITY_RANK[inc["severity"]]
        worse = worse_level or unit.worth > inc["worth"]
        sets = {"last_evaluated_at": iso(self.at)}
        if extends:
            sets |= {"last_breach_date": day, "days_breached": inc["days_breached"] + 1}
        if worse:
            samples = self.samples.get((inc["scope_key"], unit.conversion_date))
            sets |= {
                "expected": f.expected, "dropped": f.dropped, "discrepancy_pct": f.discrepancy_pct,
                "observed": f.observed, "threshold": f.threshold,
                "worth": max(unit.worth, inc["worth"]), "summary": f.summary,
            }  # fmt: skip
            if samples:
                sets["sample_conversion_ids"] = json.dumps(samples)
        if worse_level:
            # Severity only ever rises within an episode, so it cannot flap and re-page.
            sets |= {"severity": f.severity, "advice": f.advice}
        assignments = ", ".join(f"{c} = ?" for c in sets)
        self.con.execute(
            f"update incidents set {assignments} where incident_id = ?",
            [*sets.values(), incident_id],
        )
        if extends:
            _history(self.con, incident_id, self.at, SYSTEM_ACTOR, "extended", None,
                     {"breach_date": day, "severity": f.severity})  # fmt: skip
        if worse_level:
            _history(self.con, incident_id, self.at, SYSTEM_ACTOR, "severity_raised", None,
                     {"severity": f.severity})  # fmt: skip
        if inc["status"] == "acknowledged":
            return  # someone is on it: no re-notification
        if inc["notified"] == "digest" and self.recent(unit):
            self.notify(incident_id, "trigger")  # history became today's breach
        elif worse_level and inc["notified"] != "digest":
            self.escalated.append(incident_id)
            self.notify(incident_id, "escalate")
        if self.recent(unit):
            self.pause_campaign(incident_id, unit)

    def pause_campaign(self, incident_id: str, unit: Unit) -> None:
        """The playbook's ">5% mismatch: pause campaign, open incident, require postmortem":
        a critical final day of a campaign slice (critical already needs min_slice_volume
        expected) asks chat to pause the campaign, once per incident, and from then on the
        incident resolves only with a postmortem link."""
        f: Finding = unit.finding  # type: ignore[assignment]
        inc = _get(self.con, incident_id)
        if (
            f.severity != "critical"
            or not is_campaign_slice(f.origin)
            or inc["postmortem_required"]
        ):
            return
        self.con.execute(
            "update incidents set postmortem_required = 1 where incident_id = ?", [incident_id]
        )
        campaign = {
            "origin": f.origin, "conversion_type": f.conversion_type, "hop": f.hop,
            "conversion_date": _date(unit.conversion_date), "expected": f.expected,
            "dropped": f.dropped, "discrepancy_pct": f.discrepancy_pct,
            "critical_discrepancy_pct": self.policy.critical_discrepancy_pct,
            "sample_conversion_ids": json.loads(inc["sample_conversion_ids"]),
        }  # fmt: skip
        _history(self.con, incident_id, self.at, SYSTEM_ACTOR, "campaign_pause_requested", None,
                 campaign)  # fmt: skip
        targets = [s for s in self.sinks if s != PAGER]  # a request to people, not a page
        _event(self.con, incident_id, "campaign_pause", self.at, targets, {"campaign": campaign})
        self.pause_requested.append(incident_id)

    def close(self, inc: sqlite3.Row) -> None:
        if inc["postmortem_required"] and not inc["postmortem_url"]:
            # The campaign recovered, but the playbook wants its postmortem first: the incident
            # stays live until a person resolves it with the link (noted once).
            last = self.con.execute(
                "select action from incident_events where incident_id = ? order by seq desc",
                [inc["incident_id"]],
            ).fetchone()
            if last is None or last[0] != "recovered":
                _history(self.con, inc["incident_id"], self.at, SYSTEM_ACTOR, "recovered",
                         None, {"awaiting": "postmortem"})  # fmt: skip
            return
        _resolve(self.con, inc, self.at, SYSTEM_ACTOR, None, self.sinks)
        self.resolved.append(inc["incident_id"])

    def digest_event(self) -> None:
        """One message per evaluation summing up the history it recorded (never the pager)."""
        if not self.digest:
            return
        marks = ", ".join("?" for _ in self.digest)
        # An episode that reached a recent day in this same evaluation was notified instead.
        rows = [
            _incident_dict(r)
            for r in self.con.execute(
                f"select * from incidents where incident_id in ({marks}) and notified = 'digest' "
                "order by case severity when 'critical' then 0 else 1 end, first_breach_date, "
                "scope_key",
                self.digest,
            )
        ]
        self.digest = [r["incident_id"] for r in rows]
        if not rows:
            return
        items = [
            {k: r[k] for k in (
                "incident_id", "rule", "scope", "hop", "severity", "status", "owner",
                "first_breach_date", "last_breach_date", "days_breached", "discrepancy_pct",
                "summary",
            )}
            for r in rows[:DIGEST_LIMIT]
        ]  # fmt: skip
        key = f"lead-parity/digest/{iso(self.at)}"
        event_id = event_id_for("digest", "digest", self.at)
        payload = {
            "event_id": event_id,
            "kind": "digest",
            "occurred_at": iso(self.at),
            "digest": {
                "incidents": len(rows),
                "critical": sum(1 for r in rows if r["severity"] == "critical"),
                "still_open": sum(1 for r in rows if r["status"] != "resolved"),
                "page_within_s": self.policy.page_within_s,
                "items": items,
                "run_url": self.run_url,
            },
        }
        targets = [s for s in self.sinks if s != PAGER]
        _insert_event(self.con, event_id, "digest", key, "digest", self.at, payload, targets)


def _within(inc: sqlite3.Row, unit: Unit) -> bool:
    day = _date(unit.conversion_date)
    first, last = inc["first_breach_date"], inc["last_breach_date"]
    return day is None or (first is not None and first <= day <= (last or day))
