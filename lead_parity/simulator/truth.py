"""Reference evaluator: SPEC sections 4 and 5 applied to ONE person's records.

The simulator derives the ground truth with it instead of trusting the journey's plan, because
records of one conversion can satisfy the hops of another (a contact created for a second demo
request also counts for the first). People never share a linkable identifier (role-account
e-mails and shared-device cookies are guarded) nor a (first, last) name, so evaluating each
person alone gives what the rules give on the whole stack.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from .contract_defaults import (
    ASSIGNMENT_HOPS,
    CONVERSIONS,
    DROP_AFTER_MS,
    MATCH_WINDOW_MS,
    ROLE_ACCOUNTS,
    SLA_MS,
)
from .records import PersonRecords, Ticket


@dataclass(slots=True)
class Verdict:
    conversion_id: str
    conversion_type: str
    converted_at: int
    status: str
    dropped_at_hop: str | None
    root_cause: str | None
    late: bool
    component: int
    reached: dict[str, int | None] = field(default_factory=dict)


@dataclass(slots=True)
class _Profile:
    names: set[str] = field(default_factory=set)
    companies: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)

    def matches(self, other: _Profile) -> bool:
        return bool(self.names & other.names) and bool(
            (self.companies & other.companies) or (self.domains & other.domains)
        )


def norm_email(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    # NFKC leaves ASCII text as it is, and nearly every address is ASCII.
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return value.strip().lower() or None


def is_role_email(email: str) -> bool:
    return email.partition("@")[0] in ROLE_ACCOUNTS


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


class _Graph:
    """Union-find over identifier nodes; each record gets its component."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.singletons = 0

    def find(self, node: str) -> str:
        parent = self.parent.setdefault(node, node)
        while parent != node:
            grand = self.parent[parent]
            self.parent[node] = grand
            node, parent = parent, grand
        return node

    def link(self, nodes: list[str]) -> None:
        if not nodes:
            return
        root = self.find(nodes[0])
        for node in nodes[1:]:
            other = self.find(node)
            if other != root:
                self.parent[other] = root

    def lone(self) -> str:
        self.singletons += 1
        return f"#lone{self.singletons}"


def _add_email(nodes: list[str], prof: _Profile | None, value: object) -> None:
    email = norm_email(value)
    if email is None:
        return
    if prof is not None and "@" in email:
        prof.domains.add(email.rsplit("@", 1)[1])
    if not is_role_email(email):  # attached to the record but links nothing
        nodes.append("e:" + email)


def _add_name(prof: _Profile | None, first: object, last: object, company: object) -> None:
    if prof is None:
        return
    f, ln = _text(first), _text(last)
    if f and ln:
        prof.names.add(f"{f} {ln}".lower())
    c = _text(company)
    if c:
        prof.companies.add(c.lower())


def _segment_identity(
    msg: dict, guarded: set[str], prof: _Profile | None
) -> tuple[list[str], _Profile | None]:
    # Hot path (every Segment message of every attempt): absent keys skip the helpers.
    nodes: list[str] = []
    anon = _text(msg.get("anonymousId"))
    if anon and anon not in guarded:
        nodes.append("a:" + anon)
    user = msg.get("userId")
    if user is not None:
        user = _text(user)
        if user:
            nodes.append("u:" + user)
    context = msg.get("context")
    traits = context.get("traits") if isinstance(context, dict) else None
    for bag in (msg.get("properties"), msg.get("traits"), traits):
        if not isinstance(bag, dict):
            continue
        email = bag.get("email")
        if email is not None:
            _add_email(nodes, prof, email)
        lead = bag.get("lead_id")
        if lead is not None:
            lead = _text(lead)
            if lead:
                nodes.append("l:" + lead)
        if prof is not None:
            _add_name(prof, bag.get("first_name"), bag.get("last_name"), bag.get("company"))
    return nodes, prof


def _ticket_matches(
    conversions: list[tuple[int, str, int]],
    tickets: list[Ticket],
    comp_of_ticket: dict[int, int],
    conversion_ids: set[str],
    external_first: bool,
) -> dict[str, tuple[Ticket, int]]:
    """conversion_id -> (ticket, converted_at of that conversion), SPEC 5 support rule.

    external_first=True: a ticket whose external_id names a conversion belongs to it and is
    never a fallback candidate; False reads the rule literally (only tickets matched to an
    earlier conversion are taken). The simulator only keeps journeys where both agree.
    """
    by_external = {t.external_id: t for t in tickets if t.external_id}
    used: set[int] = set()
    matched: dict[str, tuple[Ticket, int]] = {}
    for ts, cid, comp in conversions:
        ticket = by_external.get(cid)
        if ticket is None:
            lo, hi = ts - MATCH_WINDOW_MS, ts + DROP_AFTER_MS
            candidates = [
                t
                for t in tickets
                if comp_of_ticket[t.ticket_id] == comp
                and t.ticket_id not in used
                and lo <= t.created <= hi
                and not (external_first and t.external_id in conversion_ids)
            ]
            if candidates:
                ticket = min(candidates, key=lambda t: (t.created, t.ticket_id))
        if ticket is not None:
            used.add(ticket.ticket_id)
            matched[cid] = (ticket, ts)
    return matched


