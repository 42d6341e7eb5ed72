"""Segment's warehouse destination: `tracks`, `identifies` and one table per track event.

Columns as Segment documents them (docs/warehouse-inputs.md): `id` is the messageId, `event_text`
the event name as sent (`event` its snake_case table name), traits of an identify and properties
of a track flattened into un-prefixed columns, `context.*` flattened as `context_*`.
"""

from __future__ import annotations

from lead_parity.pipeline.ingest.warehouse.records import Records, obj, records
from lead_parity.pipeline.ingest.warehouse.tables import LoaderTables, Table, ident, literal

KIND = "segment_warehouse"
PERSON = ("email", "lead_id", "first_name", "last_name", "company")
# Tables Segment writes beside the per-event ones; never an event's table.
RESERVED = {"tracks", "identifies", "pages", "screens", "groups", "aliases", "users", "accounts"}
SYNC = ("received_at", "loaded_at", "uuid_ts")


def _context(t: Table) -> str:
    traits = obj([(k, t.col(f"context_traits_{k}", "t")) for k in PERSON])
    campaign = obj([("source", t.col("context_campaign_source", "t"))])
    return obj([("traits", traits), ("campaign", campaign)])


def _common(t: Table, kind: str) -> list[tuple[str, str]]:
    return [
        ("type", literal(kind)),
        ("messageId", t.col("id", "t")),
        ("timestamp", t.ts("timestamp", "t")),
        ("anonymousId", t.col("anonymous_id", "t")),
        ("userId", t.col("user_id", "t")),
    ]


def _event_properties(tables: LoaderTables, tracks: Table) -> str | None:
    """One row per message id of the event tables named in `tracks`: its properties as JSON."""
    slugs = {
        r[0].lower()
        for r in tables.con.execute(
            f"select distinct {tracks.col('event')} from {tracks.relation}"
        ).fetchall()
        if r[0]
    }
    parts = []
    for slug in sorted((slugs & tables.names()) - RESERVED):
        event = tables.table(slug)
        event.require("id")
        props = obj([(k, event.col(k, "e")) for k in (*PERSON, "intent_score")])
        parts.append(
            f"select e.{ident(event.columns['id'].name)} as id, {props} as props "
            f"from {event.relation} as e"
        )
    if not parts:
        return None
    # A message delivered twice sits twice in its event table: one copy of its properties.
    return f"(select id, any_value(props) as props from ({' union all '.join(parts)}) group by id)"


def source_records(tables: LoaderTables, source: str) -> dict[str, list[Records]]:
    tracks = tables.table("tracks")
    tracks.require("id", "timestamp", "event", "event_text")
    props = _event_properties(tables, tracks)
    track = obj(
        [
            *_common(tracks, "track"),
            ("event", tracks.col("event_text", "t")),
            ("properties", "p.props" if props else "cast('{}' as json)"),
            ("context", _context(tracks)),
        ]
    )
    joins = (
        f"left join {props} as p on p.id = t.{ident(tracks.columns['id'].name)}" if props else ""
    )
    found = [records(KIND, tracks, track, order=SYNC, joins=joins)]
    identifies = tables.table("identifies", required=False)
    if identifies is not None:
        identifies.require("id", "timestamp")
        identify = obj(
            [
                *_common(identifies, "identify"),
                ("traits", obj([(k, identifies.col(k, "t")) for k in PERSON])),
                ("context", _context(identifies)),
            ]
        )
        found.append(records(KIND, identifies, identify, order=SYNC))
    return {"messages": found}
