"""`simulate`: stream persons into the SPEC section 2 layout plus the ground truth.

Persons are built (and their truth derived) in worker processes, in chunks, and written here
in person order, so the files are byte-identical whatever the worker count. Memory stays at a
few chunks plus one open page per export.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import orjson

from . import malformed
from .contract_defaults import DROP_AFTER_MS, MATCH_WINDOW_MS, SLA_MS
from .person import ChunkOutput, RunParams, chunk_outputs
from .rates import SimulationRates
from .timefmt import iso_z
from .timeline import Calendar
from .writers import DayFiles, PageWriter, hubspot_page, zendesk_page

SOURCES = ("segment", "hubspot_forms", "hubspot_contacts", "zendesk_tickets", "receipts")
TRUTH_COLUMNS = ("conversion_id", "person_id", "status", "dropped_at_hop", "root_cause")
DETAIL_COLUMNS = (
    "conversion_id",
    "person_id",
    "conversion_type",
    "origin",
    "converted_at",
    "status",
    "dropped_at_hop",
    "root_cause",
    "late",
    "planned_hop",
    "planned_cause",
)
CHUNK = 500  # persons per worker task
PARALLEL_FROM = 20_000  # smaller runs are faster in-process than with worker start-up


@dataclass
class SimulationSummary:
    """Counts of what was written; `to_dict()` for JSON."""

    out_dir: str
    persons: int
    days: int
    seed: int
    as_of: str
    conversions: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    root_causes: dict[str, int] = field(default_factory=dict)
    dropped_at_hop: dict[str, int] = field(default_factory=dict)
    late: int = 0
    plan_held: int = 0  # conversions whose verdict is what the journey planned
    regenerated: int = 0  # journeys rebuilt because readings of SPEC 5 disagreed on them
    ambiguous_persons: int = 0  # still ambiguous after all attempts (expected 0)
    records: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    files: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _prepare(out_dir: Path) -> None:
    """Replace an earlier simulation in out_dir; refuse to touch a folder holding anything else."""
    if out_dir.exists() and any(out_dir.iterdir()):
        ours = set(SOURCES) | {"truth", "zendesk_users"}
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
        if foreign or not (out_dir / "truth" / "manifest.json").exists():
            raise ValueError(
                f"{out_dir} is not empty and is not an earlier simulation "
                f"(found {', '.join(foreign) or 'no truth/manifest.json'}); choose another folder"
            )
        for name in sorted(ours):
            if (out_dir / name).exists():
                shutil.rmtree(out_dir / name)
    out_dir.mkdir(parents=True, exist_ok=True)


def _chunks(params: RunParams, workers: int) -> Iterator[ChunkOutput]:
    """Chunk outputs in person order; at most 2 chunks per worker in flight (bounded memory)."""
    size = max(1, min(CHUNK, params.leads // 20))
    spans = [(lo, min(lo + size, params.leads)) for lo in range(0, params.leads, size)]
    if workers <= 1:
        for lo, hi in spans:
            yield chunk_outputs(params, lo, hi)
        return
    # spawn, not fork: the caller (Dagster, a test runner) may hold threads and locks. An
    # executor, not multiprocessing.Pool: a worker that dies raises BrokenProcessPool here
    # instead of leaving its chunk's result to be waited for forever.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque = deque()
        todo = iter(spans)
        for lo, hi in todo:
            pending.append(pool.submit(chunk_outputs, params, lo, hi))
            if len(pending) >= 2 * workers:
                break
        while pending:
            done = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(chunk_outputs, params, *nxt))
            yield done


def simulate(
    out_dir: Path,
    leads: int = 2000,
    days: int = 14,
    seed: int = 7,
    start: date = date(2026, 10, 1),
    rates: SimulationRates | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> SimulationSummary:
    """Write a realistic stack of `leads` persons over `days` days into out_dir (SPEC 2 + 7).

    workers: processes that build persons (default: CPU count for large runs, else none);
    the output does not depend on it.
    """
    if leads < 1 or days < 1:
        raise ValueError("leads and days must be at least 1")
    out_dir = Path(out_dir)
    rates = rates or SimulationRates()
    _prepare(out_dir)
    params = RunParams(seed=seed, leads=leads, days=days, start=start, rates=rates)
    cal = Calendar(start=start, days=days, seed=seed, leads=leads, booth_rate=rates.booth_rate)
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if leads >= PARALLEL_FROM else 1
    summary = SimulationSummary(str(out_dir), leads, days, seed, iso_z(cal.as_of_ms))

    segment = DayFiles(out_dir / "segment", cal, lambda d: d % 2 == 1)
    receipts = DayFiles(out_dir / "receipts", cal, lambda d: d % 3 == 2)
    forms: dict[str, PageWriter] = {}
    contacts = PageWriter(out_dir / "hubspot_contacts", hubspot_page, "result")
    tickets = PageWriter(out_dir / "zendesk_tickets", zendesk_page, "ticket")
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    # Marks the folder as ours at once, so an interrupted run can be replaced by the next one.
    (truth_dir / "manifest.json").write_bytes(orjson.dumps({"complete": False}))
    counts: Counter = Counter()
    step = max(1, leads // 10)

    with (
        open(truth_dir / "conversions.csv", "w", newline="", encoding="utf-8") as tf,
        open(truth_dir / "conversion_details.csv", "w", newline="", encoding="utf-8") as df,
    ):
        truth = csv.writer(tf, lineterminator="\n")
        truth.writerow(TRUTH_COLUMNS)
        details = csv.writer(df, lineterminator="\n")
        details.writerow(DETAIL_COLUMNS)
        for chunk in _chunks(params, workers):
            for day, block in sorted(chunk.segment.items()):
                segment.write_block(day, block)
            for day, block in sorted(chunk.receipts.items()):
                receipts.write_block(day, block)
            for guid, item in chunk.forms:
                writer = forms.get(guid)
                if writer is None:
                    writer = forms[guid] = PageWriter(
                        out_dir / "hubspot_forms" / guid, hubspot_page, "result"
                    )
                writer.add("result", item)
            for item, delay in chunk.contacts:
                if delay:
                    contacts.add_later("result", item, delay)
                else:
                    contacts.add("result", item)
            for kind, item, delay in chunk.tickets:
                if delay:
                    tickets.add_later(kind, item, delay)
                else:
                    tickets.add(kind, item)
            tf.write(chunk.truth_csv)
            df.write(chunk.details_csv)
            summary.conversions += chunk.conversions
            counts.update(chunk.counts)
            if progress and (chunk.hi // step > chunk.lo // step or chunk.hi == leads):
                progress(
                    f"simulated {chunk.hi:,}/{leads:,} persons "
                    f"({100 * chunk.hi // leads}%), {summary.conversions:,} conversions"
                )

    paths = segment.close() + receipts.close() + contacts.close() + tickets.close()
    for guid in sorted(forms):
        paths += forms[guid].close()
    if rates.malformed_rate > 0:
        # One page that is not JSON at all, in each paged export (an interrupted download).
        for folder, content in (
            ("hubspot_contacts", malformed.BAD_PAGE),
            ("zendesk_tickets", malformed.BAD_ZENDESK_PAGE),
        ):
            path = out_dir / folder / "page-000001-partial.json"
            path.write_bytes(content)
            paths.append(path)
            counts[f"bad:{folder}_page"] += 1
    _fill(summary, counts)
    summary.files = len(paths) + 3
    manifest = {
        "complete": True,
        "as_of": summary.as_of,
        "seed": seed,
        "persons": leads,
        "start": start.isoformat(),
        "days": days,
        "end": iso_z(cal.end_ms),
        "contract": {
            "match_window_ms": MATCH_WINDOW_MS,
            "drop_after_ms": DROP_AFTER_MS,
            "sla_ms": SLA_MS,
        },
        "rates": asdict(rates),
        # Without out_dir: the same seed gives the same bytes wherever it is written.
        "summary": {k: v for k, v in summary.to_dict().items() if k != "out_dir"},
    }
    (truth_dir / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    )
    return summary


def _fill(summary: SimulationSummary, counts: Counter) -> None:
    groups: dict[str, dict[str, int]] = {
        "status": {},
        "cause": {},
        "hop": {},
        "rec": {},
        "bad": {},
        "dup": {},
    }
    for key in sorted(counts):
        group, _, name = key.partition(":")
        if name:
            groups[group][name] = counts[key]
    summary.statuses = groups["status"]
    summary.root_causes = groups["cause"]
    summary.dropped_at_hop = groups["hop"]
    summary.records = groups["rec"]
    summary.malformed = groups["bad"]
    summary.duplicates = groups["dup"]
    summary.late = counts["late"]
    summary.plan_held = counts["plan_held"]
    summary.regenerated = counts["regenerated"]
    summary.ambiguous_persons = counts["ambiguous_persons"]
