"""The simulator writes the SPEC section 2 layout, deterministically, with a truth that is what
the SPEC section 4/5 rules give on the written files.

The strongest check here re-reads every written file, resolves identity over the WHOLE stack
(not person by person, as the simulator does) and applies the rules independently.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from lead_parity.simulator import SimulationRates, simulate

REPO = Path(__file__).resolve().parents[2]
WORKED = Path("/work/shared/examples/worked")
CONVERSIONS = {
    "Demo Requested": ("marketing", "crm", "crm_assignment"),
    "Contact Sales Submitted": ("marketing", "crm", "crm_assignment"),
    "Question Asked": ("support", "support_assignment"),
}
SLA_MIN = {"marketing": 5, "crm": 15, "crm_assignment": 30, "support": 5, "support_assignment": 30}
ROLE = {
    "info",
    "sales",
    "support",
    "admin",
    "contact",
    "hello",
    "noreply",
    "no-reply",
    "marketing",
    "team",
    "office",
    "test",
}
W_MS, D_MS = 10 * 60_000, 24 * 3_600_000
RECORD_CAUSES = {"identity_mismatch", "integration_failure", "silent_drop", "no_trace"}
ASSIGNMENT_CAUSES = {"enrichment_failure", "unassigned"}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("sim") / "stack"
    summary = simulate(out, leads=3000, days=10, seed=11)
    return out, summary


@pytest.fixture(scope="module")
def big_truth(tmp_path_factory) -> tuple[list[dict], object]:
    out = tmp_path_factory.mktemp("sim5k") / "stack"
    summary = simulate(out, leads=5000, days=14, seed=7)
    return _truth(out), summary


# ------------------------------------------------------------------ reading the files back


def _ms(text: object) -> int | None:
    """Epoch ms of an ISO-8601 text with any offset; None when it does not parse."""
    if not isinstance(text, str) or not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return round(dt.timestamp() * 1000)


def _jsonl(folder: Path) -> list[tuple[Path, str]]:
    lines = []
    for path in sorted(folder.iterdir()):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            lines += [(path, line.rstrip("\n")) for line in fh]
    return lines


def _loads(text: str) -> object | None:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _pages(folder: Path) -> list[tuple[Path, object | None]]:
    return [(p, _loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json"))]


def _truth(out: Path) -> list[dict]:
    with open(out / "truth" / "conversions.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _email(v: object) -> str | None:
    if not isinstance(v, str):
        return None
    return unicodedata.normalize("NFKC", v).strip().lower() or None


class Stack:
    """Every record of the input folder, parsed and de-duplicated as SPEC section 2 says."""

    def __init__(self, out: Path) -> None:
        self.bad: Counter = Counter()
        self.messages: list[dict] = []
        seen = set()
        for _path, line in _jsonl(out / "segment"):
            msg = _loads(line)
            if not isinstance(msg, dict):
                self.bad["segment"] += 1
                continue
            if msg.get("type") not in ("track", "identify"):
                continue
            ts = _ms(msg.get("timestamp"))
            if not msg.get("messageId") or ts is None:
                self.bad["segment"] += 1
                continue
            if (msg["type"], msg["messageId"]) in seen:
                continue
            seen.add((msg["type"], msg["messageId"]))
            msg["_ts"] = ts
            self.messages.append(msg)
        self.forms = []
        for folder in sorted((out / "hubspot_forms").iterdir()):
            for _path, page in _pages(folder):
                for sub in page["results"]:
                    if not isinstance(sub.get("submittedAt"), int):
                        self.bad["hubspot_forms"] += 1
                        continue
                    values = {v["name"]: v["value"] for v in sub["values"]}
                    self.forms.append((sub["submittedAt"], values))
        self.contacts: dict[str, dict] = {}
        for _path, page in _pages(out / "hubspot_contacts"):
            if page is None:
                self.bad["hubspot_contacts_page"] += 1
                continue
            for c in page["results"]:
                created = _ms(c.get("properties", {}).get("createdate"))
                if "id" not in c or created is None:
                    self.bad["hubspot_contacts"] += 1
                    continue
                old = self.contacts.get(c["id"])
                if old is None or _ms(c["updatedAt"]) > _ms(old["updatedAt"]):
                    self.contacts[c["id"]] = c
        self.tickets: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.metrics: dict[int, dict] = {}
        for _path, page in _pages(out / "zendesk_tickets"):
            if page is None:
                self.bad["zendesk_tickets_page"] += 1
                continue
            for t in page["tickets"]:
                if "id" not in t or _ms(t.get("created_at")) is None:
                    self.bad["zendesk_tickets"] += 1
                    continue
                old = self.tickets.get(t["id"])
                if old is None or _ms(t["updated_at"]) > _ms(old["updated_at"]):
                    self.tickets[t["id"]] = t
            for u in page["users"]:
                self.users[u["id"]] = u
            for m in page["metric_sets"]:
                old = self.metrics.get(m["ticket_id"])
                if old is None or _ms(m["updated_at"]) > _ms(old["updated_at"]):
                    self.metrics[m["ticket_id"]] = m
        self.receipts: dict[tuple[str, str], list[str]] = defaultdict(list)
        required = ("receipt_id", "message_id", "hop", "attempted_at", "outcome")
        for _path, line in _jsonl(out / "receipts"):
            r = _loads(line)
            if (
                not isinstance(r, dict)
                or any(k not in r for k in required)
                or _ms(r["attempted_at"]) is None
            ):
                self.bad["receipts"] += 1
                continue
            self.receipts[(r["message_id"], r["hop"])].append(r["outcome"])


def _bags(msg: dict) -> list[dict]:
    bags = [msg.get("properties"), msg.get("traits"), (msg.get("context") or {}).get("traits")]
    return [b for b in bags if isinstance(b, dict)]


def _verdicts(s: Stack, as_of: int) -> tuple[dict[str, tuple], dict[str, str]]:
    """conversion_id -> (status, hop, cause, late) and conversion_id -> lead, by SPEC 4/5."""
    # Shared devices: anonymousIds seen with >= 3 distinct e-mails anywhere.
    anon_emails: dict[str, set] = defaultdict(set)
    for m in s.messages:
        for bag in _bags(m):
            if _email(bag.get("email")) and m.get("anonymousId"):
                anon_emails[m["anonymousId"]].add(_email(bag["email"]))
    for _, v in s.forms:
        if v.get("anonymous_id") and _email(v.get("email")):
            anon_emails[v["anonymous_id"]].add(_email(v["email"]))
    shared = {a for a, emails in anon_emails.items() if len(emails) >= 3}

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    counter = iter(range(10**9))

    def record(ids: list[tuple[str, object]]) -> str:
        nodes = []
        for kind, value in ids:
            if kind == "e":
                value = _email(value)
                if not value or value.split("@")[0] in ROLE:
                    continue
            elif isinstance(value, str):
                value = value.strip()
            if kind == "a" and value in shared:
                continue
            if value in (None, ""):
                continue
            nodes.append(f"{kind}:{value}")
        if not nodes:
            return f"lone:{next(counter)}"
        for n in nodes[1:]:
            parent[find(n)] = find(nodes[0])
        return nodes[0]

    def profile(first, last, company, emails) -> tuple[set, set, set]:
        names = {f"{first.strip()} {last.strip()}".lower()} if first and last else set()
        comps = {company.strip().lower()} if company else set()
        doms = {e.split("@")[-1] for e in (_email(x) for x in emails) if e}
        return names, comps, doms

    recs = []  # (kind, node, payload, profile)
    for m in s.messages:
        ids: list = [("a", m.get("anonymousId")), ("u", m.get("userId"))]
        names, comps, doms = set(), set(), set()
        for bag in _bags(m):
            ids += [("e", bag.get("email")), ("l", bag.get("lead_id"))]
            n, c, d = profile(
                bag.get("first_name"), bag.get("last_name"), bag.get("company"), [bag.get("email")]
            )
            names |= n
            comps |= c
            doms |= d
        recs.append(("msg", record(ids), m, (names, comps, doms)))
    for ts, v in s.forms:
        node = record(
            [("e", v.get("email")), ("l", v.get("lead_id")), ("a", v.get("anonymous_id"))]
        )
        recs.append(
            (
                "form",
                node,
                ts,
                profile(v.get("firstname"), v.get("lastname"), v.get("company"), [v.get("email")]),
            )
        )
    for c in s.contacts.values():
        p = c["properties"]
        emails = [p.get("email"), *(p.get("hs_additional_emails") or "").split(";")]
        node = record([("c", c["id"])] + [("e", e) for e in emails] + [("l", p.get("lead_id"))])
        recs.append(
            (
                "contact",
                node,
                c,
                profile(p.get("firstname"), p.get("lastname"), p.get("company"), emails),
            )
        )
    for t in s.tickets.values():
        user = s.users.get(t["requester_id"], {})
        node = record([("z", t["requester_id"]), ("e", user.get("email"))])
        name = (user.get("name") or "").strip().lower()
        _, _, doms = profile(None, None, None, [user.get("email")])
        recs.append(("ticket", node, t, ({name} if name else set(), set(), doms)))

    lead_profile: dict[str, list] = defaultdict(lambda: [set(), set(), set()])
    by_lead: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    conversions = []
    for kind, node, payload, prof in recs:
        lead = find(node)
        for i in range(3):
            lead_profile[lead][i] |= prof[i]
        by_lead[lead][kind].append((payload, prof))
        if (
            kind == "msg"
            and payload["type"] == "track"
            and payload.get("event") in CONVERSIONS
            and payload["_ts"] <= as_of
        ):
            conversions.append((payload["_ts"], payload["messageId"], lead, payload["event"]))
    conversions.sort()

    def matches(lead: str, prof: tuple) -> bool:
        mine = lead_profile[lead]
        return bool(mine[0] & prof[0]) and bool((mine[1] & prof[1]) or (mine[2] & prof[2]))

    conv_ids = {cid for _, cid, _, _ in conversions}
    ext = {t["external_id"]: t for t in s.tickets.values() if t.get("external_id")}
    used: dict[int, int] = {}
    ticket_of: dict[str, dict] = {}
    for ts, cid, lead, event in conversions:
        if "support" not in CONVERSIONS[event]:
            continue
        t = ext.get(cid)
        if t is None:
            cands = [
                x
                for x, _ in by_lead[lead]["ticket"]
                if x["id"] not in used
                and x.get("external_id") not in conv_ids
                and ts - W_MS <= _ms(x["created_at"]) <= ts + D_MS
            ]
            t = min(cands, key=lambda x: (_ms(x["created_at"]), x["id"])) if cands else None
        if t is not None:
            used[t["id"]] = ts
            ticket_of[cid] = t

    verdicts, leads = {}, {}
    for ts, cid, lead, event in conversions:
        leads[cid] = lead
        reached = {}
        contacts = [c for c, _ in by_lead[lead]["contact"]]
        for hop in CONVERSIONS[event]:
            at = None
            if hop == "marketing":
                t = [f for f, _ in by_lead[lead]["form"] if ts - W_MS <= f <= ts + W_MS]
                at = min(t) if t else None
            elif hop == "crm":
                t = [_ms(c["properties"]["createdate"]) for c in contacts]
                t = [x for x in t if x <= ts + D_MS]
                at = max(min(t), ts) if t else None
            elif hop == "crm_assignment":
                t = [
                    _ms(c["properties"]["hubspot_owner_assigneddate"])
                    for c in contacts
                    if c["properties"].get("hubspot_owner_id")
                    and c["properties"].get("hubspot_owner_assigneddate")
                ]
                at = max(min(t), ts) if t else None
            elif hop == "support":
                at = _ms(ticket_of[cid]["created_at"]) if cid in ticket_of else None
            else:
                t = ticket_of.get(cid)
                m = s.metrics.get(t["id"], {}) if t else {}
                if t and t.get("assignee_id") and m.get("initially_assigned_at"):
                    at = _ms(m["initially_assigned_at"])
            reached[hop] = at
        missing = next((h for h in CONVERSIONS[event] if reached[h] is None), None)
        if missing is None:
            late = any(reached[h] - ts > SLA_MIN[h] * 60_000 for h in reached)
            verdicts[cid] = ("delivered", "", "", late)
            continue
        if as_of - ts <= D_MS:
            verdicts[cid] = ("pending", "", "", False)
            continue
        cause = "no_trace"
        if missing in ("marketing", "crm", "support"):
            others = []
            for other, kinds in by_lead.items():
                if other == lead:
                    continue
                if missing == "marketing":
                    others += [p for f, p in kinds["form"] if ts - W_MS <= f <= ts + W_MS]
                elif missing == "crm":
                    others += [
                        p
                        for c, p in kinds["contact"]
                        if _ms(c["properties"]["createdate"]) <= ts + D_MS
                    ]
                else:
                    others += [
                        p
                        for t, p in kinds["ticket"]
                        if ts - W_MS <= _ms(t["created_at"]) <= ts + D_MS
                        and used.get(t["id"], ts) >= ts
                    ]
            outcomes = s.receipts.get((cid, missing), [])
            if any(matches(lead, p) for p in others):
                cause = "identity_mismatch"
            elif outcomes and not ({"delivered", "replayed"} & set(outcomes)):
                cause = "integration_failure"
            elif outcomes:
                cause = "silent_drop"
        else:
            outcomes = s.receipts.get((cid, "enrichment"), [])
            if outcomes and not ({"delivered", "replayed"} & set(outcomes)):
                cause = "enrichment_failure"
            else:
                cause = "unassigned"
        verdicts[cid] = ("dropped", missing, cause, False)
    return verdicts, leads


# ------------------------------------------------------------------ tests


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = simulate(tmp_path / "a", leads=800, days=5, seed=3)
    b = simulate(tmp_path / "b", leads=800, days=5, seed=3)
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    files_b = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    assert files_a == files_b and len(files_a) > 10
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert a.conversions == b.conversions
    c = simulate(tmp_path / "c", leads=800, days=5, seed=4)
    assert (tmp_path / "c/truth/conversions.csv").read_bytes() != (
        tmp_path / "a/truth/conversions.csv"
    ).read_bytes()
    assert c.conversions > 0


def test_worker_processes_do_not_change_a_byte(tmp_path):
    simulate(tmp_path / "one", leads=1200, days=4, seed=5, workers=1)
    simulate(tmp_path / "two", leads=1200, days=4, seed=5, workers=2)
    for path in (tmp_path / "one").rglob("*"):
        if path.is_file():
            twin = tmp_path / "two" / path.relative_to(tmp_path / "one")
            assert path.read_bytes() == twin.read_bytes(), path


def test_layout_is_spec_section_2(stack):
    out, summary = stack
    seg = sorted(p.name for p in (out / "segment").iterdir())
    assert seg == sorted(seg, key=lambda n: n.split(".")[0])  # names sort in time order
    assert any(n.endswith(".jsonl.gz") for n in seg) and any(n.endswith(".jsonl") for n in seg)
    assert seg[0].startswith("2026-10-01") and len(seg) == 11  # 10 days + the as_of day
    for folder in ("hubspot_contacts", "zendesk_tickets"):
        pages = [(p, d) for p, d in _pages(out / folder) if d is not None]
        assert len(pages) > 3
        if folder == "hubspot_contacts":
            assert all("next" in d["paging"] for _, d in pages[:-1])
            assert "paging" not in pages[-1][1]
        else:
            assert [d["end_of_stream"] for _, d in pages] == [False] * (len(pages) - 1) + [True]
            assert all(d["after_cursor"] for _, d in pages)
    form_dirs = sorted((out / "hubspot_forms").iterdir())
    assert len(form_dirs) == 3
    for folder in form_dirs:
        pages = _pages(folder)
        assert all("paging" in d for _, d in pages[:-1]) and "paging" not in pages[-1][1]
    s = Stack(out)
    # mixed UTC offsets, ids with quotes, messages delivered twice, form ids missing
    stamps = [m["timestamp"] for m in s.messages]
    assert {st[-6:] for st in stamps if not st.endswith("Z")} >= {"+02:00", "-05:00", "+00:00"}
    assert any(st.endswith("Z") for st in stamps)
    assert any("'" in m["messageId"] for m in s.messages)
    assert any('"' in m["messageId"] for m in s.messages)
    assert summary.duplicates["segment"] > 0
    assert (
        sum(1 for _, d in _pages(form_dirs[1]) for r in d["results"] if "conversionId" not in r)
        > 10
    )
    assert {m.get("event") for m in s.messages} >= set(CONVERSIONS) | {
        "Pricing Viewed",
        "Signed Up",
    }
    # Zendesk: 64-bit ids, deleted tickets, e-mail tickets without external_id, late sideloads
    assert any(t["id"] > 2**53 for t in s.tickets.values())
    assert any(u > 2**53 for u in s.users)
    assert any(t["status"] == "deleted" for t in s.tickets.values())
    assert any(
        t["external_id"] is None and t["via"]["channel"] == "email" for t in s.tickets.values()
    )
    assert all(t["requester_id"] in s.users for t in s.tickets.values())
    # HubSpot: contacts that existed long before, owners assigned later, re-delivered versions
    created = [_ms(c["properties"]["createdate"]) for c in s.contacts.values()]
    assert min(created) < _ms("2026-09-01T00:00:00Z")
    assert summary.duplicates["hubspot_contacts"] > 0 and summary.duplicates["zendesk_tickets"]
    # receipts: retries, dead letters and replays, timeouts without status code
    outcomes = Counter(o for v in s.receipts.values() for o in v)
    assert {"delivered", "failed", "dead_lettered", "replayed"} <= set(outcomes)
    # role-account e-mails typed by several people; booth laptops seen with >= 3 e-mails
    role_users: dict[str, set] = defaultdict(set)
    laptop_emails: dict[str, set] = defaultdict(set)
    for m in s.messages:
        for bag in _bags(m):
            email = _email(bag.get("email"))
            if email and email.split("@")[0] in ROLE:
                role_users[email].add(m["anonymousId"])
            if email and m["anonymousId"].startswith("booth-"):
                laptop_emails[m["anonymousId"]].add(email)
    assert any(len(v) >= 2 for v in role_users.values())
    assert laptop_emails and all(len(v) >= 3 for v in laptop_emails.values())


def test_every_conversion_in_segment_is_once_in_truth_within_the_period(stack):
    out, summary = stack
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    assert manifest["as_of"] == "2026-10-11T02:00:00Z" and manifest["seed"] == 11
    assert manifest["persons"] == 3000 and manifest["start"] == "2026-10-01"
    truth = _truth(out)
    ids = [r["conversion_id"] for r in truth]
    assert len(ids) == len(set(ids)) == summary.conversions
    s = Stack(out)
    conv = {
        m["messageId"]: m["_ts"]
        for m in s.messages
        if m["type"] == "track" and m.get("event") in CONVERSIONS
    }
    assert set(conv) == set(ids)
    assert all(
        _ms("2026-10-01T00:00:00Z") <= t < _ms("2026-10-11T00:00:00Z") for t in conv.values()
    )


def test_truth_is_what_the_rules_give_on_the_written_files(stack):
    """Independent check: identity over the whole stack, SPEC 5 rules, compared row by row."""
    out, _ = stack
    as_of = _ms(json.loads((out / "truth" / "manifest.json").read_text())["as_of"])
    verdicts, leads = _verdicts(Stack(out), as_of)
    truth = _truth(out)
    wrong = [
        (r, verdicts.get(r["conversion_id"]))
        for r in truth
        if verdicts.get(r["conversion_id"], ())[:3]
        != (r["status"], r["dropped_at_hop"], r["root_cause"])
    ]
    assert wrong == []
    with open(out / "truth" / "conversion_details.csv", newline="", encoding="utf-8") as fh:
        late = {r["conversion_id"]: r["late"] == "true" for r in csv.DictReader(fh)}
    assert all(late[cid] == v[3] for cid, v in verdicts.items())
    assert 0 < sum(late.values()) < len(late) / 3
    # One lead per person: pairwise identity precision and recall are both 1.
    person_of = {r["conversion_id"]: r["person_id"] for r in truth}
    by_person, by_lead = defaultdict(set), defaultdict(set)
    for cid, person in person_of.items():
        by_person[person].add(leads[cid])
        by_lead[leads[cid]].add(person)
    assert all(len(v) == 1 for v in by_person.values())
    assert all(len(v) == 1 for v in by_lead.values())
    assert sum(1 for v in by_person.values()) < len(person_of)  # some convert more than once


def test_malformed_records_are_counted_as_configured(stack, tmp_path):
    out, summary = stack
    s = Stack(out)
    assert s.bad["segment"] == summary.malformed["segment"] > 0
    assert s.bad["receipts"] == summary.malformed["receipts"] > 0
    assert s.bad["hubspot_contacts_page"] == 1 and s.bad["zendesk_tickets_page"] == 1
    for source in ("hubspot_forms", "hubspot_contacts", "zendesk_tickets"):
        assert s.bad[source] == summary.malformed.get(source, 0)
    total_records = sum(summary.records.values())
    noise = sum(v for k, v in summary.malformed.items() if not k.endswith("_page"))
    assert 0.0003 < noise / total_records < 0.003  # default rate 0.1%
    clean = simulate(
        tmp_path / "clean", leads=500, days=3, seed=2, rates=SimulationRates(malformed_rate=0.0)
    )
    assert clean.malformed == {}
    assert not list((tmp_path / "clean").rglob("*partial*"))
    assert sum(Stack(tmp_path / "clean").bad.values()) == 0
    noisy = simulate(
        tmp_path / "noisy", leads=300, days=3, seed=2, rates=SimulationRates(malformed_rate=0.05)
    )
    assert sum(Stack(tmp_path / "noisy").bad.values()) == sum(noisy.malformed.values())


def test_all_statuses_and_root_causes_occur_with_valid_hops(big_truth):
    truth, summary = big_truth
    statuses = Counter(r["status"] for r in truth)
    assert set(statuses) == {"delivered", "pending", "dropped"}
    assert 0.04 < statuses["dropped"] / len(truth) < 0.10
    causes = Counter(r["root_cause"] for r in truth if r["status"] == "dropped")
    assert set(causes) == RECORD_CAUSES | ASSIGNMENT_CAUSES
    for r in truth:
        if r["status"] != "dropped":
            assert r["dropped_at_hop"] == r["root_cause"] == ""
        elif r["dropped_at_hop"] in ("crm_assignment", "support_assignment"):
            assert r["root_cause"] in ASSIGNMENT_CAUSES
        else:
            assert r["dropped_at_hop"] in ("marketing", "crm", "support")
            assert r["root_cause"] in RECORD_CAUSES
    hops = Counter(r["dropped_at_hop"] for r in truth if r["status"] == "dropped")
    assert set(hops) == {"marketing", "crm", "crm_assignment", "support", "support_assignment"}
    assert summary.ambiguous_persons == 0
    assert summary.plan_held / summary.conversions > 0.97  # journeys mostly do what they plan


def test_drop_rates_differ_by_origin(big_truth):
    _, summary = big_truth
    path = Path(summary.out_dir) / "truth" / "conversion_details.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        details = list(csv.DictReader(fh))
    rate = {}
    for origin in ("partner", "newsletter"):
        rows = [r for r in details if r["origin"] == origin]
        rate[origin] = sum(r["status"] == "dropped" for r in rows) / len(rows)
    assert rate["partner"] > 2 * rate["newsletter"]


def test_zero_failure_rates_drop_nothing(tmp_path):
    summary = simulate(
        tmp_path / "ok", leads=1500, days=4, seed=9, rates=SimulationRates.no_failures()
    )
    truth = _truth(tmp_path / "ok")
    assert {r["status"] for r in truth} <= {"delivered", "pending"}
    assert summary.statuses.get("dropped", 0) == 0 and summary.malformed == {}
    assert summary.statuses["delivered"] > 1000
    with pytest.raises(ValueError, match="drop_rate"):
        SimulationRates(drop_rate=1.5)


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not an earlier simulation"):
        simulate(tmp_path, leads=10, days=1)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    simulate(tmp_path / "sim", leads=50, days=2, seed=1)
    again = simulate(tmp_path / "sim", leads=40, days=1, seed=1)  # replaces its own output
    assert len(_truth(tmp_path / "sim")) == again.conversions
    # nothing left of the first run's third day
    assert {p.name[:10] for p in (tmp_path / "sim" / "segment").iterdir()} <= {
        "2026-10-01",
        "2026-10-02",
    }


def test_progress_reports_about_every_ten_percent(tmp_path):
    lines: list[str] = []
    simulate(tmp_path / "p", leads=1000, days=2, seed=1, progress=lines.append)
    assert len(lines) == 10 and lines[-1].startswith("simulated 1,000/1,000 persons (100%)")


_RSS_SCRIPT = """
import resource, sys
from pathlib import Path
from lead_parity.simulator import simulate
simulate(Path(sys.argv[1]), leads=int(sys.argv[2]), days=14, seed=1, workers=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_kb(tmp: Path, leads: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(tmp / f"r{leads}"), str(leads)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_memory_does_not_grow_with_persons(tmp_path):
    small = _peak_rss_kb(tmp_path, 5_000)
    large = _peak_rss_kb(tmp_path, 50_000)
    assert large - small < 30_000, (small, large)  # < 30 MB more for 10x the persons


def test_the_independent_rules_reproduce_the_worked_examples(tmp_path):
    """The checker above is itself checked: it gives SPEC section 8's verdicts."""
    worked = tmp_path / "worked"
    shutil.copytree(WORKED, worked)
    verdicts, leads = _verdicts(Stack(worked), _ms("2026-10-12T10:00:00Z"))
    with open(worked / "expected.csv", newline="", encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    assert len(verdicts) == len(expected) == 14
    for row in expected:
        status, hop, cause, late = verdicts[row["conversion_id"]]
        assert (status, hop, cause) == (row["status"], row["dropped_at_hop"], row["root_cause"])
        assert late == (row["late"] == "true"), row["conversion_id"]
        if row["same_lead_as"]:
            assert leads[row["conversion_id"]] == leads[row["same_lead_as"]]
    assert len({leads[r["conversion_id"]] for r in expected}) == 13
