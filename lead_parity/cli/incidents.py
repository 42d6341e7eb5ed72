"""`lead-parity incidents list|show|ack|resolve`: people act on incidents (SPEC section 9).

State lives in the incident store (`<data>/history/incidents.sqlite`), never in the DuckDB
warehouse, so acknowledging never fights a running job over the warehouse lock: `list` shows a
change at once, and the next run folds it into `ops.incidents` / `ops.incident_events` (also after
`--full-refresh`, since the store is the truth). Notifications an action makes (a PagerDuty
acknowledge or resolve, a Slack line) go out right away when the sinks are reachable, otherwise
they wait in the outbox for the next delivery.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

DEFAULT_WAREHOUSE = "data/demo/warehouse.duckdb"
STATUSES = ("all", "live", "open", "acknowledged", "resolved")


def _store(args):
    from lead_parity.cli.arguments import CliError
    from lead_parity.pipeline.incidents import IncidentStore
    from lead_parity.pipeline.incidents.store import STORE_FILE
    from lead_parity.pipeline.paths import RunPaths

    warehouse = Path(args.warehouse).expanduser().resolve()
    history = RunPaths(warehouse).history
    if not (history / STORE_FILE).is_file():
        raise CliError(
            f"no incidents recorded for warehouse {warehouse} (no {history / STORE_FILE})"
        )
    return IncidentStore.in_history(history)


def _row_line(inc: dict) -> str:
    span = (
        f"{inc['first_breach_date']}..{inc['last_breach_date']} ({inc['days_breached']}d)"
        if inc["first_breach_date"]
        else "-"
    )
    return (
        f"{inc['incident_id']:<13} {inc['status']:<12} {inc['severity']:<8} "
        f"{inc['notified']:<6} {inc['owner']:<14} {span:<28} {inc['summary'][:90]}"
    )


def cmd_list(args) -> int:
    store = _store(args)
    rows = store.incidents(None if args.status == "all" else args.status)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("no incidents" if args.status == "all" else f"no {args.status} incidents")
        return 0
    print(
        f"{'incident_id':<13} {'status':<12} {'severity':<8} {'notified':<6} {'owner':<14} "
        f"{'breached days':<28} summary"
    )
    for inc in rows:
        print(_row_line(inc))
    return 0


def cmd_show(args) -> int:
    from lead_parity.cli.arguments import CliError
    from lead_parity.pipeline.incidents import IncidentStateError

    store = _store(args)
    try:
        inc = store.incident(args.incident_id)
    except IncidentStateError as exc:
        raise CliError(str(exc)) from None
    print(_row_line(inc))
    print(f"  scope {inc['rule']} {inc['scope']}; escalation owner {inc['escalation_owner']}")
    print(f"  advice: {inc['advice']}")
    for event in store.history(inc["incident_id"]):
        facts = [str(v) for v in event["details"].values() if v not in (None, [], "")]
        facts += [event["note"]] if event["note"] else []
        extra = f" ({'; '.join(facts)})" if facts else ""
        print(f"  {event['at']}  {event['actor']:<16} {event['action']}{extra}")
    return 0


def _act(args, action: str) -> int:
    from lead_parity.cli.arguments import CliError
    from lead_parity.pipeline.incidents import (
        SINK_SETTINGS,
        IncidentStateError,
        SinkConfigError,
        configured_sinks,
        deliver_pending,
        sink_settings,
    )
    from lead_parity.pipeline.incidents.sinks import configured_sink_names

    if not args.by.strip():
        raise CliError("--by needs a name: who takes this action")
    store = _store(args)
    sink_names = configured_sink_names(os.environ)
    extra = {"postmortem": args.postmortem} if action == "resolve" else {}
    change = store.acknowledge if action == "ack" else store.resolve
    try:
        inc, changed = change(
            args.incident_id, by=args.by.strip(), note=args.note, sinks=sink_names, **extra
        )
    except IncidentStateError as exc:
        raise CliError(str(exc)) from None
    if not changed:
        who = inc["acknowledged_by"] if action == "ack" else inc["resolved_by"]
        print(f"{inc['incident_id']} was already {inc['status']} (by {who}); nothing changed")
        return 0
    print(f"{inc['incident_id']} {inc['status']} by {args.by.strip()}: {inc['summary']}")
    problems: list[str] = []
    try:
        settings = sink_settings(os.environ)
    except SinkConfigError as exc:
        problems.append(str(exc))
        settings = SINK_SETTINGS
    sinks = configured_sinks(os.environ, settings, errors=problems)
    try:
        report = deliver_pending(store, sinks, settings=settings, budget_s=20.0)
    finally:
        for sink in sinks:
            sink.close()
    for sink, n in sorted(report.delivered.items()):
        print(f"  notified {sink} ({n} event(s))")
    for line in problems + report.errors:
        print(f"  {line}")
    print("  ops.incidents and ops.incident_events take this in on the next run")
    return 0


def add_parser(subparsers) -> None:
    """Register `lead-parity incidents ...` on the CLI's subparsers."""
    default = os.environ.get("LEAD_PARITY_WAREHOUSE") or DEFAULT_WAREHOUSE
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--warehouse", default=default, help=f"the run's warehouse file (default {default})"
    )
    p = subparsers.add_parser("incidents", help="list, acknowledge and resolve incidents")
    sub = p.add_subparsers(dest="incidents_command", required=True)

    q = sub.add_parser("list", parents=[parent], help="incidents, newest last")
    q.add_argument("--status", choices=STATUSES, default="all", help="live = open or acknowledged")
    q.add_argument("--json", action="store_true", help="every field, as JSON")
    q.set_defaults(func=cmd_list)

    q = sub.add_parser("show", parents=[parent], help="one incident and its history")
    q.add_argument("incident_id", metavar="ID")
    q.set_defaults(func=cmd_show)

    for name, helptext in (
        ("ack", "acknowledge: stops re-notification and escalation"),
        ("resolve", "resolve by hand; a later breached day opens a new incident"),
    ):
        q = sub.add_parser(name, parents=[parent], help=helptext)
        q.add_argument("incident_id", metavar="ID")
        q.add_argument("--by", required=True, help="who acts (recorded in ops.incident_events)")
        q.add_argument("--note", help="why, recorded with the action")
        if name == "resolve":
            q.add_argument(
                "--postmortem",
                metavar="URL",
                help="the postmortem's link; required for an incident that asked to pause a "
                "campaign (>= slo.critical_discrepancy_pct on a campaign slice)",
            )
        q.set_defaults(func=lambda args, action=name: _act(args, action))
