"""One person's journey: visits, identify calls, conversions and what each system recorded.

Each conversion is given a planned outcome (delivered, or dropped at a hop for a root cause) and
the records are made to produce it. Records that would only exist after as_of are never
written. The truth is then derived from the records by `evaluate`, not from the plan.
"""

from __future__ import annotations

import _random
import bisect
import itertools
import random

from .contract_defaults import (
    DAY,
    DROP_AFTER_MS,
    EVENT_OF_TYPE,
    HOUR,
    MATCH_WINDOW_MS,
    MINUTE,
    RECORD_HOPS,
)
from .people import Identity, make_identity
from .rates import ORIGINS, SimulationRates
from .records import (
    Contact,
    FormSubmission,
    PersonRecords,
    Receipt,
    SegmentMessage,
    Ticket,
    ZendeskUser,
)
from .timefmt import ceil_second, iso_offset, iso_z_ms
from .timeline import Calendar

SECOND = 1000
FORM_GUIDS = {
    "demo_request": "3f1c2a9e-7d4b-4c1e-9a0f-5b6d7e8f9a01",
    "contact_sales": "8a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",  # portal without conversionId
    "newsletter": "c0ffee00-1234-4abc-8def-00000000a11a",
}
NO_CONVERSION_ID_FORMS = frozenset({FORM_GUIDS["contact_sales"]})
DESTINATIONS = {
    "marketing": "hubspot-forms",
    "crm": "hubspot-crm",
    "support": "zendesk",
    "enrichment": "clearbit-enrichment",
}
OWNERS = tuple(str(31_000_000 + 17 * i) for i in range(30))
AGENTS = tuple(361_000_000_000 + 13 * i for i in range(40))
# UTC offsets (minutes) of the clients that sent Segment messages.
OFFSETS = (0, 0, 0, 0, 60, 120, -300, -240, 330, -480, 540, -180)
MEDIUM = {
    "google_ads": "cpc",
    "linkedin": "paid_social",
    "newsletter": "email",
    "webinar": "event",
    "partner": "referral",
    "organic": "organic",
}
PAGES = (
    ("Home", "/"),
    ("Pricing", "/pricing"),
    ("Product", "/product"),
    ("Blog", "/blog/post"),
    ("Docs", "/docs"),
    ("Customers", "/customers"),
)
OTHER_EVENTS = (
    "Pricing Viewed",
    "Webinar Registered",
    "Newsletter Subscribed",
    "Demo Request Started",
    "Docs Searched",
)
SUBJECTS = (
    "Question about pricing",
    "How does SSO work?",
    "Trial limits",
    "Invoice question",
    "Integration with Salesforce",
    "Data residency",
)


# One generator per process, re-seeded per journey: the state after seeding is the one a new
# random.Random(n) has, without building an object and a Python-level seed call (about 1 of 11 us).
_RNG = random.Random()
_SEED = _random.Random.seed  # the C seeding itself; random.Random.seed only adds type checks


def reseeded(rng: random.Random, n: int) -> random.Random:
    """rng in the state of random.Random(n), for an int n (only one journey uses it at a time)."""
    _SEED(rng, n)
    return rng


def _cum(weights: dict[str, float]) -> tuple[tuple[str, ...], list[float]]:
    keys = tuple(weights)
    return keys, list(itertools.accumulate(weights[k] for k in keys))


def _pick(rng: random.Random, table: tuple[tuple[str, ...], list[float]]) -> str:
    keys, cum = table
    return keys[bisect.bisect_right(cum, rng.random() * cum[-1])]


class Tables:
    """Cumulative weight tables, built once per run."""

    def __init__(self, rates: SimulationRates) -> None:
        self.origin = _cum({o: rates.origin_share.get(o, 0.0) for o in ORIGINS})
        self.sales_hop = _cum(rates.sales_hop_weights)
        self.support_hop = _cum(rates.support_hop_weights)
        self.record_cause = _cum(rates.record_cause_weights)
        self.assignment_cause = _cum(rates.assignment_cause_weights)
        self.type_by_origin = {
            o: _cum(
                {"demo_request": 0.45, "contact_sales": 0.25, "question": 0.30}
                if o not in ("organic", "direct")
                else {"demo_request": 0.30, "contact_sales": 0.20, "question": 0.50}
            )
            for o in ORIGINS
        }


