"""File ingestion (SPEC section 2): every malformed-input case, the ledger, idempotency."""

import gzip
import hashlib
import json
import unicodedata
from pathlib import Path

import duckdb
import pytest

from lead_parity.pipeline.ingest import SOURCES, ingest_all, ingest_source


def write_jsonl(path: Path, lines: list, gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())


def write_page(path: Path, page) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page if isinstance(page, str) else json.dumps(page))


def rows(path: Path, sql: str = "select * from t order by all") -> list[tuple]:
    with duckdb.connect() as con:
        con.register("t", con.read_parquet(str(path)))
        return con.execute(sql).fetchall()


def track(mid, ts="2026-10-10T10:00:00Z", **extra):
    return {"type": "track", "messageId": mid, "timestamp": ts, "event": "Demo Requested", **extra}


@pytest.fixture
def stack(tmp_path) -> Path:
    """A small input folder holding every malformed-input case of SPEC section 2."""
    inp = tmp_path / "input"
    write_jsonl(
        inp / "segment" / "a.jsonl",
        [
            track("m1", "2026-10-10T12:00:00+02:00", properties={"email": " Ann@Acme.com "}),
            "{not json",
            track("m1", "2026-10-10T12:00:00+02:00"),  # the same message delivered twice
            {"type": "track", "timestamp": "2026-10-10T10:00:00Z"},  # no messageId
            track("m2", "yesterday-ish"),  # timestamp does not parse
            track("I'm unique", unknown_field={"nested": [1, 2]}),  # quote in id, unknown field
            {"type": "page", "name": "Pricing"},  # other types: read, loaded, not validated
            "",  # blank lines are not records
            "[1, 2]",  # JSON, but not an object
        ],
    )
    write_jsonl(
        inp / "segment" / "b.jsonl.gz",
        [track("m3", "2026-10-10T05:00:00-05:00", properties={"email": "ＢＯＢ@corp.com"})],
        gz=True,
    )
    contact = {
        "id": "101",
        "properties": {"email": "ann@acme.com", "createdate": "2026-10-10T10:02:00.000Z"},
        "createdAt": "2026-10-10T10:02:00Z",
        "updatedAt": "2026-10-10T10:02:00Z",
        "archived": False,
    }
    newer = {**contact, "updatedAt": "2026-10-10T11:00:00Z"}
    newer["properties"] = {**contact["properties"], "hubspot_owner_id": "7"}
    write_page(inp / "hubspot_contacts" / "p1.json", {"results": [newer, {"properties": {}}]})
    write_page(inp / "hubspot_contacts" / "p2.json", {"results": [contact]})  # older copy, later
    write_page(inp / "hubspot_contacts" / "p3.json", '{"results": [{"id": "1"')  # truncated
    write_page(
        inp / "hubspot_forms" / "g1" / "p1.json",
        {
            "results": [
                {"submittedAt": 1760090460000, "values": [{"name": "email", "value": "A@x.com"}]},
                {"submittedAt": 1760090460000, "values": [{"name": "email", "value": "A@x.com"}]},
                {"conversionId": "c1", "submittedAt": "not-a-time", "values": []},
            ]
        },
    )
    write_page(
        inp / "zendesk_tickets" / "p1.json",
        {
            "tickets": [
                {"id": 9007199254740993, "created_at": "2026-10-10T10:05:00Z", "requester_id": 1},
                {"created_at": "2026-10-10T10:05:00Z"},
            ],
            "users": [{"id": 1, "email": "Kim@X.com", "name": "Kim X"}],
            "metric_sets": [{"ticket_id": 9007199254740993, "initially_assigned_at": None}],
            "end_of_stream": True,
        },
    )
    write_page(inp / "zendesk_tickets" / "p2.json", {"error": "RecordNotFound"})
    write_jsonl(
        inp / "receipts" / "r.jsonl",
        [
            {
                "receipt_id": "r1",
                "message_id": "m1",
                "hop": "crm",
                "attempted_at": "2026-10-10T10:00:01Z",
                "status_code": None,
                "outcome": "failed",
            },
            {"receipt_id": "r2", "message_id": "m1", "hop": "crm"},
        ],
    )
    return inp


