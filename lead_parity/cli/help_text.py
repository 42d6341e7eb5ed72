"""What `--help` shows beyond the options: what each command is for and examples to copy.

Kept apart from the argument definitions so the examples read as one page; `decorate` attaches
them to every parser, nested ones included, after all commands are registered.
"""

from __future__ import annotations

import argparse
import textwrap

# command path (space-separated) -> (what it does, examples)
HELP: dict[str, tuple[str, str]] = {
    "": (
        "Find dropped leads: ingest each system's records, resolve one lead per person, follow "
        "every conversion through its hops and say which dropped, where and why.",
        """examples:
  lead-parity demo                                      # try it on a simulated stack
  lead-parity run --input exports/ --warehouse data/warehouse.duckdb
  lead-parity dashboard --warehouse data/warehouse.duckdb
  lead-parity queue list --owner sales_ops
  lead-parity incidents ack inc-1a2b3c4d --by maria

Each command has its own --help. Docs: README.md and docs/.""",
    ),
    "simulate": (
        "Write a realistic stack (Segment, HubSpot, Zendesk, receipts) in the input layout, with "
        "the ground truth of every conversion in DIR/truth/.",
        """examples:
  lead-parity simulate --out data/stack
  lead-parity simulate --out data/big --leads 100000 --days 30 --seed 3""",
    ),
    "run": (
        "Ingest an input folder and build every asset of the Dagster definitions: marts, checks, "
        "incidents, review queue, published snapshot, report. Prints the verdict first. A second "
        "run on the same warehouse parses only new or changed files.",
        """examples:
  lead-parity run --input exports/ --warehouse data/warehouse.duckdb
  lead-parity run --input exports/ --warehouse data/warehouse.duckdb \\
      --as-of 2026-10-15T02:00:00Z --contract my_contract.yaml
  lead-parity run --input exports/ --warehouse data/warehouse.duckdb --full-refresh
  lead-parity run --input exports/ --warehouse data/warehouse.duckdb --live  # fetch first
  .venv-spark/bin/lead-parity run --engine spark --input exports/ --warehouse data/spark

exit status: 0 the pipeline completed (also when it found drops), 1 a step failed,
2 it could not start (bad argument, missing input, older --as-of).""",
    ),
    "demo": (
        "Simulate a stack, run the pipeline on it and print the findings and where to look.",
        """examples:
  lead-parity demo
  lead-parity demo --dir /tmp/demo --leads 5000 --days 30""",
    ),
    "dashboard": (
        "Open the Streamlit dashboard on a run's published snapshot (never the live warehouse).",
        """examples:
  lead-parity dashboard --warehouse data/warehouse.duckdb
  lead-parity dashboard --published /mnt/bi/published --port 8600""",
    ),
    "report": (
        "Write the self-contained HTML reconciliation report (inline CSS and SVG, no scripts).",
        """examples:
  lead-parity report --warehouse data/warehouse.duckdb --out reconciliation.html
  lead-parity report --warehouse data/warehouse.duckdb --out last-week.html --days 7""",
    ),
    "incidents": (
        "Incidents are episodes: one per rule and scope, however many days it lasts.",
        """examples:
  lead-parity incidents list --status live
  lead-parity incidents show inc-1a2b3c4d
  lead-parity incidents ack inc-1a2b3c4d --by maria --note "looking at the HubSpot sync"
  lead-parity incidents resolve inc-1a2b3c4d --by maria""",
    ),
    "queue": (
        "Exception leads as work items with clocks: high_intent_unassigned (30 min), "
        "enrichment_fallback (15 min), dead_letter (1 h).",
        """examples:
  lead-parity queue list --owner sales_ops
  lead-parity queue claim rq_1a2b3c4d5e --by maria
  lead-parity queue done rq_1a2b3c4d5e --by maria --resolution handled --note "called back\"""",
    ),
    "remediate": (
        "Put dropped leads back into HubSpot and Zendesk, once, after someone approved it: plan "
        "(a dry run), approve or reject a batch, then the Dagster sensor sends it.",
        """examples:
  lead-parity remediate plan --warehouse data/warehouse.duckdb
  lead-parity remediate approve --batch rb_20261012_3f9a1c --by maria --only hop=support
  lead-parity remediate reject --batch rb_20261012_3f9a1c --by maria
  lead-parity remediate status --json""",
    ),
}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps sub-commands only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def decorate(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Attach descriptions and examples to `parser` and every sub-command below it."""
    if path in HELP:
        description, examples = HELP[path]
        parser.description = textwrap.fill(description, width=78)
        parser.epilog = examples
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for name, child in _subparsers(parser).items():
        decorate(child, f"{path} {name}".strip())
