"""Which conversions need a person, read from the warehouse's marts and receipts at `as_of`.

One row per (kind, conversion_id) whose evidence is visible at `as_of`, with the hop the item
waits for and, when that hop has been reached, when. `opened_at` is the moment the evidence
became visible in the input, not the run's time:

- high_intent_unassigned: converted_at + slo.high_intent_unassigned_after (from then on the
  lead is known to be unassigned too long);
- enrichment_fallback: the first enrichment receipt's attempted_at (none delivered or replayed);
- dead_letter: the first dead-lettered receipt's attempted_at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from lead_parity.contract import HOP_RULES
from lead_parity.pipeline.review_queue.settings import QueueSettings

CONVERSIONS = "marts.fct_conversions"
RECEIPTS = "main.stg_integration__receipts"

EVIDENCE_SQL = """
with

conversions as (
    select conversion_id, conversion_type, origin, converted_at, intent_score
    from marts.fct_conversions
),

chains as (select * from rq_chains),

receipts as (
    select conversion_id, hop, attempted_at, lower(outcome) as outcome
    from main.stg_integration__receipts
    where attempted_at <= $as_of
),

high_intent as (
    select
        'high_intent_unassigned' as kind,
        conversions.conversion_id,
        chains.assignment_hop as hop,
        conversions.converted_at + to_seconds($after_s) as opened_at,
        'intent ' || cast(conversions.intent_score as varchar) || ', no owner '
            || cast($after_s // 60 as varchar) || ' min after converting' as evidence
    from conversions
    inner join chains on conversions.conversion_type = chains.conversion_type
    where conversions.intent_score >= $score
      and conversions.converted_at + to_seconds($after_s) <= $as_of
),

enrichment as (
    select
        'enrichment_fallback' as kind,
        receipts.conversion_id,
        any_value(chains.assignment_hop) as hop,
        min(receipts.attempted_at) as opened_at,
        'enrichment: ' || cast(count(*) as varchar) || ' attempt(s), none delivered' as evidence
    from receipts
    inner join conversions on receipts.conversion_id = conversions.conversion_id
    inner join chains on conversions.conversion_type = chains.conversion_type
    where receipts.hop = 'enrichment'
    group by receipts.conversion_id
    having count(case when receipts.outcome in ('delivered', 'replayed') then 1 end) = 0
),

dead_letters as (
    select
        'dead_letter' as kind,
        receipts.conversion_id,
        -- A dead-lettered enrichment blocks the assignment hop; any other names its own hop.
        arg_min(
            case when receipts.hop = 'enrichment' then chains.assignment_hop else receipts.hop end,
            receipts.attempted_at
        ) as hop,
        min(receipts.attempted_at) as opened_at,
        'dead-lettered ' || arg_min(receipts.hop, receipts.attempted_at) || ' receipt' as evidence
    from receipts
    inner join conversions on receipts.conversion_id = conversions.conversion_id
    left join chains on conversions.conversion_type = chains.conversion_type
    where receipts.outcome = 'dead_lettered'
    group by receipts.conversion_id
),

candidates as (
    select * from high_intent
    union all
    select * from enrichment
    union all
    select * from dead_letters
),

waiting as (
    -- Items not done yet: a reached conversion matters only if it closes one of them.
    select * from rq_waiting
),

final as (
    select
        candidates.kind,
        candidates.conversion_id,
        candidates.hop,
        candidates.opened_at,
        candidates.evidence,
        conversions.conversion_type,
        conversions.origin,
        conversions.intent_score,
        {reached_at} as reached_at
    from candidates
    inner join marts.fct_conversions as conversions
        on candidates.conversion_id = conversions.conversion_id
    where candidates.hop is not null
      and (
          {reached_at} is null
          or exists (
              select 1 from waiting
              where waiting.kind = candidates.kind
                and waiting.conversion_id = candidates.conversion_id
          )
      )
)

select * from final order by kind, conversion_id
"""


@dataclass(frozen=True)
class Evidence:
    kind: str
    conversion_id: str
    hop: str
    opened_at: datetime
    evidence: str
    conversion_type: str | None
    origin: str | None
    intent_score: float | None
    reached_at: datetime | None  # the hop was reached (as known at as_of): the item closes


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _reached_at_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The candidate's hop's `<hop>_reached_at` column of fct_conversions, as one expression."""
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_conversions'"
        ).fetchall()
    }
    # Hop names come from the fixed rule table (identifiers, never data), so they may be spliced.
    whens = [
        f"when '{hop}' then conversions.{hop}_reached_at"
        for hop in HOP_RULES
        if f"{hop}_reached_at" in columns
    ]
    if not whens:
        return "cast(null as timestamp)"
    return f"(case candidates.hop {' '.join(whens)} end)"


def read_evidence(
    con: duckdb.DuckDBPyConnection,
    settings: QueueSettings,
    as_of: datetime,
    waiting: Iterable[tuple[str, str]] = (),
) -> list[Evidence]:
    """Evidence visible at `as_of` (the marts hold only what happened by then): every candidate
    whose hop is not reached, and the reached ones among `waiting` (kind, conversion_id)."""
    chains = pa.table(
        {
            "conversion_type": list(settings.assignment_hops),
            "assignment_hop": list(settings.assignment_hops.values()),
        },
        schema=pa.schema([("conversion_type", pa.string()), ("assignment_hop", pa.string())]),
    )
    keys = list(waiting)
    pending = pa.table(
        {"kind": [k for k, _ in keys], "conversion_id": [c for _, c in keys]},
        schema=pa.schema([("kind", pa.string()), ("conversion_id", pa.string())]),
    )
    con.register("rq_chains", chains)
    con.register("rq_waiting", pending)
    try:
        rows = con.execute(
            EVIDENCE_SQL.replace("{reached_at}", _reached_at_sql(con)),
            {
                "as_of": as_of.astimezone(UTC).replace(tzinfo=None),
                "after_s": settings.high_intent_unassigned_after_s,
                "score": settings.high_intent_score,
            },
        ).fetchall()
    finally:
        con.unregister("rq_chains")
        con.unregister("rq_waiting")
    return [
        Evidence(
            kind=r[0],
            conversion_id=r[1],
            hop=r[2],
            opened_at=_utc(r[3]),
            evidence=r[4],
            conversion_type=r[5],
            origin=r[6],
            intent_score=r[7],
            reached_at=_utc(r[8]),
        )
        for r in rows
    ]