def test_every_record_read_is_loaded_quarantined_or_a_duplicate(stack, tmp_path):
    results = ingest_all(stack, tmp_path / "landed")
    ledger = rows(
        tmp_path / "landed" / "*" / "ledger.parquet",
        "select file, records_read, records_loaded, records_quarantined, duplicates from t "
        "order by file",
    )
    by_file = {r[0]: r[1:] for r in ledger}
    assert by_file["segment/a.jsonl"] == (8, 3, 4, 1)
    assert by_file["segment/b.jsonl.gz"] == (1, 1, 0, 0)
    assert by_file["hubspot_contacts/p1.json"] == (2, 1, 1, 0)
    assert by_file["hubspot_contacts/p2.json"] == (1, 0, 0, 1)
    assert by_file["hubspot_contacts/p3.json"] == (1, 0, 1, 0)
    assert by_file["hubspot_forms/g1/p1.json"] == (3, 1, 1, 1)
    assert by_file["zendesk_tickets/p1.json"] == (4, 3, 1, 0)
    assert by_file["zendesk_tickets/p2.json"] == (1, 0, 1, 0)
    assert by_file["receipts/r.jsonl"] == (2, 1, 1, 0)
    for read, loaded, quarantined, dupes in by_file.values():
        assert read == loaded + quarantined + dupes
    assert results["zendesk_users"].is_present is False


def test_quarantine_says_where_and_why_with_the_raw_text(stack, tmp_path):
    ingest_all(stack, tmp_path / "landed")
    bad = rows(
        tmp_path / "landed" / "*" / "quarantine.parquet",
        "select source, file, position, reason, raw from t order by source, file, position",
    )
    reasons = {(r[1], r[2]): r[3] for r in bad}
    assert reasons[("segment/a.jsonl", 1)] == "not valid JSON"
    assert reasons[("segment/a.jsonl", 3)] == "missing messageId"
    assert reasons[("segment/a.jsonl", 4)].startswith("unparsable timestamp timestamp")
    assert reasons[("segment/a.jsonl", 8)] == "record is not a JSON object"
    assert reasons[("hubspot_contacts/p1.json", 1)] == "missing id; missing properties.createdate"
    assert reasons[("hubspot_contacts/p3.json", 0)] == "page is not valid JSON"
    assert reasons[("hubspot_forms/g1/p1.json", 2)].startswith("unparsable timestamp submittedAt")
    assert reasons[("zendesk_tickets/p1.json", 1)] == "missing id"
    assert reasons[("zendesk_tickets/p2.json", 0)].startswith("page has no tickets")
    assert "missing attempted_at" in reasons[("receipts/r.jsonl", 1)]
    raw = {(r[1], r[2]): r[4] for r in bad}
    assert raw[("segment/a.jsonl", 1)] == "{not json"
    assert raw[("hubspot_contacts/p3.json", 0)] == '{"results": [{"id": "1"'


def test_timestamps_become_utc_and_emails_are_normalised(stack, tmp_path):
    ingest_all(stack, tmp_path / "landed")
    messages = rows(
        tmp_path / "landed" / "segment" / "messages.parquet",
        "select message_id, strftime(timestamp_utc, '%Y-%m-%d %H:%M'), properties_email "
        "from t where type = 'track' order by message_id",
    )
    assert messages == [
        ("I'm unique", "2026-10-10 10:00", None),
        ("m1", "2026-10-10 10:00", "ann@acme.com"),
        ("m3", "2026-10-10 10:00", "bob@corp.com"),
    ]
    forms = rows(
        tmp_path / "landed" / "hubspot_forms" / "submissions.parquet",
        "select form_guid, email, strftime(submitted_at_utc, '%Y-%m-%d %H:%M:%S'), "
        "submission_key like 'h:%' from t",
    )
    assert forms == [("g1", "a@x.com", "2025-10-10 10:01:00", True)]


