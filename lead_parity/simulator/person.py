"""One person, start to finish: build the journey, derive its truth, serialize its records.

Runs in worker processes: the output is plain bytes and tuples in the order the writers need,
so the parent only appends them to files and the result does not depend on the worker count.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import orjson

from . import malformed
from .contract_defaults import DAY
from .journeys import Tables, build_person, reseeded
from .rates import SimulationRates
from .records import PersonRecords
from .timefmt import iso_z_ms
from .timeline import Calendar
from .truth import Verdict, evaluate

MAX_ATTEMPTS = 6
_NOISE = random.Random()  # re-seeded per person (see journeys.reseeded)
LINE = orjson.OPT_APPEND_NEWLINE  # a JSONL line in one call, without a second append


@dataclass(frozen=True)
class RunParams:
    seed: int
    leads: int
    days: int
    start: date
    rates: SimulationRates


class _Run:
    """Per-process state of one simulation run."""

    def __init__(self, p: RunParams) -> None:
        self.p = p
        self.cal = Calendar(
            start=p.start, days=p.days, seed=p.seed, leads=p.leads, booth_rate=p.rates.booth_rate
        )
        self.tables = Tables(p.rates)
        self.n_companies = max(50, p.leads // 20)


_CURRENT: list[_Run] = []  # the run this process works for (rates hold dicts: no hashing)


def _run(p: RunParams) -> _Run:
    if not _CURRENT or _CURRENT[0].p != p:
        _CURRENT[:] = [_Run(p)]
    return _CURRENT[0]


def _key(v: Verdict) -> tuple:
    return (v.conversion_id, v.status, v.dropped_at_hop, v.root_cause, v.late)


def _settled(pr: PersonRecords, verdicts: list[Verdict], as_of: int) -> bool:
    """The truth does not depend on a reading of SPEC 5 and the person is one lead."""
    if len({v.component for v in verdicts}) > 1:
        return False
    # The readings differ only between conversions of one person or on identity_mismatch
    # (the strict reading can only reject a mismatch the loose one found).
    if len(verdicts) < 2 and not any(v.root_cause == "identity_mismatch" for v in verdicts):
        return True
    alternative = evaluate(pr, as_of, alternative=True)
    return [_key(v) for v in verdicts] == [_key(v) for v in alternative]


@dataclass(slots=True)
class ChunkOutput:
    """Persons lo..hi-1 ready to write: JSONL already joined per UTC day, CSV already text.

    Everything is appended in person order straight into the chunk (no per-person objects), so
    the lines are in the order they would have been written one by one, and the parent's
    per-record work (the bottleneck with several workers) is a few writes per chunk.
    """

    lo: int
    hi: int
    segment: dict[int, bytearray] = field(default_factory=dict)  # UTC day -> JSONL lines
    receipts: dict[int, bytearray] = field(default_factory=dict)
    forms: list[tuple[str, bytes]] = field(default_factory=list)
    contacts: list[tuple[bytes, int]] = field(default_factory=list)  # (page item, delay)
    tickets: list[tuple[str, object, int]] = field(default_factory=list)  # (kind, item, delay)
    truth_csv: str = ""
    details_csv: str = ""
    conversions: int = 0
    counts: Counter = field(default_factory=Counter)


def chunk_outputs(p: RunParams, lo: int, hi: int) -> ChunkOutput:
    run = _run(p)
    out = ChunkOutput(lo, hi)
    truth, details = io.StringIO(), io.StringIO()
    rows = _Rows(csv.writer(truth, lineterminator="\n"), csv.writer(details, lineterminator="\n"))
    for idx in range(lo, hi):
        _person(run, idx, out, rows)
    out.truth_csv, out.details_csv = truth.getvalue(), details.getvalue()
    return out


@dataclass(slots=True)
class _Rows:
    truth: object  # csv writers
    details: object


def _person(run: _Run, idx: int, out: ChunkOutput, rows: _Rows) -> None:
    p = run.p
    as_of = run.cal.as_of_ms
    counts = out.counts
    for attempt in range(MAX_ATTEMPTS):
        pr = build_person(run.cal, p.rates, run.tables, run.n_companies, idx, attempt)
        verdicts = evaluate(pr, as_of)
        if _settled(pr, verdicts, as_of):
            break
        counts["regenerated"] += 1
    else:
        counts["ambiguous_persons"] += 1
    # Its own stream (slot 15; journeys use 0..MAX_ATTEMPTS-1): noise never shifts a journey.
    noise = reseeded(_NOISE, (p.seed << 40) + (idx << 4) + 15)
    _serialize(pr, as_of, noise, p.rates.malformed_rate, run.cal.start_ms, out)
    person_id = pr.person_id
    truth_row, details_row = rows.truth.writerow, rows.details.writerow
    for v in verdicts:
        hop, cause = v.dropped_at_hop or "", v.root_cause or ""
        truth_row((v.conversion_id, person_id, v.status, hop, cause))
        plan_hop, plan_cause = pr.plans.get(v.conversion_id, (None, None))
        details_row(
            (
                v.conversion_id,
                person_id,
                v.conversion_type,
                pr.origins.get(v.conversion_id, ""),
                iso_z_ms(v.converted_at),
                v.status,
                hop,
                cause,
                "true" if v.late else "false",
                plan_hop or "",
                plan_cause or "",
            )
        )
        counts["status:" + v.status] += 1
        if v.status == "dropped":
            counts["cause:" + cause] += 1
            counts["hop:" + hop] += 1
        counts["late"] += v.late
        held = (
            (v.dropped_at_hop, v.root_cause) == (plan_hop, plan_cause)
            if plan_hop
            else (v.status != "dropped")
        )
        counts["plan_held"] += held
    out.conversions += len(verdicts)


def _dumps(obj: object) -> bytes:
    # orjson's bytes keep a 4 KiB allocation whatever their length; a copy is exact-size, so the
    # page items a chunk holds cost a tenth of the memory. (JSONL lines are copied into their
    # day's buffer at once and need no copy.)
    return bytes(memoryview(orjson.dumps(obj)))


def _serialize(
    pr: PersonRecords, as_of: int, rng: random.Random, rate: float, start_ms: int, out: ChunkOutput
) -> None:
    counts = out.counts
    dumps, dumps_line = _dumps, orjson.dumps
    noise = rate > 0
    noise_draw = rng.random
    # Records before the period (none today) would go to its first day's file.
    segment = out.segment
    for m in pr.segment:
        day = max(0, (m.ts - start_ms) // DAY)
        buf = segment.get(day)
        if buf is None:
            buf = segment[day] = bytearray()
        line = dumps_line(m.msg, None, LINE)
        buf += line
        if m.twice:
            buf += line
            counts["dup:segment"] += 1
        if noise and noise_draw() < rate:
            buf += malformed.segment_line(rng, m.ts)
            buf += b"\n"
            counts["bad:segment"] += 1
    counts["rec:segment"] += len(pr.segment)
    receipts = out.receipts
    for r in pr.receipts:
        day = max(0, (r.ts - start_ms) // DAY)
        buf = receipts.get(day)
        if buf is None:
            buf = receipts[day] = bytearray()
        buf += dumps_line(r.body, None, LINE)
        if noise and noise_draw() < rate:
            buf += malformed.receipt_line(rng, r.ts)
            buf += b"\n"
            counts["bad:receipts"] += 1
    counts["rec:receipts"] += len(pr.receipts)
    for f in pr.forms:
        out.forms.append((f.guid, dumps(f.body)))
        if noise and noise_draw() < rate:
            out.forms.append((f.guid, dumps(malformed.form_submission(rng, f.submitted))))
            counts["bad:hubspot_forms"] += 1
    counts["rec:hubspot_forms"] += len(pr.forms)
    for c in pr.contacts:
        final = dumps(c.render(as_of))
        if c.redeliver:
            # An older version first; the newest comes again a few pages later.
            out.contacts.append((dumps(c.render(c.created)), 0))
            out.contacts.append((final, rng.randrange(150, 600)))
            counts["dup:hubspot_contacts"] += 1
        else:
            out.contacts.append((final, 0))
        if noise and noise_draw() < rate:
            out.contacts.append((dumps(malformed.contact(rng, c.created)), 0))
            counts["bad:hubspot_contacts"] += 1
    counts["rec:hubspot_contacts"] += len(pr.contacts)
    for t in pr.tickets:
        ticket, metric = t.render(as_of)
        final = (dumps(ticket), dumps(metric))
        if t.redeliver:
            older, older_metric = t.render(t.created)
            out.tickets.append(("ticket", (dumps(older), dumps(older_metric)), 0))
            out.tickets.append(("ticket", final, rng.randrange(150, 600)))
            counts["dup:zendesk_tickets"] += 1
        else:
            out.tickets.append(("ticket", final, 0))
        user = dumps(t.requester.render())
        delay = rng.randrange(100, 300) if t.late_sideload else 0
        out.tickets.append(("user", user, delay))
        if noise and noise_draw() < rate:
            out.tickets.append(("ticket", (dumps(malformed.ticket(rng, t.created)), None), 0))
            counts["bad:zendesk_tickets"] += 1
    counts["rec:zendesk_tickets"] += len(pr.tickets)
