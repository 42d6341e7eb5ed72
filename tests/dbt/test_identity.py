"""Identity resolution (SPEC section 4) on hand-built input folders, through real ingestion + dbt.

Every case is a separate person in one shared input folder, so one build serves most tests; the
lead_key stability test builds its own warehouse twice.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from landed_fixtures import DBT, DBT_PROJECT, dbt_env, write_landed

from lead_parity.pipeline.build import build_warehouse

AS_OF = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)
SELECT = "+dim_leads"
BIG_ZENDESK_ID = 9007199254740993  # 2**53 + 1: a float would lose the last digit


def message(mid, when, *, kind="track", anon=None, user=None, event="Demo Requested", **fields):
    body = {"type": kind, "messageId": mid, "timestamp": when, "anonymousId": anon, "userId": user}
    if kind == "track":
        body |= {"event": event, "properties": fields}
    else:
        body |= {"traits": fields}
    return body


def contact(cid, created, updated, **properties):
    return {
        "id": cid,
        "properties": {"createdate": created, "lastmodifieddate": updated, **properties},
        "createdAt": created,
        "updatedAt": updated,
        "archived": False,
    }


def submission(sid, submitted_ms, **values):
    return {
        "conversionId": sid,
        "submittedAt": submitted_ms,
        "pageUrl": "https://x/demo",
        "values": [{"name": k, "value": v} for k, v in values.items()],
    }


def write_input(
    folder: Path,
    *,
    segment: list[dict],
    forms: list[dict] = (),
    contact_pages: list[list[dict]] = (),
    tickets: list[dict] = (),
    users: list[dict] = (),
) -> Path:
    """Write records in the SPEC section 2 layout; empty sources are left out of the stack."""
    (folder / "segment").mkdir(parents=True)
    lines = "\n".join(json.dumps(m) for m in segment) + "\n"
    (folder / "segment" / "s.jsonl").write_text(lines, encoding="utf-8")
    if forms:
        (folder / "hubspot_forms" / "g1").mkdir(parents=True)
        page = {"results": list(forms), "paging": {}}
        (folder / "hubspot_forms" / "g1" / "p1.json").write_text(json.dumps(page))
    if contact_pages:
        (folder / "hubspot_contacts").mkdir()
        for number, results in enumerate(contact_pages, start=1):
            page = {"results": results, "paging": {}}
            (folder / "hubspot_contacts" / f"p{number}.json").write_text(json.dumps(page))
    if tickets:
        (folder / "zendesk_tickets").mkdir()
        page = {"tickets": tickets, "users": users, "metric_sets": [], "end_of_stream": True}
        (folder / "zendesk_tickets" / "p1.json").write_text(json.dumps(page))
    return folder


# The two implementations of int_records_clustered (dbt var identity_components).
COMPONENTS = ["union_find", "label_propagation"]


def build(
    input_dir: Path, warehouse: Path, components: str = "union_find"
) -> dict[tuple[str, str], str]:
    """Build the identity models; return {(record_type, record_id): lead_key}."""
    # cautious: leave out tests that also read models outside the selection (fct_conversions)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_INDIRECT_SELECTION", "cautious")
        build_warehouse(
            input_dir, warehouse, as_of=AS_OF, select=SELECT,
            extra_vars={"identity_components": components},
        )  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select record_type, record_id, lead_key from int_records_resolved"
        ).fetchall()
    return {(record_type, record_id): lead_key for record_type, record_id, lead_key in rows}


def lead(leads: dict, record_type: str, record_id: str) -> str:
    return leads[(record_type, record_id)]


def msg(leads: dict, message_id: str) -> str:
    return lead(leads, "segment_message", message_id)


# One person per case; times on 2026-10-10 unless said.
CASE_SEGMENT = [
    # normalization: " Ann@Acme.com " (track), NFKC fullwidth letters in the contact
    message("n1", "2026-10-10T10:00:00Z", anon="aN1", email=" Ann@Acme.com "),
    # role account: two people give info@acme.com, each on their own device
    message("r1", "2026-10-10T10:00:00Z", anon="aR1", email="info@acme.com"),
    message("r2", "2026-10-10T11:00:00Z", anon="aR2", email="INFO@acme.com"),
    # shared device k1 carries 3 emails; two emails on d2 (below the threshold) still link
    message("k20", "2026-10-10T08:00:00Z", kind="identify", anon="k1", email="j1@x.com"),
    message("k21", "2026-10-10T08:01:00Z", kind="identify", anon="k1", email="j2@x.com"),
    message("k22", "2026-10-10T08:02:00Z", kind="identify", anon="k1", email="j3@x.com"),
    message("k13", "2026-10-10T10:00:00Z", anon="k1", email="j1@x.com"),
    message("k14", "2026-10-10T10:00:00Z", anon="aJ2", email="j2@x.com"),
    message("k15", "2026-10-10T10:05:00Z", anon="k1"),
    message("d1", "2026-10-10T08:00:00Z", kind="identify", anon="d2", email="e1@x.com"),
    message("d2", "2026-10-10T08:01:00Z", kind="identify", anon="d2", email="e2@x.com"),
    # additional emails: the contact's extra addresses link a track and a form
    message("x1", "2026-10-10T10:00:00Z", anon="aX", email="pat@c.com"),
    # contact updated across pages: only the newest version's email links
    message("u1", "2026-10-10T10:00:00Z", anon="aU1", email="old@u.com"),
    message("u2", "2026-10-10T10:00:00Z", anon="aU2", email="new@u.com"),
    # quotes in ids
    message(
        "I'm unique", "2026-10-10T10:00:00Z", anon="a'q", email="o'neil@q.com", lead_id=" it's "
    ),
    message("q2", "2026-10-10T10:30:00Z", kind="identify", user="u'1", lead_id="it's"),
    # userId and lead_id link across messages
    message("l1", "2026-10-10T10:00:00Z", anon="aL1", user="user-7"),
    message("l2", "2026-10-10T10:10:00Z", anon="aL2", user="user-7"),
    # zendesk requester with a 64-bit id and its email on a track
    message("z1", "2026-10-10T10:00:00Z", anon="aZ", email="zed@z.com", event="Question Asked"),
    # a message carrying no identifier at all is a lead of its own
    message("none1", "2026-10-10T10:00:00Z"),
    message("none2", "2026-10-10T10:00:00Z"),
]
CASE_FORMS = [
    submission("fn1", 1791626460000, email="ann@acme.com"),
    submission("fx1", 1791626460000, email="Pat.Work@B.com"),
]
CASE_CONTACTS = [
    [
        contact("301", "2026-10-10T10:02:00Z", "2026-10-10T10:02:00Z", email="\uff21nn@acme.com"),
        contact(
            "302",
            "2026-10-10T10:02:00Z",
            "2026-10-10T10:02:00Z",
            email="pat@a.com",
            hs_additional_emails="pat.work@b.com; PAT@c.com",
        ),
        contact("303", "2026-10-10T10:02:00Z", "2026-10-10T10:02:00Z", email="old@u.com"),
    ],
    [contact("303", "2026-10-10T10:02:00Z", "2026-10-10T12:00:00Z", email="new@u.com")],
]
CASE_TICKETS = [
    {
        "id": 701, "created_at": "2026-10-10T10:03:00Z", "updated_at": "2026-10-10T10:03:00Z",
        "requester_id": BIG_ZENDESK_ID, "assignee_id": None, "external_id": None,
        "status": "new", "via": {"channel": "web"},
    },
    {
        "id": 702, "created_at": "2026-10-10T10:04:00Z", "updated_at": "2026-10-10T10:04:00Z",
        "requester_id": 8001, "assignee_id": None, "external_id": None,
        "status": "new", "via": {"channel": "web"},
    },
]  # fmt: skip
CASE_USERS = [{"id": BIG_ZENDESK_ID, "email": "Zed@Z.com", "name": "Zed Z"}]


@pytest.fixture(scope="module", params=COMPONENTS)
def stack(tmp_path_factory, request) -> tuple[dict, Path]:
    """Every identity case, built once per implementation of the components model."""
    root = tmp_path_factory.mktemp(f"identity_{request.param}")
    input_dir = write_input(
        root / "input", segment=CASE_SEGMENT, forms=CASE_FORMS,
        contact_pages=CASE_CONTACTS, tickets=CASE_TICKETS, users=CASE_USERS,
    )  # fmt: skip
    warehouse = root / "data" / "warehouse.duckdb"
    return build(input_dir, warehouse, request.param), warehouse


@pytest.mark.parametrize("components", COMPONENTS)
def test_a_long_chain_numbered_out_of_order_is_one_lead(tmp_path, components):
    """400 identifiers in one path, first seen in random order: the worst shape for label
    propagation (many rounds without hooking and pointer jumping) and for union-find."""
    import random

    rng = random.Random(5)
    length = 200
    order = list(range(length))
    rng.shuffle(order)
    segment = []
    for i in range(length):
        # anon a{i} is seen with e{i} and e{i+1}: two emails, below the shared-device guard
        for n, email_of in enumerate((i, (i + 1) % length)):
            when = datetime(2026, 10, 1, tzinfo=UTC).timestamp() + order[i] * 60 + n
            stamp = datetime.fromtimestamp(when, UTC).isoformat().replace("+00:00", "Z")
            segment.append(
                message(
                    f"c{i}-{n}", stamp, kind="identify", anon=f"a{i}", email=f"e{email_of}@x.com"
                )
            )
    leads = build(
        write_input(tmp_path / "input", segment=segment), tmp_path / "w.duckdb", components
    )
    assert len(leads) == 2 * length
    assert len(set(leads.values())) == 1


def test_email_is_trimmed_lowercased_and_nfkc_normalized(stack):
    leads, _ = stack
    assert msg(leads, "n1") == lead(leads, "form_submission", "fn1")
    assert msg(leads, "n1") == lead(leads, "contact", "301")


def test_role_account_email_links_nothing(stack):
    leads, warehouse = stack
    assert msg(leads, "r1") != msg(leads, "r2")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        guarded = con.execute(
            "select records.record_id, collected.is_guarded "
            "from int_identifiers_collected as collected "
            "join int_records_unioned as records using (record_code) "
            "where collected.identifier_value = 'info@acme.com' order by records.record_id"
        ).fetchall()
    assert guarded == [("r1", True), ("r2", True)]


def test_shared_device_links_nothing_but_a_two_email_device_does(stack):
    leads, _ = stack
    assert msg(leads, "k13") != msg(leads, "k14")
    assert msg(leads, "k13") == msg(leads, "k20")
    assert msg(leads, "k14") == msg(leads, "k21")
    assert len({msg(leads, m) for m in ("k20", "k21", "k22")}) == 3
    # a message whose only identifier is the shared device is a lead of its own
    assert msg(leads, "k15") not in {msg(leads, m) for m in ("k20", "k21", "k22")}
    assert msg(leads, "d1") == msg(leads, "d2")


def test_additional_emails_link_their_contact(stack):
    leads, _ = stack
    assert msg(leads, "x1") == lead(leads, "contact", "302")
    assert lead(leads, "form_submission", "fx1") == lead(leads, "contact", "302")


def test_contact_updated_across_pages_links_by_its_newest_version(stack):
    leads, warehouse = stack
    assert lead(leads, "contact", "303") == msg(leads, "u2")
    assert msg(leads, "u1") != msg(leads, "u2")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        emails = con.execute(
            "select email from stg_hubspot__contacts where contact_id = '303'"
        ).fetchall()
    assert emails == [("new@u.com",)]


def test_ids_with_quotes_resolve(stack):
    leads, _ = stack
    assert msg(leads, "I'm unique") == msg(leads, "q2")  # linked by lead_id "it's", trimmed


def test_user_id_links_messages(stack):
    leads, _ = stack
    assert msg(leads, "l1") == msg(leads, "l2")


def test_zendesk_requester_keeps_every_digit_and_joins_by_email(stack):
    leads, _ = stack
    assert lead(leads, "zendesk_user", str(BIG_ZENDESK_ID)) == msg(leads, "z1")
    # a requester never sideloaded is still a record, a lead of its own
    assert list(leads.values()).count(lead(leads, "zendesk_user", "8001")) == 1


def test_records_without_identifiers_are_leads_of_their_own(stack):
    leads, _ = stack
    assert msg(leads, "none1") != msg(leads, "none2")
    others = [key for record, key in leads.items() if record[1] not in ("none1", "none2")]
    assert msg(leads, "none1") not in others


def test_dim_leads_counts_identifiers_and_systems(stack):
    leads, warehouse = stack
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("select * from marts.dim_leads where lead_key = ?", [msg(leads, "x1")])
        names = [d[0] for d in con.description]
        row = dict(zip(names, con.fetchone(), strict=True))
        total = con.execute("select count(*), count(distinct lead_key) from marts.dim_leads")
        rows, keys = total.fetchone()
        email_columns = [
            name for (name,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'dim_leads'"
            ).fetchall() if "email" in name and name != "emails"
        ]  # fmt: skip
    assert rows == keys == len(set(leads.values()))
    assert email_columns == []
    assert row["emails"] == 3  # pat@c.com, pat@a.com, pat.work@b.com
    assert row["anonymous_ids"] == 1
    assert row["hubspot_contacts"] == 1
    assert row["has_segment"] and row["has_hubspot_forms"] and row["has_hubspot_contacts"]
    assert not row["has_zendesk"]
    assert row["conversions"] == 1
    assert str(row["first_seen_at"]) == "2026-10-10 10:00:00"


def expected_key(identifier_type: str, value: str) -> str:
    return hashlib.md5(f"identifier:{identifier_type}:{value}".encode()).hexdigest()


def test_lead_key_survives_a_second_run_with_new_later_identifiers(stack, tmp_path):
    before, _ = stack
    later = [
        message("n2", "2026-10-11T09:00:00Z", anon="aN9", email="ann@acme.com", user="ann-1"),
        message("n3", "2026-10-11T10:00:00Z", kind="identify", user="ann-1", lead_id="L-ann"),
        message("l3", "2026-10-11T10:00:00Z", anon="aL3", user="user-7"),
    ]
    input_dir = write_input(
        tmp_path / "input", segment=CASE_SEGMENT + later, forms=CASE_FORMS,
        contact_pages=CASE_CONTACTS, tickets=CASE_TICKETS, users=CASE_USERS,
    )  # fmt: skip
    after = build(input_dir, tmp_path / "data" / "warehouse.duckdb")
    assert {record: after[record] for record in before} == before
    assert msg(after, "n3") == msg(after, "n2") == msg(before, "n1")
    assert msg(after, "l3") == msg(before, "l1")
    # the key is the hash of the component's earliest identifier (ties: type, then value)
    assert msg(before, "l1") == expected_key("anonymous_id", "aL1")
    assert msg(before, "n1") == expected_key("anonymous_id", "aN1")


def load_clustering_model():
    path = DBT_PROJECT / "models/intermediate/identity/int_records_clustered.py"
    spec = importlib.util.spec_from_file_location("identifiers_clustered", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_components(node_count: int, edges: list[tuple[int, int]]) -> list[int]:
    neighbours: dict[int, set[int]] = {node: set() for node in range(node_count)}
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    smallest = [-1] * node_count
    for start in range(node_count):
        if smallest[start] >= 0:
            continue
        seen, todo = {start}, [start]
        while todo:
            for nxt in neighbours[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        for node in seen:
            smallest[node] = min(seen)
    return smallest


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_union_find_matches_a_breadth_first_search(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    node_count = 2000
    edges = [tuple(int(x) for x in rng.integers(0, node_count, 2)) for _ in range(1500)]
    path = rng.permutation(node_count)[:300]  # a long chain in random order
    edges += list(zip(path[:-1].tolist(), path[1:].tolist(), strict=True))
    sources = np.array([a for a, _ in edges], dtype=np.int64)
    targets = np.array([b for _, b in edges], dtype=np.int64)
    labels = load_clustering_model().smallest_node_per_component(node_count, sources, targets)
    assert labels.tolist() == reference_components(node_count, edges)


def write_scale_landed(workdir: Path, persons: int) -> None:
    """Landed files for `persons` synthetic people, generated in DuckDB (ingestion is not timed).

    Per person: an identify (anon + email), a track (anon + email + lead_id), a form submission
    (email + anon); every other person also has a contact (id, email, one additional email).
    """
    landed = workdir / "landed"
    write_landed(landed, {"segment": {}, "hubspot_forms": {}, "hubspot_contacts": {}})
    messages = landed / "segment" / "messages.parquet"
    submissions = landed / "hubspot_forms" / "submissions.parquet"
    contacts = landed / "hubspot_contacts" / "contacts.parquet"
    null = "cast(null as varchar)"
    with duckdb.connect() as con:
        con.execute("set threads = 2")
        con.execute(
            f"""
            create table people as
            select
                range as p,
                timestamp '2026-10-01 00:00:00' + to_seconds(range % 864000) as seen_at
            from range({persons})
            """
        )
        con.execute(
            f"""
            copy (
                select
                    kind || p as message_id, kind as type,
                    case when kind = 'track' then 'Demo Requested' end as event,
                    seen_at + to_seconds(case when kind = 'track' then 60 else 0 end)
                        as timestamp_utc,
                    'a' || p as anonymous_id, {null} as user_id,
                    case when kind = 'track' then 'e' || p || '@x.com' end
                        as properties_email,
                    case when kind = 'track' then 'L' || p end as properties_lead_id,
                    {null} as properties_intent_score, {null} as properties_first_name,
                    {null} as properties_last_name, {null} as properties_company,
                    case when kind = 'identify' then 'e' || p || '@x.com' end as traits_email,
                    {null} as traits_lead_id, {null} as traits_first_name,
                    {null} as traits_last_name, {null} as traits_company,
                    {null} as context_traits_email, {null} as context_traits_lead_id,
                    {null} as context_traits_first_name, {null} as context_traits_last_name,
                    {null} as context_traits_company, 'google' as campaign_source,
                    's.jsonl' as _file, p as _position
                from people, (values ('track'), ('identify')) as kinds (kind)
            ) to '{messages}' (format parquet)
            """
        )
        con.execute(
            f"""
            copy (
                select
                    'g1' as form_guid, 'f' || p as conversion_id, 'f' || p as submission_key,
                    seen_at + to_seconds(30) as submitted_at_utc, 'https://x' as page_url,
                    'e' || p || '@x.com' as email, {null} as firstname, {null} as lastname,
                    {null} as company, {null} as lead_id, 'a' || p as anonymous_id,
                    'p1.json' as _file, p as _position
                from people
            ) to '{submissions}' (format parquet)
            """
        )
        con.execute(
            f"""
            copy (
                select
                    cast(p as varchar) as contact_id, 'e' || p || '@x.com' as email,
                    'w' || p || '@work.com' as hs_additional_emails, {null} as firstname,
                    {null} as lastname, {null} as company, {null} as lead_id,
                    seen_at + to_seconds(120) as createdate_utc, {null} as hubspot_owner_id,
                    cast(null as timestamp) as hubspot_owner_assigneddate_utc,
                    seen_at as lastmodifieddate_utc, seen_at as created_at_utc,
                    seen_at as updated_at_utc,
                    false as archived, 'p1.json' as _file, p as _position
                from people
                where p % 2 = 0
            ) to '{contacts}' (format parquet)
            """
        )


@pytest.mark.slow
def test_identity_resolves_a_million_persons_within_a_minute(tmp_path):
    """Scale check of SPEC section 4's graph: 1,000,000 persons, several million links."""
    persons = 1_000_000
    write_scale_landed(tmp_path, persons)
    env = dbt_env(tmp_path)
    command = [
        str(DBT), "run", "--select", "+int_records_resolved",
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text())["results"]
    identity = [r for r in results if r["unique_id"].startswith("model.lead_parity.int_")]
    # Wall time from the first identity model's start to the last one's end (two run in parallel).
    steps = [t for r in identity for t in r["timing"] if t["name"] == "execute"]
    started = min(datetime.fromisoformat(t["started_at"].rstrip("Z")) for t in steps)
    completed = max(datetime.fromisoformat(t["completed_at"].rstrip("Z")) for t in steps)
    seconds = (completed - started).total_seconds()
    per_model = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 1) for r in identity}
    print(f"identity models at {persons} persons: {seconds:.1f} s wall; {per_model}")
    with duckdb.connect(env["LEAD_PARITY_WAREHOUSE"], read_only=True) as con:
        leads, edges = con.execute(
            "select (select count(distinct lead_key) from int_records_resolved), "
            "(select count(*) from int_identifiers_collected where not is_guarded)"
        ).fetchone()
    assert leads == persons
    assert edges > 3 * persons
    assert seconds < 60, f"identity models took {seconds:.1f} s: {per_model}"