class _NeedProfiles(Exception):
    """Names and companies are only read for identity_mismatch: most persons never need them."""


def evaluate(pr: PersonRecords, as_of: int, *, alternative: bool = False) -> list[Verdict]:
    """The verdict of every conversion of this person, in converted_at order.

    alternative=True evaluates the readings of SPEC 5 that the text leaves open (see
    `_ticket_matches`; assignment only on a contact that satisfies crm; identity_mismatch
    comparing name and company within one record). Journeys where the readings disagree are
    regenerated, so the truth holds under either reading.
    """
    try:
        return _evaluate(pr, as_of, alternative, False)
    except _NeedProfiles:
        return _evaluate(pr, as_of, alternative, True)


def _evaluate(
    pr: PersonRecords, as_of: int, alternative: bool, with_profiles: bool
) -> list[Verdict]:
    new_profile = _Profile if with_profiles else lambda: None
    graph = _Graph()
    guarded = pr.guarded_anons
    seg_nodes = []
    for m in pr.segment:
        if m.msg.get("type") not in ("track", "identify") or m.ts > as_of:
            continue
        nodes, prof = _segment_identity(m.msg, guarded, new_profile())
        if not nodes:
            nodes = [graph.lone()]
        graph.link(nodes)
        seg_nodes.append((m, nodes[0], prof))
    form_nodes = []
    for f in pr.forms:
        nodes: list[str] = []
        prof = new_profile()
        v = f.values
        _add_email(nodes, prof, v.get("email"))
        lead = _text(v.get("lead_id"))
        if lead:
            nodes.append("l:" + lead)
        anon = _text(v.get("anonymous_id"))
        if anon and anon not in guarded:
            nodes.append("a:" + anon)
        _add_name(prof, v.get("firstname"), v.get("lastname"), v.get("company"))
        if not nodes:
            nodes = [graph.lone()]
        graph.link(nodes)
        form_nodes.append((f, nodes[0], prof))
    contact_nodes = []
    for c in pr.contacts:
        nodes = ["c:" + c.contact_id]
        prof = new_profile()
        for email in (c.email, *c.additional):
            _add_email(nodes, prof, email)
        if c.lead_id and c.lead_id.strip():
            nodes.append("l:" + c.lead_id.strip())
        _add_name(prof, c.first, c.last, c.company)
        graph.link(nodes)
        contact_nodes.append((c, nodes[0], prof))
    ticket_nodes = []
    for t in pr.tickets:
        nodes = [f"z:{t.requester.user_id}"]
        prof = new_profile()
        _add_email(nodes, prof, t.requester.email)
        name = _text(t.requester.name)
        if name and prof is not None:
            prof.names.add(name.lower())
        graph.link(nodes)
        ticket_nodes.append((t, nodes[0], prof))

    # Stable component numbers: order of first appearance.
    comp_ids: dict[str, int] = {}

    def comp(node: str) -> int:
        return comp_ids.setdefault(graph.find(node), len(comp_ids))

    profiles: dict[int, list[_Profile]] = {}
    conversions: list[tuple[int, str, int]] = []
    ctype_of: dict[str, str] = {}
    for m, node, prof in seg_nodes:
        k = comp(node)
        if with_profiles:
            profiles.setdefault(k, []).append(prof)
        msg = m.msg
        if msg.get("type") == "track" and msg.get("event") in CONVERSIONS:
            conversions.append((m.ts, msg["messageId"], k))
            ctype_of[msg["messageId"]] = msg["event"]
    forms = []
    for f, node, prof in form_nodes:
        k = comp(node)
        if with_profiles:
            profiles.setdefault(k, []).append(prof)
        forms.append((f.submitted, k, prof))
    contacts = []
    for c, node, prof in contact_nodes:
        k = comp(node)
        if with_profiles:
            profiles.setdefault(k, []).append(prof)
        contacts.append((c, k, prof))
    comp_of_ticket: dict[int, int] = {}
    tickets = []
    for t, node, prof in ticket_nodes:
        k = comp(node)
        if with_profiles:
            profiles.setdefault(k, []).append(prof)
        comp_of_ticket[t.ticket_id] = k
        tickets.append((t, k, prof))
    conversions.sort()
    merged: dict[int, _Profile] = {}
    for k, profs in profiles.items() if with_profiles else ():
        agg = _Profile()
        for p in profs:
            agg.names |= p.names
            agg.companies |= p.companies
            agg.domains |= p.domains
        merged[k] = agg

    # Receipts only decide root causes: read when a conversion is dropped (6% of them).
    receipts: dict[tuple[str, str], list[str]] | None = None

    conversion_ids = {cid for _, cid, _ in conversions}
    # Only conversions whose chain has the support hop claim tickets.
    asking = [c for c in conversions if "support" in CONVERSIONS[ctype_of[c[1]]][1]]
    matched = (
        _ticket_matches(
            asking, pr.tickets, comp_of_ticket, conversion_ids, external_first=not alternative
        )
        if asking and pr.tickets
        else {}
    )

    def same_person_elsewhere(k: int, prof: _Profile) -> bool:
        if not with_profiles:
            raise _NeedProfiles
        if alternative:
            return any(p.matches(prof) for p in profiles[k])
        return merged[k].matches(prof)

    verdicts = []
    for ts, cid, k in conversions:
        ctype, hops = CONVERSIONS[ctype_of[cid]]
        reached: dict[str, int | None] = {}
        lo, hi = ts - MATCH_WINDOW_MS, ts + MATCH_WINDOW_MS
        deadline = ts + DROP_AFTER_MS
        own_contacts = [c for c, kc, _ in contacts if kc == k and c.created <= as_of]
        ticket = matched.get(cid, (None, 0))[0]
        for hop in hops:
            at: int | None = None
            if hop == "marketing":
                times = [t for t, kf, _ in forms if kf == k and lo <= t <= hi]
                at = min(times) if times else None
            elif hop == "crm":
                times = [c.created for c in own_contacts if c.created <= deadline]
                at = max(min(times), ts) if times else None
            elif hop == "crm_assignment":
                pool = own_contacts
                if alternative:
                    pool = [c for c in own_contacts if c.created <= deadline]
                times = [c.owner_assigned for c in pool if c.has_owner(as_of)]
                at = max(min(times), ts) if times else None
            elif hop == "support":
                at = ticket.created if ticket is not None else None
            elif ticket is not None and ticket.is_assigned(as_of):  # support_assignment
                at = ticket.assigned
            reached[hop] = at
        first_missing = next((h for h in hops if reached[h] is None), None)
        status, cause, late = "delivered", None, False
        if first_missing is None:
            late = any(reached[h] - ts > SLA_MS[h] for h in hops)
        elif as_of - ts > DROP_AFTER_MS:
            status = "dropped"
            if receipts is None:
                receipts = _outcomes(pr, as_of)
            cause = _root_cause(
                cid,
                ts,
                k,
                first_missing,
                forms,
                contacts,
                tickets,
                matched,
                receipts,
                same_person_elsewhere,
            )
        else:
            status = "pending"
        verdicts.append(
            Verdict(
                cid,
                ctype,
                ts,
                status,
                first_missing if status == "dropped" else None,
                cause,
                late,
                k,
                reached,
            )
        )
    return verdicts


