"""`lead-parity queue list|claim|done`: people work the review queue (SPEC section 9).

These commands read and write only the SQLite store beside the warehouse
(`<warehouse folder>/history/review_queue.sqlite`), never the DuckDB file, so they answer at once
while a run holds the warehouse; the next run mirrors them into ops.review_queue.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

EXIT_USAGE = 2
# The deployment's warehouse (the variable Dagster's runs use), never the demo's: acting on
# someone else's queue because one's own is missing would be worse than asking.
WAREHOUSE_VARIABLE = "LEAD_PARITY_WAREHOUSE"


def _store(args):
    from lead_parity.pipeline.paths import RunPaths
    from lead_parity.pipeline.review_queue import QueueStore

    warehouse = args.warehouse or os.environ.get(WAREHOUSE_VARIABLE, "").strip()
    if not warehouse:
        raise _Usage(f"queue {args.queue_command} needs --warehouse FILE (or {WAREHOUSE_VARIABLE})")
    paths = RunPaths(Path(warehouse).expanduser().resolve())
    return QueueStore.in_history(paths.history, create=False)


def _clock(due_at: str, now: datetime) -> str:
    """Time left on the item's clock, or how long it is overdue."""
    from lead_parity.pipeline.review_queue.store import from_iso

    seconds = int((from_iso(due_at) - now).total_seconds())
    span = abs(seconds)
    days, rest = divmod(span, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours or days else "") + f"{minutes:02d}m"
    return f"{text} left" if seconds >= 0 else f"overdue {text}"


def _now(args) -> datetime:
    if not args.as_of:
        return datetime.now(UTC)
    from lead_parity.pipeline.timeparse import parse_as_of

    try:
        return parse_as_of(args.as_of)
    except ValueError:
        raise _Usage(f"--as-of {args.as_of!r} is not an ISO-8601 timestamp") from None


class _Usage(Exception):
    pass


def _cell(value: object) -> str:
    # Store times are fixed-width ISO with microseconds; a person needs minutes.
    text = str(value or "-")
    if len(text) == 27 and text.endswith("Z") and text[10] == "T":
        return f"{text[:10]} {text[11:16]}Z"
    return text


def cmd_list(args) -> int:
    store = _store(args)
    states = None if args.all else ("open", "claimed")
    rows = store.items(states=states, owner=args.owner, kind=args.kind)
    now = _now(args)
    for row in rows:
        row["time_left"] = _clock(row["due_at"], now) if row["state"] != "done" else "done"
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True))
        return 0
    if not rows:
        print("no review items" + ("" if args.all else " open or claimed"))
        return 0
    header = ("item_id", "kind", "conversion_id", "owner", "state", "claimed_by", "due_at",
              "time_left", "escalated_at")  # fmt: skip
    table = [header] + [tuple(_cell(r[c]) for c in header) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0


def cmd_claim(args) -> int:
    item = _store(args).claim(args.item_id, args.by)
    print(f"{item['item_id']} claimed by {item['claimed_by']} (due {item['due_at']})")
    return 0


def cmd_done(args) -> int:
    item = _store(args).done(args.item_id, args.by, args.resolution, args.note)
    print(f"{item['item_id']} done by {item['closed_by']}: {item['resolution']}")
    return 0


def _run(func):
    def wrapped(args) -> int:
        from lead_parity.pipeline.review_queue import QueueError

        try:
            return func(args)
        except (QueueError, _Usage) as exc:
            print(f"lead-parity: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return wrapped


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `queue` and its subcommands on the CLI's subparsers."""
    from lead_parity.pipeline.review_queue.settings import KINDS, RESOLUTIONS

    queue = subparsers.add_parser("queue", help="work the review queue: list, claim, done")
    sub = queue.add_subparsers(dest="queue_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--warehouse", help=f"the warehouse a run wrote (default: ${WAREHOUSE_VARIABLE})"
        )

    p = sub.add_parser("list", help="items not done yet, oldest due first, time left on each")
    common(p)
    p.add_argument("--owner", help="only items this owner (or escalation owner) holds")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--all", action="store_true", help="include done items")
    p.add_argument("--as-of", dest="as_of", help="measure time left at this instant (default now)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_run(cmd_list))

    p = sub.add_parser("claim", help="take an item: it is yours to handle")
    common(p)
    p.add_argument("item_id", metavar="ID")
    p.add_argument("--by", required=True, metavar="NAME")
    p.set_defaults(func=_run(cmd_claim))

    p = sub.add_parser("done", help="close an item with a resolution")
    common(p)
    p.add_argument("item_id", metavar="ID")
    p.add_argument("--by", required=True, metavar="NAME")
    p.add_argument("--resolution", required=True, metavar="R", help=", ".join(RESOLUTIONS))
    p.add_argument("--note", metavar="TEXT")
    p.set_defaults(func=_run(cmd_done))
    return queue
