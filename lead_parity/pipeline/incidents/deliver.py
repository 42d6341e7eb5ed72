"""Evaluate incidents from the latest SLO evaluation and deliver them: the entry points.

- `evaluate_in_run` (the `incidents` asset): reads the warehouse once, applies the lifecycle in
  the SQLite store, mirrors `ops.incidents` into the warehouse in one short write.
- `deliver_after_run` (the `lead-parity run` CLI, at the end): picks up an evaluation the asset
  did not apply (from the published snapshot), then delivers everything the outbox holds.
- `sensor_pass` (the sensor): the same as the CLI, reading only files, never the warehouse.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from lead_parity.contract import Contract
from lead_parity.pipeline.http_client import HttpSettings
from lead_parity.pipeline.human_state import naive_utc, replace_ops_tables
from lead_parity.pipeline.incidents.rules import fingerprint, judge
from lead_parity.pipeline.incidents.sinks import (
    SINK_SETTINGS,
    Sink,
    SinkConfigError,
    configured_sink_names,
    configured_sinks,
    sink_settings,
)
from lead_parity.pipeline.incidents.source import (
    EvaluationSource,
    published_source,
    warehouse_source,
)
from lead_parity.pipeline.incidents.store import (
    ApplyResult,
    IncidentStore,
    Policy,
    skip_reason,
)

log = logging.getLogger(__name__)

DEFAULT_DAGSTER_URL = "http://localhost:3000"
MAX_OUTBOX_RETRY_S = 3600.0


def run_url_for(run_id: str | None, env: Mapping[str, str]) -> str | None:
    """Link to the Dagster run in the webserver (`LEAD_PARITY_DAGSTER_URL`, default local)."""
    if not run_id:
        return None
    base = env.get("LEAD_PARITY_DAGSTER_URL", "").strip() or DEFAULT_DAGSTER_URL
    return f"{base.rstrip('/')}/runs/{run_id}"


# ---- evaluation ------------------------------------------------------------------------------


def policy_of(contract: Contract) -> Policy:
    return Policy(
        page_within_s=contract.alerting.page_within_s,
        escalation_owner=contract.escalation.owner,
        ack_within_s=contract.escalation.ack_within_s,
        critical_discrepancy_pct=contract.slo.critical_discrepancy_pct,
    )


def evaluate(
    source: EvaluationSource,
    store: IncidentStore,
    contract: Contract,
    *,
    run_url: str | None,
    sink_names: Sequence[str],
) -> ApplyResult | None:
    """Apply the latest evaluation in `source` to the store; None when there is none yet."""
    evaluated_at = source.latest_evaluated_at()
    if evaluated_at is None:
        log.info("incidents: no SLO evaluation in the %s yet", source.origin)
        return None
    rows = source.evaluation(evaluated_at)
    if contract.slo.alerting == "burn_rate":
        # The SPEC verdicts stay in the marts; only what alerts changes: the parity budget's
        # burn replaces the daily parity breaches.
        rows = [r for r in rows if r.rule != "parity"] + source.budget_rows(evaluated_at)
    # Early warnings (below every SLO) judge the marts against their own history, leaving out
    # the days of past incident episodes (early_warnings.py).
    rows += source.early_warning_rows(evaluated_at, contract, store.incidents())
    content = fingerprint(rows)
    why = skip_reason(evaluated_at, content, *store.last_applied())
    if why:
        # Cheap early exit: the usual case for the sensor and the CLI after the in-run asset.
        return ApplyResult(evaluated_at, why, [], [], [], len(store.incidents("live")))
    judgement = judge(rows, contract)
    marks = store.watermarks()
    # Samples only for days the store has not taken yet (and the live episodes' worst days):
    # a year of history must not cost a query per old day on every run.
    samples = {}
    for key, units in judgement.units.items():
        mark = marks.get(key)
        for unit in units:
            if unit.finding is None:
                continue
            if mark is None or unit.conversion_date is None or unit.conversion_date > mark:
                samples[(key, unit.conversion_date)] = source.samples(unit.finding, contract)
    result = store.apply(
        evaluated_at,
        judgement,
        samples=samples,
        run_url=run_url,
        sinks=sink_names,
        source=source.origin,
        fingerprint=content,
        policy=policy_of(contract),
    )
    log.info(
        "incidents: evaluation %s: %d breached final unit(s), %d opened (%d as digest), "
        "%d escalated, %d resolved, %d live; %d provisional unit(s), %d not judged alone",
        evaluated_at.isoformat(),
        len(judgement.findings),
        len(result.opened),
        len(result.digest),
        len(result.escalated),
        len(result.resolved),
        result.still_open,
        judgement.provisional,
        judgement.unjudged,
    )
    return result


INCIDENT_SCHEMA = pa.schema([
    ("incident_id", pa.string()), ("dedup_key", pa.string()), ("rule", pa.string()),
    ("severity", pa.string()), ("status", pa.string()), ("scope", pa.string()),
    ("conversion_date", pa.date32()), ("conversion_type", pa.string()),
    ("origin", pa.string()), ("hop", pa.string()),
    ("first_breach_date", pa.date32()), ("last_breach_date", pa.date32()),
    ("days_breached", pa.int64()),
    ("opened_at", pa.timestamp("us")), ("resolved_at", pa.timestamp("us")),
    ("last_evaluated_at", pa.timestamp("us")),
    ("expected", pa.int64()), ("dropped", pa.int64()), ("discrepancy_pct", pa.float64()),
    ("observed", pa.float64()), ("threshold", pa.float64()),
    ("sample_conversion_ids", pa.list_(pa.string())), ("owner", pa.string()),
    ("escalation_owner", pa.string()), ("tags", pa.string()), ("run_url", pa.string()),
    ("advice", pa.string()), ("summary", pa.string()), ("notified", pa.string()),
    ("notified_at", pa.timestamp("us")), ("acknowledged_at", pa.timestamp("us")),
    ("acknowledged_by", pa.string()), ("resolved_by", pa.string()),
    ("escalated_at", pa.timestamp("us")),
    ("postmortem_required", pa.bool_()), ("postmortem_url", pa.string()),
])  # fmt: skip
EVENT_SCHEMA = pa.schema([
    ("event_seq", pa.int64()), ("incident_id", pa.string()), ("at", pa.timestamp("us")),
    ("actor", pa.string()), ("action", pa.string()), ("note", pa.string()),
    ("details", pa.string()),
])  # fmt: skip
_TIMES = ("opened_at", "resolved_at", "last_evaluated_at", "notified_at", "acknowledged_at",
          "escalated_at")  # fmt: skip


def incidents_table(store: IncidentStore) -> pa.Table:
    """Every incident (open, acknowledged, resolved) as the ops.incidents table, UTC times.

    `conversion_date` is the episode's last breached day, for readers of the day-per-incident
    layout.
    """
    rows = store.incidents()
    for row in rows:
        for col in _TIMES:
            row[col] = naive_utc(row[col])
        for col in ("first_breach_date", "last_breach_date"):
            row[col] = date.fromisoformat(row[col]) if row[col] else None
        row["conversion_date"] = row["last_breach_date"]
    return pa.Table.from_pylist(
        [{name: row[name] for name in INCIDENT_SCHEMA.names} for row in rows],
        schema=INCIDENT_SCHEMA,
    )


def incident_events_table(store: IncidentStore) -> pa.Table:
    """ops.incident_events: every state change, by whom (a person or lead-parity) and when."""
    rows = [
        {
            "event_seq": r["seq"],
            "incident_id": r["incident_id"],
            "at": naive_utc(r["at"]),
            "actor": r["actor"],
            "action": r["action"],
            "note": r["note"],
            "details": json.dumps(r["details"], sort_keys=True),
        }
        for r in store.history()
    ]
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def mirror_to_warehouse(store: IncidentStore, con: duckdb.DuckDBPyConnection) -> int:
    """Replace ops.incidents and ops.incident_events with the store's in one transaction;
    returns the incident rows. The store is the truth, so a rebuilt warehouse gets it back."""
    incidents = incidents_table(store)
    replace_ops_tables(
        con, {"incidents": incidents, "incident_events": incident_events_table(store)}
    )
    return incidents.num_rows


def evaluate_in_run(
    warehouse: Path,
    history: Path,
    contract: Contract,
    *,
    run_url: str | None,
    env: Mapping[str, str],
) -> tuple[ApplyResult | None, int]:
    """The in-run step: read the warehouse, apply, mirror. Returns (result, rows mirrored)."""
    store = IncidentStore.in_history(history)
    con = duckdb.connect(str(warehouse))
    try:
        with warehouse_source(con) as source:
            result = evaluate(
                source, store, contract, run_url=run_url, sink_names=configured_sink_names(env)
            )
        rows = mirror_to_warehouse(store, con)
    finally:
        con.close()
    return result, rows


# ---- delivery --------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # safe to print: no secrets
    pending: dict[str, int] = field(default_factory=dict)  # undelivered after the pass
    unconfigured: dict[str, int] = field(default_factory=dict)  # waiting for a sink not set here


def deliver_pending(
    store: IncidentStore,
    sinks: Sequence[Sink],
    *,
    settings: HttpSettings = SINK_SETTINGS,
    due_only: bool = False,
    budget_s: float | None = None,
) -> DeliveryReport:
    """Send every undelivered outbox event to its sink, oldest first, each exactly once.

    `due_only` honours the outbox backoff (sensor ticks between runs); after an evaluation every
    pending event is tried again at once. Past `budget_s` no new event is started (a sensor tick
    must end in time); what is left stays due for the next pass.
    """
    report = DeliveryReport()
    owner = uuid.uuid4().hex
    started = time.monotonic()
    for sink in sinks:
        blocked: list[str] = []
        while budget_s is None or time.monotonic() - started < budget_s:
            item = store.claim_next(
                sink.name,
                owner=owner,
                lease_s=settings.lease_s(),
                blocked=blocked,
                due_only=due_only,
            )
            if item is None:
                break
            try:
                outcome = sink.send(item.payload)
            except BaseException:
                store.release(item)
                raise
            if outcome.ok:
                store.mark_delivered(item, outcome.status or 200)
                report.delivered[sink.name] = report.delivered.get(sink.name, 0) + 1
                continue
            retry_in = min(settings.outbox_retry_s * 2**item.attempts, MAX_OUTBOX_RETRY_S)
            store.mark_failed(
                item, status=outcome.status, error=outcome.error or "failed", retry_in_s=retry_in
            )
            report.failed[sink.name] = report.failed.get(sink.name, 0) + 1
            message = (
                f"incident sink {sink.name}: {item.kind} event {item.event_id} not "
                f"delivered ({outcome.error}); kept in the outbox"
            )
            report.errors.append(message)
            log.warning(message)
            if outcome.transport_failed:
                break  # the sink is down: the rest waits for the next pass
            blocked.append(item.dedup_key)  # its later events must not overtake it
    names = {s.name for s in sinks}
    for row in store.outbox():
        if row["delivered_at"] is None:
            bucket = report.pending if row["sink"] in names else report.unconfigured
            bucket[row["sink"]] = bucket.get(row["sink"], 0) + 1
    return report


def _close(sinks: Sequence[Sink]) -> None:
    for sink in sinks:
        sink.close()


@dataclass
class IncidentRunReport:
    applied: ApplyResult | None
    delivery: DeliveryReport
    open_incidents: list[dict]

    def lines(self) -> list[str]:
        """What `lead-parity run` prints about incidents (no secrets)."""
        crit = sum(1 for i in self.open_incidents if i["severity"] == "critical")
        out = [f"incidents: {len(self.open_incidents)} open ({crit} critical)"]
        a = self.applied
        if a is not None and a.skipped is None:
            out[0] += (
                f"; this evaluation opened {len(a.opened)} ({len(a.digest)} from history, "
                f"in one digest), notified {len(a.notified)}, escalated {len(a.escalated)}, "
                f"resolved {len(a.resolved)}"
            )
        for inc in self.open_incidents[:10]:
            days = inc["days_breached"]
            out.append(
                f"  {inc['incident_id']} [{inc['severity']}, {inc['status']}, "
                f"{inc['notified']}] {inc['summary']} ({days} day(s); owner {inc['owner']})"
            )
        if len(self.open_incidents) > 10:
            out.append(f"  ... and {len(self.open_incidents) - 10} more in ops.incidents")
        if self.open_incidents:
            out.append("  act on one: lead-parity incidents ack|resolve ID --by NAME [--note TEXT]")
        d = self.delivery
        for sink in sorted({*d.delivered, *d.failed, *d.pending}):
            out.append(
                f"  delivered to {sink}: {d.delivered.get(sink, 0)}, "
                f"still in the outbox: {d.pending.get(sink, 0)}"
            )
        for sink, n in sorted(d.unconfigured.items()):
            out.append(f"  {n} event(s) wait for sink {sink}, which is not configured here")
        out.extend(f"  {e}" for e in d.errors[:5])
        if len(d.errors) > 5:
            out.append(f"  ... and {len(d.errors) - 5} more delivery problem(s)")
        return out


def sensor_pass(
    published_dir: Path,
    history: Path,
    contract: Contract,
    *,
    run_url: str | None,
    new_materialization: bool,
    env: Mapping[str, str],
    settings: HttpSettings | None = None,
    budget_s: float | None = None,
) -> IncidentRunReport:
    """Evaluate from the published snapshot (if newer than the last applied), then deliver."""
    store = IncidentStore.in_history(history)
    applied = None
    problems: list[str] = []
    if new_materialization:
        try:
            with published_source(published_dir) as source:
                applied = evaluate(
                    source, store, contract, run_url=run_url, sink_names=configured_sink_names(env)
                )
        except (duckdb.Error, OSError) as exc:
            # A snapshot being replaced or unreadable must not stop delivery of the outbox.
            problems.append(f"incident evaluation from the published snapshot skipped: {exc}")
            log.warning(problems[-1])
    if settings is None:
        try:
            settings = sink_settings(env)
        except SinkConfigError as exc:
            problems.append(f"incident delivery settings ignored: {exc}")
            settings = SINK_SETTINGS
    sinks = configured_sinks(env, settings, errors=problems)
    try:
        delivery = deliver_pending(
            store, sinks, settings=settings, due_only=not new_materialization, budget_s=budget_s
        )
    finally:
        _close(sinks)
    delivery.errors[:0] = problems
    return IncidentRunReport(applied, delivery, store.incidents("live"))


def deliver_after_run(
    warehouse: Path | str,
    contract: Contract,
    *,
    run_id: str | None = None,
    env: Mapping[str, str],
    settings: HttpSettings | None = None,
) -> IncidentRunReport:
    """CLI entry, after the run: evaluate what the run did not, deliver all, summarise."""
    from lead_parity.pipeline.paths import RunPaths

    paths = RunPaths(Path(warehouse).resolve())
    return sensor_pass(
        paths.published,
        paths.history,
        contract,
        run_url=run_url_for(run_id, env),
        new_materialization=True,
        env=env,
        settings=settings,
    )