def _outcomes(pr: PersonRecords, as_of: int) -> dict[tuple[str, str], list[str]]:
    """(message_id, hop) -> outcomes of the receipts written by as_of, in order."""
    receipts: dict[tuple[str, str], list[str]] = {}
    for r in pr.receipts:
        if r.ts <= as_of:
            body = r.body
            receipts.setdefault((body["message_id"], body["hop"]), []).append(body["outcome"])
    return receipts


def _root_cause(
    cid, ts, k, hop, forms, contacts, tickets, matched, receipts, same_person_elsewhere
) -> str:
    """SPEC 5 root-cause rules, first that applies."""
    if hop not in ASSIGNMENT_HOPS:
        lo, hi = ts - MATCH_WINDOW_MS, ts + DROP_AFTER_MS
        if hop == "marketing":
            others = [
                (kf, p)
                for t, kf, p in forms
                if kf != k and ts - MATCH_WINDOW_MS <= t <= ts + MATCH_WINDOW_MS
            ]
        elif hop == "crm":
            others = [(kc, p) for c, kc, p in contacts if kc != k and c.created <= hi]
        else:
            taken_before = {t.ticket_id for t, when in matched.values() if when < ts}
            others = [
                (kt, p)
                for t, kt, p in tickets
                if kt != k and lo <= t.created <= hi and t.ticket_id not in taken_before
            ]
        if any(same_person_elsewhere(k, p) for _, p in others):
            return "identity_mismatch"
        outcomes = receipts.get((cid, hop))
        if outcomes:
            if not any(o in ("delivered", "replayed") for o in outcomes):
                return "integration_failure"
            return "silent_drop"
        return "no_trace"
    enrichment = receipts.get((cid, "enrichment"))
    if enrichment and not any(o in ("delivered", "replayed") for o in enrichment):
        return "enrichment_failure"
    return "unassigned"
