"""Staging views and ops tables on a hand-built landed folder (docs/landed-layout.md), real dbt.

One `dbt build` of staging + ops serves every test. Its ledger holds one unbalanced row on
purpose, so the build must fail on exactly that singular test while every model still builds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from landed_fixtures import DBT, DBT_PROJECT, dbt_env, ts, write_landed

BIG_ID = "9007199254740993"  # 2**53 + 1: a float would lose the last digit

MESSAGES = [
    {
        "message_id": "m1", "type": "track", "event": "Demo Requested",
        "timestamp_utc": ts("2026-10-10T10:00:00"), "anonymous_id": "a1",
        "properties_email": "", "traits_email": "t@x.com", "context_traits_email": "c@x.com",
        "properties_lead_id": "  ", "context_traits_lead_id": " L-1 ",
        "properties_first_name": "Ann", "traits_first_name": "Anna",
        "context_traits_last_name": "Lee", "traits_company": "Acme",
        "properties_intent_score": "n/a", "campaign_source": "",
    },
    {
        "message_id": "m2", "type": "track", "event": "Question Asked",
        "timestamp_utc": ts("2026-10-10T11:00:00"), "anonymous_id": " ", "user_id": "u'1",
        "properties_email": "p@x.com", "properties_intent_score": "85",
        "campaign_source": "google",
    },
    {
        "message_id": "m2", "type": "identify", "timestamp_utc": ts("2026-10-10T11:01:00"),
        "user_id": "u'1", "traits_email": "p@x.com",
    },
    {"message_id": "p1", "type": "page", "timestamp_utc": ts("2026-10-10T11:02:00")},
]  # fmt: skip

ZENDESK = {
    "tickets": [
        {
            "ticket_id": BIG_ID,
            "created_at_utc": ts("2026-10-10T10:05:00"),
            "updated_at_utc": ts("2026-10-10T10:06:00"),
            "requester_id": BIG_ID,
            "assignee_id": "",
            "external_id": "m1",
            "status": "deleted",
            "via_channel": "web",
        }
    ],
    "users": [
        {
            "user_id": BIG_ID,
            "email": "old@z.com",
            "name": "Z",
            "updated_at_utc": ts("2026-10-10T09:00:00"),
        },
        {
            "user_id": "42",
            "email": "a@z.com",
            "name": "A",
            "updated_at_utc": ts("2026-10-10T12:00:00"),
        },
    ],
    "metric_sets": [
        {
            "ticket_id": BIG_ID,
            "initially_assigned_at_utc": None,
            "updated_at_utc": ts("2026-10-10T10:06:00"),
        }
    ],
}

EXPORTED_USERS = [
    {
        "user_id": BIG_ID,
        "email": "new@z.com",
        "name": "Z",
        "updated_at_utc": ts("2026-10-10T10:00:00"),
    },
    {
        "user_id": "42",
        "email": "stale@z.com",
        "name": "A",
        "updated_at_utc": ts("2026-10-10T08:00:00"),
    },
]

LEDGER = {
    "segment": [
        {"source": "segment", "file": "segment/s.jsonl", "records_read": 6, "records_loaded": 4,
         "records_quarantined": 1, "duplicates": 1},
    ],
    "receipts": [
        {"source": "receipts", "file": "receipts/r.jsonl", "records_read": 5, "records_loaded": 1,
         "records_quarantined": 1, "duplicates": 1},
    ],
}  # fmt: skip

QUARANTINE = {
    "segment": [
        {"source": "segment", "file": "segment/s.jsonl", "position": 3, "entity": "message",
         "reason": "line is not JSON", "raw": "{not json"},
    ],
    "receipts": [
        {"source": "receipts", "file": "receipts/r.jsonl", "position": 0, "entity": "receipt",
         "reason": "missing required key: hop", "raw": '{"receipt_id": "r\'1"}'},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    workdir = tmp_path_factory.mktemp("staging")
    records = {
        "segment": {"messages": MESSAGES},
        "zendesk_tickets": ZENDESK,
        "zendesk_users": {"users": EXPORTED_USERS},
        "receipts": {"receipts": []},
    }
    write_landed(workdir / "landed", records, quarantine=QUARANTINE, ledger=LEDGER)
    env = dbt_env(workdir) | {"DBT_INDIRECT_SELECTION": "cautious"}
    command = [
        str(DBT), "build", "--select", "path:models/staging", "path:models/ops",
        "path:tests/singular/assert_ingestion_ledger_balances.sql",
        # ops.lead_crm_contacts reads the identity spine, which a staging-only build lacks.
        "--exclude", "lead_crm_contacts",
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return Path(env["LEAD_PARITY_WAREHOUSE"]), result


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_unbalanced_ledger_row_fails_only_the_ledger_test(built):
    _, result = built
    assert result.returncode == 1, result.stdout[-3000:]
    failures = [line for line in result.stdout.splitlines() if " FAIL " in line]
    assert len(failures) == 1 and "assert_ingestion_ledger_balances" in failures[0]
    # dbt counts the failed test as the only error; no model was skipped
    assert "ERROR=1 " in result.stdout and "SKIP=0 " in result.stdout


def test_segment_fields_coalesce_properties_then_traits_then_context(built):
    warehouse, _ = built
    rows = query(
        warehouse,
        "select email, lead_id, first_name, last_name, company, anonymous_id, intent_score,"
        " origin from stg_segment__messages where message_id = 'm1'",
    )
    assert rows == [("t@x.com", "L-1", "Ann", "Lee", "Acme", "a1", None, "direct")]


def test_segment_keeps_track_and_identify_only_and_casts_scores(built):
    warehouse, _ = built
    rows = query(
        warehouse,
        "select message_id, message_type, anonymous_id, user_id, intent_score, origin"
        " from stg_segment__messages order by message_id, message_type",
    )
    assert rows == [
        ("m1", "track", "a1", None, None, "direct"),
        ("m2", "identify", None, "u'1", None, "direct"),
        ("m2", "track", None, "u'1", 85.0, "google"),
    ]


def test_zendesk_users_union_keeps_the_newest_version_and_every_digit(built):
    warehouse, _ = built
    rows = query(warehouse, "select user_id, email from stg_zendesk__users order by user_id")
    assert rows == [(42, "a@z.com"), (int(BIG_ID), "new@z.com")]
    tickets = query(
        warehouse,
        "select ticket_id, requester_id, assignee_id, status from stg_zendesk__tickets",
    )
    assert tickets == [(int(BIG_ID), int(BIG_ID), None, "deleted")]


def test_ops_tables_union_every_source(built):
    warehouse, _ = built
    quarantined = query(
        warehouse, "select source, position, reason, raw from ops.quarantined_records order by 1"
    )
    assert quarantined == [
        ("receipts", 0, "missing required key: hop", '{"receipt_id": "r\'1"}'),
        ("segment", 3, "line is not JSON", "{not json"),
    ]
    ledger = query(
        warehouse,
        "select source, records_read - records_loaded - records_quarantined - duplicates"
        " from ops.ingestion_ledger order by source",
    )
    assert ledger == [("receipts", 2), ("segment", 0)]


def test_source_coverage_marks_missing_sources_unknown(built):
    warehouse, _ = built
    rows = dict(query(warehouse, "select source, coverage from ops.source_coverage"))
    assert rows == {
        "segment": "known",
        "zendesk_tickets": "known",
        "zendesk_users": "known",
        "receipts": "known",
        "hubspot_forms": "unknown",
        "hubspot_contacts": "unknown",
    }
    served = dict(query(warehouse, "select source, hops_served from ops.source_coverage"))
    assert served["hubspot_contacts"] == 2 and served["segment"] == 0