class Journey:
    """Builds the records of person `idx` (deterministic in seed, idx and attempt)."""

    def __init__(
        self,
        cal: Calendar,
        rates: SimulationRates,
        tables: Tables,
        n_companies: int,
        idx: int,
        attempt: int,
    ) -> None:
        self.cal, self.r, self.t = cal, rates, tables
        self.as_of = cal.as_of_ms
        # An int seed skips the sha512 of a str seed; distinct per (seed, idx, attempt).
        self.rng = rng = reseeded(_RNG, (cal.seed << 40) + (idx << 4) + attempt)
        self._rand = rng.random
        self._bits = rng.getrandbits
        self.booth = cal.booth_slot(idx)
        role_rate = 0.0 if self.booth else rates.role_account_rate
        self.me: Identity = make_identity(
            idx, rng, n_companies, rates.free_email_rate, role_rate, cal.seed
        )
        self.pr = PersonRecords(self.me.person_id)
        self.contact: Contact | None = None
        self.dup_contact: Contact | None = None
        self.dup_user: ZendeskUser | None = None
        self.user = ZendeskUser(
            self.me.zendesk_user_id, self.me.main_email, f"{self.me.first} {self.me.last}", 0
        )
        self.tickets_made = 0
        self.user_id: str | None = None
        self.signup_at: int | None = None
        self.anons = [self._hex_id("anon-")]
        if self._rand() < rates.second_device_rate:
            self.anons.append(self._hex_id("anon-"))
        self.first_use: dict[str, int] = {}
        self.email_tickets = self._rand() < rates.email_ticket_rate

    # ---------------------------------------------------------------- randomness
    # random.randrange/choice cost ~1 us each; these cost a third and stay deterministic.

    def _rr(self, lo: int, hi: int) -> int:
        return lo + int(self._rand() * (hi - lo))

    def _ch(self, seq):
        return seq[int(self._rand() * len(seq))]

    # ---------------------------------------------------------------- ids and emission

    def _hex_id(self, prefix: str = "") -> str:
        # The same text as f"{n:032x}", at half the cost.
        h = self._bits(128).to_bytes(16, "big").hex()
        return f"{prefix}{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _message_id(self) -> str:
        mid = self._hex_id()
        if self._rand() < self.r.quote_id_rate:
            # Ids with quotes catch SQL built by pasting values.
            mid = f"I'm unique {mid}" if self._rand() < 0.5 else f'{mid}"q'
        return mid

    def _before(self, t: int, lo: int, hi: int) -> int:
        """A time lo..hi before t, but not before the period starts (no pile-up at start)."""
        at = t - self._rr(lo, hi)
        start = self.cal.start_ms
        return at if at >= start else start + self._rr(0, max(1, t - start))

    def _campaign(self, origin: str) -> dict:
        if origin != "direct":
            return {
                "campaign": {"source": origin, "medium": MEDIUM[origin], "name": f"{origin}-q4"}
            }
        roll = self._rand()
        if roll < 0.5:
            return {}
        if roll < 0.75:
            return {"campaign": {"name": "untagged"}}
        return {"campaign": {"source": ""}}

    def _seg(
        self, ts: int, mtype: str, anon: str, body: dict, message_id: str | None = None
    ) -> str | None:
        if ts > self.as_of:
            return None
        mid = message_id or self._message_id()
        rand = self._rand
        # The client's UTC offset, then whether it writes Z or +00:00 for UTC.
        offset = OFFSETS[int(rand() * len(OFFSETS))]
        msg = {
            "type": mtype,
            "messageId": mid,
            "timestamp": iso_offset(ts, offset, rand() < 0.8),
            "anonymousId": anon,
            "userId": self.user_id if self.signup_at is not None and self.signup_at <= ts else None,
        }
        msg.update(body)
        if rand() < self.r.extra_field_rate:
            msg["integrations"] = {"All": True, "Intercom": False}  # unknown to us, harmless
        self.pr.segment.append(SegmentMessage(ts, msg, rand() < self.r.duplicate_message_rate))
        first = self.first_use.get(anon)
        if first is None or ts < first:
            self.first_use[anon] = ts
        return mid

    def _email_variant(self, email: str) -> str:
        """What a person types: sometimes with stray spaces, capitals or full-width characters."""
        if self._rand() >= self.r.messy_email_rate:
            return email
        if self._rand() < 0.7:
            local, domain = email.split("@", 1)
            return f" {local.title()}@{domain.upper()} "
        return email.replace("@", "\uff20")  # FULLWIDTH COMMERCIAL AT: NFKC gives "@"

    def _receipt(
        self, ts: int, cid: str, hop: str, code: int | None, outcome: str, error: str | None
    ) -> bool:
        if ts > self.as_of:
            return False
        body = {
            "receipt_id": self._hex_id("rcpt-"),
            "message_id": cid,
            "hop": hop,
            "destination": DESTINATIONS[hop],
            "attempted_at": iso_z_ms(ts),
            "status_code": code,
            "outcome": outcome,
            "error": error,
        }
        self.pr.receipts.append(Receipt(ts, body))
        return True

    def _failures(self, t: int, cid: str, hop: str, count: int) -> int:
        for _ in range(count):
            code = self._ch((429, 503, None, 502, 500))
            error = "timeout after 30s" if code is None else f"HTTP {code}"
            self._receipt(t, cid, hop, code, "failed", error)
            t += self._rr(5, 45) * SECOND
        return t

    def _deliveries(self, t0: int, cid: str, hop: str, kind: str, log: bool) -> int | None:
        """Attempts of the integration layer; returns when it delivered (None: never, by as_of).

        kind: ok | retry | replay | fail. With log=False the same happens, unlogged.
        """
        if not log:
            slow = {"ok": 0, "retry": 60 * SECOND, "replay": 3 * HOUR}.get(kind)
            return None if slow is None else t0 + slow
        if kind == "ok":
            return (
                t0
                if self._receipt(t0, cid, hop, self._ch((200, 201, 202)), "delivered", None)
                else None
            )
        t = self._failures(t0, cid, hop, self._rr(1, 4))
        if kind == "retry":
            return t if self._receipt(t, cid, hop, 200, "delivered", None) else None
        code = self._ch((503, None, 500))
        if kind == "fail" and self._rand() < 0.15:
            # still retrying at as_of: failed attempts only
            self._receipt(t, cid, hop, code, "failed", "HTTP 503" if code else "timeout")
            return None
        self._receipt(t, cid, hop, code, "dead_lettered", "retries exhausted")
        if kind == "fail":
            return None
        t += self._rr(30 * MINUTE, 6 * HOUR)
        return t if self._receipt(t, cid, hop, 200, "replayed", None) else None

    def _delivery_kind(self) -> str:
        roll = self._rand()
        if roll < self.r.replay_rate:
            return "replay"
        if roll < self.r.replay_rate + self.r.retry_rate:
            return "retry"
        return "ok"

    # ---------------------------------------------------------------- the journey

    def build(self) -> PersonRecords:
        rng, r, cal = self.rng, self.r, self.cal
        origin = _pick(rng, self.t.origin)
        self._maybe_existing_contact()
        if self.booth is None and self._rand() < r.non_converter_rate:
            self._browse_only(origin)
            return self._finish()
        times = self._conversion_times()
        if self._rand() < r.signup_rate:
            self.user_id = self._hex_id("usr_")
            before = self._rand() < 0.5
            at = (
                times[0] - self._rr(HOUR, 3 * DAY)
                if before
                else (times[0] + self._rr(10 * MINUTE, 2 * DAY))
            )
            if at < cal.start_ms:
                at = cal.start_ms + self._rr(0, max(1, times[0] - cal.start_ms))
            if at <= self.as_of:
                self.signup_at = at
                self._seg(
                    at,
                    "track",
                    self.anons[0],
                    {
                        "event": "Signed Up",
                        "properties": {"plan": "trial"},
                        "context": self._campaign(origin),
                    },
                )
        self._browse(times[0], origin)
        if self._rand() < 0.1:
            self._newsletter(self._before(times[0], 2 * HOUR, 5 * DAY))
        for n, ts in enumerate(times):
            conv_origin = _pick(rng, self.t.origin) if n and self._rand() < 0.3 else origin
            ctype = _pick(rng, self.t.type_by_origin[conv_origin])
            anon = self.anons[0] if n == 0 or len(self.anons) == 1 else self._ch(self.anons)
            if n == 0 and self.booth is not None:
                anon = self._booth_anon()
            self._convert(ts, ctype, anon, conv_origin)
        self._identify_devices()
        return self._finish()

    def _conversion_times(self) -> list[int]:
        rng, cal = self.rng, self.cal
        if self.booth is not None:
            number, slot = self.booth
            t = cal.booth_time(number) + slot * 7 * MINUTE + self._rr(MINUTE, 5 * MINUTE)
        else:
            t = cal.conversion_time(rng)
        times = [t]
        if self._rand() < self.r.multi_conversion_rate:
            for _ in range(1 if self._rand() < 0.8 else 2):
                gap = (
                    self._rr(30 * MINUTE, 6 * HOUR)
                    if self._rand() < 0.35
                    else (self._rr(DAY, 5 * DAY))
                )
                t += gap
                if t < cal.end_ms:
                    times.append(t)
        return times

    def _booth_anon(self) -> str:
        number, slot = self.booth
        anon = f"booth-laptop-{self.cal.seed}-{number}"
        self.pr.guarded_anons.add(anon)
        # Every visitor of the booth identifies on the shared laptop.
        at = self.cal.booth_time(number) + slot * 7 * MINUTE
        self._seg(at, "identify", anon, {"traits": self._traits(with_lead=False)})
        return anon

    def _traits(self, with_lead: bool) -> dict:
        me = self.me
        traits = {
            "email": me.main_email,
            "first_name": me.first,
            "last_name": me.last,
            "company": me.company,
        }
        if with_lead:
            traits["lead_id"] = me.lead_id
        return traits

    def _identify_devices(self) -> None:
        """One identify per own device, before or after its first use (never past as_of)."""
        for anon in self.anons:
            first = self.first_use.get(anon)
            if first is None:
                continue
            after = first + self._rr(MINUTE, 6 * HOUR)
            if self._rand() < 0.6 or after > self.as_of:
                at = self._before(first, MINUTE, 2 * HOUR)
            else:
                at = after
            self._seg(at, "identify", anon, {"traits": self._traits(self._rand() < 0.3)})

    def _browse(self, before: int, origin: str) -> None:
        for _ in range(self._rr(1, 5)):
            at = self._before(before, MINUTE, 3 * DAY)
            name, path = self._ch(PAGES)
            self._seg(
                at,
                "page",
                self.anons[0],
                {
                    "name": name,
                    "properties": {"path": path, "url": f"https://www.example.com{path}"},
                    "context": self._campaign(origin),
                },
            )
        if self._rand() < 0.4:
            at = self._before(before, MINUTE, DAY)
            self._seg(
                at,
                "track",
                self.anons[0],
                {
                    "event": self._ch(OTHER_EVENTS),
                    "properties": {"section": "pricing"},
                    "context": self._campaign(origin),
                },
            )

    def _browse_only(self, origin: str) -> None:
        at = self.cal.conversion_time(self.rng)
        self._browse(at, origin)
        if self._rand() < 0.5:
            self._seg(at, "identify", self.anons[0], {"traits": self._traits(False)})
        if self._rand() < 0.3:
            self._newsletter(at)

    def _newsletter(self, at: int) -> None:
        if at <= self.as_of:
            self._form(
                FORM_GUIDS["newsletter"],
                at,
                {"email": self.me.main_email, "firstname": self.me.first},
            )

    def _contact(self, created: int, lead_id: str | None) -> Contact:
        """The person's own CRM contact (main email), as first created."""
        me = self.me
        return Contact(
            me.contact_id, me.main_email, me.first, me.last, me.company, created, lead_id=lead_id
        )

    def _maybe_existing_contact(self) -> None:
        me = self.me
        if self._rand() >= self.r.existing_contact_rate:
            return
        start = self.cal.start_ms
        created = start - self._rr(DAY, 400 * DAY)
        c = self._contact(created, lead_id=me.lead_id if self._rand() < 0.5 else None)
        if me.role_email:
            c.additional.append(me.role_email)
        if self._rand() < 0.7:
            c.owner_id = self._ch(OWNERS)
            # Assigned long ago: before the simulated period starts.
            c.owner_assigned = created + self._rr(HOUR, min(10 * DAY, start - created))
            c.changes.append(c.owner_assigned)
        self.contact = c

    # ---------------------------------------------------------------- conversions

    def _plan(self, ts: int, ctype: str, origin: str) -> tuple[str, str] | None:
        rng, r = self.rng, self.r
        sales = ctype != "question"
        if sales and self.cal.incident(ts) and self._rand() < r.incident_drop_rate:
            plan = ("crm", "integration_failure")
        elif self._rand() < r.drop_rate * r.origin_drop_multiplier.get(origin, 1.0):
            hop = _pick(rng, self.t.sales_hop if sales else self.t.support_hop)
            causes = self.t.record_cause if hop in RECORD_HOPS else self.t.assignment_cause
            plan = (hop, _pick(rng, causes))
        else:
            return None
        hop, cause = plan
        c = self.contact
        # A contact that already exists satisfies crm; an owner satisfies crm_assignment.
        if hop == "crm" and c is not None and c.created <= ts + DROP_AFTER_MS:
            return ("marketing", cause)
        if hop == "crm_assignment" and c is not None and c.owner_assigned is not None:
            return ("marketing", _pick(rng, self.t.record_cause))
        return plan

    def _convert(self, ts: int, ctype: str, anon: str, origin: str) -> None:
        me = self.me
        plan = self._plan(ts, ctype, origin)
        # Skewed to the middle, 0..100.
        props: dict = {"intent_score": int((self._rand() + self._rand()) * 50.5)}
        if anon in self.pr.guarded_anons:
            props["email"] = self._email_variant(me.main_email)  # the booth laptop alone: no
        elif me.role_email and self._rand() < 0.8:
            props["email"] = me.role_email
        elif self._rand() < 0.7:
            props["email"] = self._email_variant(me.main_email)
        if self._rand() < 0.15:
            props["lead_id"] = f"  {me.lead_id} " if self._rand() < 0.3 else me.lead_id
        if self._rand() < 0.35:
            props.update(first_name=me.first, last_name=me.last, company=me.company)
        context = self._campaign(origin)
        context["page"] = {"path": "/contact" if ctype != "question" else "/help"}
        if self._rand() < 0.1 and not me.role_email:
            context["traits"] = {"email": me.main_email}
        cid = self._message_id()
        self._seg(
            ts,
            "track",
            anon,
            {"event": EVENT_OF_TYPE[ctype], "properties": props, "context": context},
            message_id=cid,
        )
        self.pr.plans[cid] = plan if plan else (None, None)
        self.pr.origins[cid] = origin
        hop, cause = plan if plan else (None, None)
        log = self._rand() >= self.r.receipts_missing_rate or cause in (
            "integration_failure",
            "silent_drop",
            "enrichment_failure",
        )
        if ctype == "question":
            self._support(ts, cid, anon, hop, cause, log)
        else:
            self._sales(ts, cid, ctype, anon, hop, cause, log)

    def _dropped_record(self, ts: int, cid: str, hop: str, cause: str, log: bool) -> None:
        """Receipts of a record hop that never got its record (identity_mismatch aside)."""
        t0 = ts + self._rr(SECOND, 10 * SECOND)
        if cause == "integration_failure":
            self._deliveries(t0, cid, hop, "fail", True)
        elif cause == "silent_drop":
            self._deliveries(t0, cid, hop, self._ch(("ok", "ok", "retry")), True)
        elif cause == "identity_mismatch" and log:
            self._deliveries(t0, cid, hop, "ok", True)

    def _form(self, guid: str, at: int, values: dict[str, str]) -> None:
        body: dict = {}
        if guid not in NO_CONVERSION_ID_FORMS and self._rand() >= self.r.no_conversion_id_rate:
            body["conversionId"] = self._hex_id()
        body["submittedAt"] = at
        body["pageUrl"] = "https://www.example.com/contact"
        body["values"] = [{"name": k, "value": v} for k, v in values.items()]
        self.pr.forms.append(FormSubmission(guid, at, body, values))

    def _sales(
        self,
        ts: int,
        cid: str,
        ctype: str,
        anon: str,
        hop: str | None,
        cause: str | None,
        log: bool,
    ) -> None:
        me = self.me
        # marketing: the form submission
        if hop == "marketing":
            if cause == "identity_mismatch":
                # Same person, other device, personal address: no shared identifier.
                self._form(
                    FORM_GUIDS[ctype],
                    ts + self._rr(SECOND, 60 * SECOND),
                    {
                        "email": me.personal_email,
                        "firstname": me.first,
                        "lastname": me.last,
                        "company": me.company,
                    },
                )
            self._dropped_record(ts, cid, "marketing", cause, log)
            return
        t0 = ts + self._rr(200, 3 * SECOND)
        kind = "retry" if self._rand() < self.r.retry_rate else "ok"
        done = self._deliveries(t0, cid, "marketing", kind, log) or t0
        values = {
            "email": me.role_email or me.main_email,
            "firstname": me.first,
            "lastname": me.last,
            "company": me.company,
        }
        if me.role_email or self._rand() < 0.6:
            values["lead_id"] = me.lead_id
        if me.role_email or self._rand() < 0.7:
            values["anonymous_id"] = anon
        at = min(done + self._rr(100, 15 * SECOND), ts + MATCH_WINDOW_MS - SECOND)
        self._form(FORM_GUIDS[ctype], at, values)
        # crm: the contact
        if hop == "crm":
            if cause == "identity_mismatch":
                self._duplicate_contact(ts)
            self._dropped_record(ts, cid, "crm", cause, log)
            return
        t0 = ts + self._rr(SECOND, 10 * SECOND)
        done = self._deliveries(t0, cid, "crm", self._delivery_kind(), log)
        if done is None:
            return
        slow = self._rand() < self.r.late_rate * 0.5
        at = done + (self._rr(16 * MINUTE, 3 * HOUR) if slow else self._rr(5 * SECOND, 8 * MINUTE))
        if at > self.as_of:
            return
        c = self.contact
        if c is None:
            c = self._contact(
                at, lead_id=me.lead_id if me.role_email or self._rand() < 0.8 else None
            )
            if self._rand() < 0.3:
                c.additional.append(me.alt_email)
            if me.role_email:
                c.additional.append(me.role_email)
            self.contact = c
        else:
            c.changes.append(at)
        # crm_assignment: enrichment, then an owner
        t0 = at + self._rr(5 * SECOND, 40 * SECOND)
        if hop == "crm_assignment":
            if cause == "enrichment_failure":
                self._deliveries(t0, cid, "enrichment", "fail", True)
            elif log and self._rand() < 0.5:
                self._deliveries(t0, cid, "enrichment", "ok", True)
            return
        done = self._deliveries(t0, cid, "enrichment", self._delivery_kind(), log)
        if c.owner_assigned is None:
            base = max(c.created, ts, done or 0)
            late = self._rand() < self.r.late_rate
            assigned = base + (
                self._rr(31 * MINUTE, 6 * HOUR) if late else self._rr(MINUTE, 25 * MINUTE)
            )
            if assigned <= self.as_of:
                c.owner_id = self._ch(OWNERS)
                c.owner_assigned = assigned
                c.changes.append(assigned)

    def _duplicate_contact(self, ts: int) -> None:
        if self.dup_contact is not None:
            return
        me = self.me
        created = ts + self._rr(MINUTE, 6 * HOUR)
        if created > self.as_of:
            created = ts + self._rr(MINUTE, 20 * MINUTE)
        c = Contact(me.dup_contact_id, me.personal_email, me.first, me.last, me.company, created)
        if self._rand() < 0.5:
            c.owner_id = self._ch(OWNERS)
            c.owner_assigned = created + self._rr(MINUTE, HOUR)
            c.changes.append(c.owner_assigned)
        self.dup_contact = c

    def _new_ticket(
        self, created: int, requester: ZendeskUser, external_id: str | None, channel: str
    ) -> Ticket:
        tid = self.me.ticket_id_base + self.tickets_made
        self.tickets_made += 1
        if not requester.created or requester.created > created:
            requester.created = created
        t = Ticket(tid, created, requester, self._ch(SUBJECTS), external_id, channel)
        t.late_sideload = self._rand() < self.r.late_sideload_rate
        self.pr.tickets.append(t)
        return t

    def _support(
        self, ts: int, cid: str, anon: str, hop: str | None, cause: str | None, log: bool
    ) -> None:
        me = self.me
        if hop == "support":
            if cause == "identity_mismatch":
                # Written from another address of the same domain: a separate Zendesk user.
                if self.dup_user is None:
                    self.dup_user = ZendeskUser(
                        me.dup_zendesk_user_id, me.alias_email, f"{me.first} {me.last}", 0
                    )
                at = ceil_second(ts + self._rr(2 * MINUTE, 3 * HOUR))
                if at <= self.as_of:
                    t = self._new_ticket(at, self.dup_user, None, "email")
                    self._assign(t, self._rand() < 0.6)
            self._dropped_record(ts, cid, "support", cause, log)
            return
        if self.email_tickets:
            # Most people write right away; some only hours later.
            at = ceil_second(
                ts
                + (
                    self._rr(-5 * MINUTE, 4 * MINUTE)
                    if self._rand() < 0.7
                    else self._rr(4 * MINUTE, 2 * HOUR)
                )
            )
            external, channel = None, "email"
        else:
            done = self._deliveries(
                ts + self._rr(SECOND, 10 * SECOND), cid, "support", self._delivery_kind(), log
            )
            if done is None:
                return
            at = ceil_second(done + self._rr(SECOND, 20 * SECOND))
            external, channel = cid, "api"
        if at > self.as_of:
            return
        t = self._new_ticket(at, self.user, external, channel)
        t0 = at + self._rr(5 * SECOND, 30 * SECOND)
        if hop == "support_assignment":
            if cause == "enrichment_failure":
                self._deliveries(t0, cid, "enrichment", "fail", True)
            elif log and self._rand() < 0.5:
                self._deliveries(t0, cid, "enrichment", "ok", True)
            self._assign(t, False)
            return
        self._deliveries(t0, cid, "enrichment", self._delivery_kind(), log)
        self._assign(t, True)

    def _assign(self, t: Ticket, assign: bool) -> None:
        if assign:
            late = self._rand() < self.r.late_rate
            at = ceil_second(
                t.created
                + (self._rr(31 * MINUTE, 8 * HOUR) if late else self._rr(MINUTE, 25 * MINUTE))
            )
            if at <= self.as_of:
                t.assigned, t.assignee_id = at, self._ch(AGENTS)
        roll = self._rand()
        if roll < self.r.deleted_ticket_rate:
            t.final_status = "deleted"
        elif roll < 0.5:
            t.final_status = "solved"
        if t.final_status != "open":
            closed = ceil_second(max(t.created, t.assigned or 0) + self._rr(HOUR, 2 * DAY))
            if closed <= self.as_of:
                t.closed = closed

    def _finish(self) -> PersonRecords:
        pr = self.pr
        for c in (self.contact, self.dup_contact):
            if c is not None and c.created <= self.as_of:
                c.redeliver = c.updated(self.as_of) > c.created and (
                    self._rand() < self.r.redelivery_rate
                )
                pr.contacts.append(c)
        for t in pr.tickets:
            t.redeliver = t.updated(self.as_of) > t.created and (
                self._rand() < self.r.redelivery_rate
            )
        return pr


def build_person(
    cal: Calendar, rates: SimulationRates, tables: Tables, n_companies: int, idx: int, attempt: int
) -> PersonRecords:
    return Journey(cal, rates, tables, n_companies, idx, attempt).build()