def test_newest_version_wins_and_big_zendesk_ids_keep_every_digit(stack, tmp_path):
    ingest_all(stack, tmp_path / "landed")
    contacts = rows(
        tmp_path / "landed" / "hubspot_contacts" / "contacts.parquet",
        "select contact_id, hubspot_owner_id, _file from t",
    )
    assert contacts == [("101", "7", "hubspot_contacts/p1.json")]
    tickets = rows(
        tmp_path / "landed" / "zendesk_tickets" / "tickets.parquet", "select ticket_id from t"
    )
    assert tickets == [("9007199254740993",)]
    users = rows(tmp_path / "landed" / "zendesk_tickets" / "users.parquet", "select email from t")
    assert users == [("kim@x.com",)]


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(repr(rows(p)).encode()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
        if not p.relative_to(folder).as_posix().startswith(".")  # the parsed cache, not landed
    }


def test_a_second_run_on_the_same_input_changes_no_table(stack, tmp_path):
    landed = tmp_path / "landed"
    ingest_all(stack, landed)
    first = _digest(landed)
    ingest_all(stack, landed)
    assert _digest(landed) == first
    # Every source's entities, quarantine, ledger and manifest, and the connectors' call table.
    assert len(first) == sum(len(s.entities) + 3 for s in SOURCES.values()) + 1
    assert "_connector_calls/http_calls.parquet" in first
    # No scratch left behind; the cache of parsed file versions is kept (versions.py).
    assert [p.name for p in landed.iterdir() if p.name.startswith(".")] == [".parsed"]


def test_a_missing_source_folder_lands_empty_tables_marked_absent(tmp_path):
    (tmp_path / "input").mkdir()
    result = ingest_source("zendesk_tickets", tmp_path / "input", tmp_path / "landed")
    assert (result.is_present, result.files, result.records_read) == (False, 0, 0)
    folder = tmp_path / "landed" / "zendesk_tickets"
    assert rows(folder / "manifest.parquet") == [("zendesk_tickets", False, 0)]
    assert rows(folder / "tickets.parquet") == []
    with duckdb.connect() as con:
        columns = con.execute(
            "select column_name, column_type from (describe select * from read_parquet(?))",
            [str(folder / "tickets.parquet")],
        ).fetchall()
    assert ("created_at_utc", "TIMESTAMP") in columns


def test_a_crash_before_the_swap_keeps_the_previous_complete_landing(stack, tmp_path, monkeypatch):
    landed = tmp_path / "landed"
    ingest_all(stack, landed)
    before = _digest(landed)
    write_jsonl(stack / "segment" / "c.jsonl", [track("m9")])

    def crash(*_args, **_kwargs):
        raise RuntimeError("simulated crash")

    from lead_parity.pipeline.ingest import engine

    monkeypatch.setattr(engine, "_swap_in", crash)
    with pytest.raises(RuntimeError):
        ingest_source("segment", stack, landed)
    assert _digest(landed) == before
    monkeypatch.undo()
    ingest_source("segment", stack, landed)
    ids = rows(
        landed / "segment" / "messages.parquet", "select message_id from t where type='track'"
    )
    assert ("m9",) in ids


def test_of_two_versions_updated_in_the_same_second_the_later_copy_wins(tmp_path):
    inp = tmp_path / "input"
    ticket = {"id": 5, "created_at": "2026-10-10T10:00:00Z", "updated_at": "2026-10-10T10:05:00Z"}
    write_page(inp / "zendesk_tickets" / "p1.json", {"tickets": [{**ticket, "status": "pending"}]})
    write_page(inp / "zendesk_tickets" / "p2.json", {"tickets": [{**ticket, "status": "solved"}]})
    ingest_source("zendesk_tickets", inp, tmp_path / "landed")
    folder = tmp_path / "landed" / "zendesk_tickets"
    assert rows(folder / "tickets.parquet", "select status from t") == [("solved",)]
    assert rows(folder / "ledger.parquet", "select file, duplicates from t order by file") == [
        ("zendesk_tickets/p1.json", 1),
        ("zendesk_tickets/p2.json", 0),
    ]


