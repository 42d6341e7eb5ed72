"""A value of the wrong JSON type for a used key of SPEC section 2 is quarantined with a reason,
never landed as its JSON text; a bad line costs one record, never its neighbours."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from lead_parity.pipeline.ingest import ingest_source

TS = "2026-10-10T10:00:00Z"


def track(mid: str, **over) -> dict:
    msg = {"type": "track", "messageId": mid, "timestamp": TS, "event": "Demo Requested",
           "properties": {"email": "a@b.co"}}  # fmt: skip
    for path, value in over.items():
        node = msg
        *parents, leaf = path.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return msg


def read(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql.replace("T", f"read_parquet('{path}')", 1)).fetchall()


_OBJ = "expected string or number, got"
SEGMENT_CASES = [
    ("properties__email", 12345, "properties.email: expected string, got number"),
    ("properties__email", ["a@b.co"], "properties.email: expected string, got array"),
    ("properties__lead_id", {"id": "L1"}, f"properties.lead_id: {_OBJ} object"),
    ("properties__intent_score", True, "intent_score: expected number or string, got boolean"),
    ("traits__company", {"name": "Acme"}, "traits.company: expected string, got object"),
    ("context__traits__email", 7, "context.traits.email: expected string, got number"),
    ("context__campaign__source", ["ads"], "context.campaign.source: expected string, got array"),
    ("messageId", {"x": 1}, "messageId: expected string or number, got object"),
    ("timestamp", True, "timestamp: expected string or number, got boolean"),
    ("event", 5, "event: expected string, got number"),
    ("anonymousId", ["a"], "anonymousId: expected string or number, got array"),
    ("userId", False, "userId: expected string or number, got boolean"),
]  # fmt: skip


def test_every_wrong_segment_type_is_quarantined_and_its_neighbours_land(tmp_path):
    lines = [json.dumps(track("good-0"))]
    for i, (path, value, _) in enumerate(SEGMENT_CASES):
        lines.append(json.dumps(track(f"bad-{i}", **{path: value})))
        lines.append(json.dumps(track(f"good-{i + 1}")))
    seg = tmp_path / "input" / "segment"
    seg.mkdir(parents=True)
    # An undecodable line in the middle costs that line only.
    body = "\n".join(lines).encode() + b'\n{"type": "track", "messageId": "x\xff"}\n'
    (seg / "a.jsonl").write_bytes(body + json.dumps(track("good-last")).encode() + b"\n")
    landed = tmp_path / "landed"
    result = ingest_source("segment", tmp_path / "input", landed)

    loaded = {
        r[0] for r in read(landed / "segment" / "messages.parquet", "select message_id from T")
    }
    assert loaded == {f"good-{i}" for i in range(len(SEGMENT_CASES) + 1)} | {"good-last"}
    bad = read(landed / "segment" / "quarantine.parquet",
               "select position, reason from T order by position")  # fmt: skip
    expected = [(2 * i + 1, want) for i, (_, _, want) in enumerate(SEGMENT_CASES)]
    expected.append((2 * len(SEGMENT_CASES) + 1, "line is not valid UTF-8"))
    assert [b[0] for b in bad] == [e[0] for e in expected]
    for (_, reason), (_, want) in zip(bad, expected, strict=True):
        assert want in reason, reason
    assert result.records_read == result.records_loaded + result.records_quarantined
    assert result.records_read == 2 * len(SEGMENT_CASES) + 3


def test_an_email_that_is_a_string_of_digits_is_still_text(tmp_path):
    seg = tmp_path / "input" / "segment"
    seg.mkdir(parents=True)
    msg = track(
        "m1", properties__email="12345", properties__lead_id=987, properties__intent_score=91
    )
    escaped = track("m2", properties__first_name='Zo\u00eb "Z" \\ O\'Brien')
    (seg / "a.jsonl").write_text(json.dumps(msg) + "\n" + json.dumps(escaped) + "\n")
    landed = tmp_path / "landed"
    ingest_source("segment", tmp_path / "input", landed)
    rows = read(landed / "segment" / "messages.parquet",
                "select message_id, properties_email, properties_lead_id, properties_intent_score,"
                " properties_first_name from T order by 1")  # fmt: skip
    assert rows == [("m1", "12345", "987", "91", None),
                    ("m2", "a@b.co", None, None, 'Zo\u00eb "Z" \\ O\'Brien')]  # fmt: skip


PAGE_CASES = [
    ("hubspot_contacts", {"results": [{"id": "1", "createdAt": TS, "properties": {
        "createdate": TS, "email": 42}}]}, "properties.email: expected string, got number"),
    ("hubspot_contacts", {"results": [{"id": {"v": 1}, "createdAt": TS, "properties": {
        "createdate": TS}}]}, "id: expected string or number, got object"),
    ("hubspot_contacts", {"results": [{"id": "1", "createdAt": TS, "archived": "no", "properties": {
        "createdate": TS}}]}, "archived: expected boolean, got string"),
    ("zendesk_tickets", {"tickets": [{"id": 1, "created_at": TS, "status": ["open"]}]},
     "status: expected string, got array"),
    ("zendesk_tickets", {"tickets": [{"id": 1, "created_at": TS, "via": {"channel": 3}}]},
     "via.channel: expected string, got number"),
    ("zendesk_tickets", {"tickets": [], "users": [{"id": 5, "email": {"a": 1}}]},
     "email: expected string, got object"),
    ("hubspot_forms/guid1", {"results": [{"submittedAt": 1760090400000, "values": [
        {"name": "email", "value": 99}]}]}, "values.email: expected string, got number"),
]  # fmt: skip


@pytest.mark.parametrize(("folder", "page", "reason"), PAGE_CASES)
def test_wrong_types_in_api_pages_are_quarantined(tmp_path, folder, page, reason):
    target = tmp_path / "input" / folder
    target.mkdir(parents=True)
    (target / "p1.json").write_text(json.dumps(page))
    landed = tmp_path / "landed"
    source = folder.split("/")[0]
    result = ingest_source(source, tmp_path / "input", landed)
    reasons = [r[0] for r in read(landed / source / "quarantine.parquet", "select reason from T")]
    assert reasons == ["wrong type for " + reason]
    assert result.records_loaded == 0
    assert result.records_read == result.records_quarantined == 1
