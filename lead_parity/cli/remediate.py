"""`lead-parity remediate plan|approve|reject|status|send`: put dropped leads back, once, with
approval (docs/remediation.md).

`plan` reads the published snapshot and records proposals; it sends nothing. `approve`, `reject`
and `status` read and write only the SQLite store beside the warehouse
(`<warehouse folder>/history/remediation.sqlite`), so they never wait for a running pipeline.
`send` does what the Dagster sensor's job does, for deployments without Dagster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_USAGE = 2
EXIT_INCOMPLETE = 1
WAREHOUSE_VARIABLE = "LEAD_PARITY_WAREHOUSE"
CONTRACT_VARIABLE = "LEAD_PARITY_CONTRACT"


class _Usage(Exception):
    pass


def _paths(args):
    from lead_parity.pipeline.paths import RunPaths

    warehouse = args.warehouse or os.environ.get(WAREHOUSE_VARIABLE, "").strip()
    if not warehouse:
        raise _Usage(
            f"remediate {args.remediate_command} needs --warehouse FILE (or {WAREHOUSE_VARIABLE})"
        )
    return RunPaths(Path(warehouse).expanduser().resolve())


def _contract(args):
    from lead_parity.contract import ContractError, load_contract

    path = getattr(args, "contract", None) or os.environ.get(CONTRACT_VARIABLE, "").strip()
    try:
        return load_contract(path or None)
    except ContractError as exc:
        raise _Usage(str(exc)) from None


def _only(text: str | None) -> str | None:
    if not text:
        return None
    key, sep, value = text.partition("=")
    if key.strip() != "hop" or not sep or not value.strip():
        raise _Usage(f"--only {text!r}: expected hop=NAME, e.g. --only hop=support")
    from lead_parity.contract import HOP_RULES

    if value.strip() not in HOP_RULES:
        raise _Usage(f"--only {text!r}: {value.strip()} is not one of {', '.join(HOP_RULES)}")
    return value.strip()


def _print_table(rows: list[dict], header: tuple[str, ...]) -> None:
    table = [header] + [tuple(str(r.get(c) if r.get(c) is not None else "-") for c in header)
                        for r in rows]  # fmt: skip
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def cmd_plan(args) -> int:
    from datetime import UTC, datetime

    from lead_parity.pipeline.remediation import RemediationStore, plan_from_snapshot

    paths = _paths(args)
    contract = _contract(args)
    plan = plan_from_snapshot(paths.published, contract)
    store = RemediationStore.in_history(paths.history)
    batches = store.record_plan(
        plan.proposals,
        by=args.by,
        at=datetime.now(UTC),
        snapshot_as_of=plan.snapshot_as_of,
        max_per_batch=contract.remediation.max_per_batch,
    )
    rows = [a for b in batches for a in store.actions(batch_id=b)]
    merge_items = _open_merge_items(paths, contract, plan)
    if args.json:
        print(json.dumps({"batches": batches, "actions": rows,
                          "merge_candidates": plan.merge_candidates, "skipped": plan.skipped,
                          "review_items_opened": merge_items},
                         indent=1, sort_keys=True, default=str))  # fmt: skip
        return 0
    if rows:
        _print_table(rows, ("batch_id", "action_id", "conversion_id", "hop", "root_cause",
                            "action", "target_id"))  # fmt: skip
    print(
        f"dry run: {len(rows)} new proposed actions in {len(batches)} batch(es) "
        f"({len(plan.proposals) - len(rows)} planned before); nothing was sent"
    )
    if plan.merge_candidates:
        print(
            f"{len(plan.merge_candidates)} identity_mismatch conversions are merge candidates, "
            "never re-sent: "
            + ", ".join(plan.merge_candidates[:10])
            + f" ({len(merge_items)} new merge_candidate items in the review queue)"
        )
    for reason, n in sorted(plan.skipped.items()):
        print(f"skipped {n}: {reason}")
    for batch in batches:
        print(f"approve with: lead-parity remediate approve --batch {batch} --by NAME")
    return 0


def _open_merge_items(paths, contract, plan) -> list[str]:
    """identity_mismatch drops become review-queue items (a person merges, nothing is sent)."""
    from datetime import UTC, datetime

    from lead_parity.pipeline.review_queue import QueueStore, queue_sink_names, settings_for

    if not plan.merge_items:
        return []
    queue = settings_for(contract)
    return QueueStore.in_history(paths.history).open_items(
        plan.merge_items,
        hop_owners=queue.hop_owners,
        escalation_owner=queue.escalation_owner,
        sinks=queue_sink_names(os.environ),
        at=datetime.now(UTC),
    )


def _decide(args, verb: str) -> int:
    from lead_parity.pipeline.remediation import RemediationStore

    paths = _paths(args)
    store = RemediationStore.in_history(paths.history, create=False)
    hop = _only(args.only)
    if verb == "approve":
        ids = store.approve(
            args.batch, args.by, hop=hop, max_per_day=_contract(args).remediation.max_per_day
        )
        print(f"{len(ids)} actions of {args.batch} approved by {args.by.strip()}; "
              "the remediation sensor sends them")  # fmt: skip
    else:
        ids = store.reject(args.batch, args.by, hop=hop)
        print(f"{len(ids)} actions of {args.batch} rejected by {args.by.strip()}")
    return 0


def cmd_status(args) -> int:
    from lead_parity.pipeline.remediation import RemediationStore

    store = RemediationStore.in_history(_paths(args).history, create=False)
    if args.batch:
        rows = store.actions(batch_id=args.batch)
        if not rows:
            raise _Usage(f"no remediation batch {args.batch}")
        if args.json:
            print(json.dumps(rows, indent=1, sort_keys=True))
            return 0
        _print_table(rows, ("action_id", "conversion_id", "hop", "action", "status",
                            "decided_by", "sent_at", "confirmed_at", "tries"))  # fmt: skip
        return 0
    batches = store.batches()
    if args.json:
        print(json.dumps(batches, indent=1, sort_keys=True))
        return 0
    if not batches:
        print("no remediation batch planned")
        return 0
    for b in batches:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(b["statuses"].items()))
        print(f"{b['batch_id']}  planned {b['planned_at'][:16]}Z by {b['planned_by']}: {counts}")
    return 0


def cmd_send(args) -> int:
    from lead_parity.pipeline.remediation import send_batch

    paths = _paths(args)
    report = send_batch(paths.history, _contract(args), args.batch, env=os.environ)
    print(report.line())
    # Actions held by the daily cap are on schedule; unresolved or unconfigured ones are not.
    return EXIT_INCOMPLETE if report.unresolved or report.not_configured else 0


def _run(func):
    def wrapped(args) -> int:
        from lead_parity.pipeline.http_client import HttpClientError
        from lead_parity.pipeline.remediation import PlanError, RemediationError

        try:
            return func(args)
        except (RemediationError, PlanError, HttpClientError, _Usage) as exc:
            print(f"lead-parity: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return wrapped


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `remediate` and its subcommands on the CLI's subparsers."""
    remediate = subparsers.add_parser(
        "remediate", help="put dropped leads back into HubSpot and Zendesk, once, with approval"
    )
    sub = remediate.add_subparsers(dest="remediate_command", required=True)

    def common(p: argparse.ArgumentParser, contract: bool = False) -> None:
        p.add_argument(
            "--warehouse", help=f"the warehouse a run wrote (default: ${WAREHOUSE_VARIABLE})"
        )
        if contract:
            p.add_argument(
                "--contract", help=f"routing contract for the caps (default: ${CONTRACT_VARIABLE})"
            )

    p = sub.add_parser("plan", help="dry run: record and print proposed actions, send nothing")
    common(p, contract=True)
    p.add_argument("--by", default="lead-parity", metavar="NAME", help="who planned")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(cmd_plan))

    for verb in ("approve", "reject"):
        p = sub.add_parser(verb, help=f"{verb} a batch's proposed actions")
        common(p, contract=verb == "approve")
        p.add_argument("--batch", required=True, metavar="B")
        p.add_argument("--by", required=True, metavar="NAME")
        p.add_argument("--only", metavar="hop=NAME", help="only the actions at this hop")
        p.set_defaults(func=_run(lambda args, v=verb: _decide(args, v)))

    p = sub.add_parser("status", help="batches and their actions' statuses")
    common(p)
    p.add_argument("--batch", metavar="B")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(cmd_status))

    p = sub.add_parser("send", help="send a batch's approved actions now (what the sensor does)")
    common(p, contract=True)
    p.add_argument("--batch", metavar="B", help="default: every approved batch")
    p.set_defaults(func=_run(cmd_send))
    return remediate