EMAIL_CASES = {
    # ASCII values are normalised in SQL, the others by the engine afterwards: both must agree
    # with SPEC section 4 (NFKC, trim, lower-case, empty is null).
    "a": " Ann@Acme.com ",
    "b": "\tJOE@X.COM\x1c",
    "c": "   ",
    "d": "ＢＯＢ@Corp.com",
    "e": "\u3000Zoë@Ex.com\u2003",
    "f": "\u3000",
    "g": "o'neil@x.com",
    "h": "ＢＯＢ@Corp.com",  # the same non-ASCII value twice: one mapping, both rows updated
}


def test_every_email_column_is_normalised_as_spec_section_4_says(tmp_path):
    inp = tmp_path / "input"
    write_jsonl(
        inp / "segment" / "a.jsonl",
        [
            track(
                mid, properties={"email": e}, traits={"email": e}, context={"traits": {"email": e}}
            )
            for mid, e in EMAIL_CASES.items()
        ],
    )
    contacts = [
        {
            "id": mid,
            "properties": {"email": e, "hs_additional_emails": e, "createdate": "2026-10-10"},
        }
        for mid, e in EMAIL_CASES.items()
    ]
    write_page(inp / "hubspot_contacts" / "p1.json", {"results": contacts})
    forms = [
        {
            "conversionId": mid,
            "submittedAt": 1760090460000,
            "values": [{"name": "email", "value": e}],
        }
        for mid, e in EMAIL_CASES.items()
    ]
    write_page(inp / "hubspot_forms" / "g1" / "p1.json", {"results": forms})
    landed = tmp_path / "landed"
    ingest_all(inp, landed)

    expected = sorted(
        (mid, unicodedata.normalize("NFKC", e).strip().lower() or None)
        for mid, e in EMAIL_CASES.items()
    )
    segment = landed / "segment" / "messages.parquet"
    for column in ("properties_email", "traits_email", "context_traits_email"):
        assert rows(segment, f"select message_id, {column} from t order by 1") == expected
    contacts_file = landed / "hubspot_contacts" / "contacts.parquet"
    for column in ("email", "hs_additional_emails"):
        assert rows(contacts_file, f"select contact_id, {column} from t order by 1") == expected
    submissions = landed / "hubspot_forms" / "submissions.parquet"
    assert rows(submissions, "select conversion_id, email from t order by 1") == expected


def test_records_that_are_not_objects_are_quarantined_wherever_they_start(tmp_path):
    inp = tmp_path / "input"
    write_jsonl(
        inp / "segment" / "a.jsonl",
        [
            '  {"type": "track", "messageId": "m1", "timestamp": "2026-10-10T10:00:00Z"}',
            "[1, 2]",
            ' "text"',
            "{bad",
        ],
    )
    write_page(
        inp / "hubspot_contacts" / "p1.json",
        {"results": [5, {"id": "1", "properties": {"createdate": "2026-10-10"}}]},
    )
    write_page(inp / "hubspot_contacts" / "p2.json", '  \n {"results": []}')
    write_page(inp / "hubspot_contacts" / "p3.json", "  [1]")
    landed = tmp_path / "landed"
    ingest_all(inp, landed)
    assert rows(landed / "segment" / "messages.parquet", "select message_id from t") == [("m1",)]
    assert rows(landed / "segment" / "quarantine.parquet", "select position, reason from t") == [
        (1, "record is not a JSON object"),
        (2, "record is not a JSON object"),
        (3, "not valid JSON"),
    ]
    assert rows(landed / "hubspot_contacts" / "contacts.parquet", "select contact_id from t") == [
        ("1",)
    ]
    assert rows(
        landed / "hubspot_contacts" / "quarantine.parquet", "select file, position, reason from t"
    ) == [
        ("hubspot_contacts/p1.json", 0, "record is not a JSON object"),
        ("hubspot_contacts/p3.json", 0, "page is not a JSON object"),
    ]
