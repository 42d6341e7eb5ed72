"""Fake HubSpot and Zendesk write APIs for remediation tests: real HTTP on 127.0.0.1.

HubSpot (bearer token):
- POST /crm/v3/objects/contacts/batch/upsert  (<= 100 inputs, idProperty=email; a unique-email
  index that covers `hs_additional_emails`, so an additional email updates its contact)
- POST /crm/v3/objects/contacts/batch/update  (<= 100 inputs by contact id; a merged-away id
  resolves to the merged contact, as HubSpot does; an unknown id fails that input with
  OBJECT_NOT_FOUND in a 207, never creating anything)
- POST /crm/v3/objects/contacts/batch/read    (idProperty=email through the same index, or by
  contact id, merged-away ids included)
Zendesk (basic auth, email/token):
- GET  /api/v2/tickets.json?external_id=X      (external_id is not unique, as in Zendesk)
- POST /api/v2/tickets.json                    (Idempotency-Key kept `idempotency_ttl_s`, then
  forgotten: a retry after that creates a second ticket)
- POST /api/v2/users/create_or_update.json     (by email)
- GET  /api/v2/users/search.json?query=email:X

A rate limit of `limit` requests per `window_s` answers 429 with Retry-After. Faults are queued
per endpoint (`schedule`) and consumed one per request: `429` (Retry-After 0, nothing applied),
`500` (nothing applied, the body echoes the Authorization header as a careless proxy might),
`commit_500` (applied, then 500), `commit_drop` (applied, then the connection closes without an
answer), `commit_slow` (applied, then the answer comes after `slow_s`, past the client's read
timeout), `partial` (207: the first half of the inputs fail, not applied). Every request is
logged (`log`).
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HUBSPOT_TOKEN = "pat-na1-fake-REMEDIATE-SECRET-hubspot"
ZENDESK_EMAIL = "agent@example.com"
ZENDESK_TOKEN = "zdtok-REMEDIATE-SECRET-zendesk"
FAULTS = ("429", "500", "commit_500", "commit_drop", "commit_slow", "partial")
ENDPOINTS = {
    ("POST", "/crm/v3/objects/contacts/batch/upsert"): "upsert",
    ("POST", "/crm/v3/objects/contacts/batch/update"): "update",
    ("POST", "/crm/v3/objects/contacts/batch/read"): "read",
    ("GET", "/api/v2/tickets.json"): "ticket_lookup",
    ("POST", "/api/v2/tickets.json"): "ticket_create",
    ("POST", "/api/v2/users/create_or_update.json"): "user_upsert",
    ("GET", "/api/v2/users/search.json"): "user_search",
}


@dataclass
class Logged:
    method: str
    endpoint: str
    status: int | None  # None: the connection was dropped
    at: float
    idempotency_key: str | None = None


@dataclass
class FakeWrites:
    limit: int = 100
    window_s: float = 10.0
    idempotency_ttl_s: float = 7200.0
    slow_s: float = 0.6
    contacts: dict[str, dict] = field(default_factory=dict)  # id -> properties
    tickets: list[dict] = field(default_factory=list)
    users: dict[str, dict] = field(default_factory=dict)  # email -> user
    log: list[Logged] = field(default_factory=list)
    schedule: dict[str, deque] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._keys: dict[str, tuple[float, str, dict]] = {}
        self._index: dict[str, str] = {}  # email (primary or additional) -> contact id
        self._merged: dict[str, str] = {}  # merged-away contact id -> the contact it became
        self._recent: deque[float] = deque()
        self._next_id = 5000
        self._server: ThreadingHTTPServer | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeWrites:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeWrites:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        return {
            "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
            "HUBSPOT_BASE_URL": self.base_url,
            "ZENDESK_BASE_URL": self.base_url,
            "ZENDESK_EMAIL": ZENDESK_EMAIL,
            "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
        }

    # ---- test helpers ------------------------------------------------------------------------

    def reset(self, *, idempotency_ttl_s: float = 7200.0, slow_s: float = 0.6) -> None:
        """Forget every object, key, fault and logged request (one server, many schedules)."""
        with self._lock:
            self.idempotency_ttl_s, self.slow_s = idempotency_ttl_s, slow_s
            stores = (self.contacts, self.users, self._keys, self._index, self._merged,
                      self.schedule)  # fmt: skip
            for store in stores:
                store.clear()
            self.tickets.clear()
            self.log.clear()
            self._recent.clear()

    def add_contact(self, email: str, additional: tuple[str, ...] = (), **props: Any) -> str:
        with self._lock:
            contact_id = self._new_id()
            self.put_contact(
                contact_id,
                {"email": email, "hs_additional_emails": ";".join(additional) or None, **props},
            )
            return contact_id

    def put_contact(self, contact_id: str, props: dict) -> None:
        """Store a contact under its id and index every email it holds."""
        with self._lock:
            self.contacts[contact_id] = props
            for email in _emails(props):
                self._index.setdefault(email, contact_id)

    def contact_for(self, email: str) -> str | None:
        """The unique-email index: primary and additional emails."""
        return self._index.get(email.lower())

    def contact_by_id(self, contact_id: str) -> str | None:
        """A live contact id, or the contact a merged-away id became."""
        contact_id = str(contact_id)
        while contact_id in self._merged:
            contact_id = self._merged[contact_id]
        return contact_id if contact_id in self.contacts else None

    def merge(self, primary: str, secondary: str) -> str:
        """Merge two contacts as HubSpot does since 2024: a new contact with a new id, the
        primary's email kept, the secondary's emails additional, both old ids pointing to it."""
        with self._lock:
            first, second = self.contacts.pop(primary), self.contacts.pop(secondary)
            merged_id = self._new_id()
            emails = (_emails(first) | _emails(second)) - {first["email"]}
            # Every id ever merged into either stays listed, as HubSpot keeps them.
            merged = [primary, secondary] + [
                i for c in (first, second)
                for i in (c.get("hs_merged_object_ids") or "").split(";") if i
            ]  # fmt: skip
            props = {**second, **first, "hs_additional_emails": ";".join(sorted(emails)) or None,
                     "hs_merged_object_ids": ";".join(merged)}  # fmt: skip
            self._merged[primary] = self._merged[secondary] = merged_id
            for email, owner in list(self._index.items()):
                if owner in (primary, secondary):
                    self._index[email] = merged_id
            self.put_contact(merged_id, props)
            return merged_id

    def writes(self) -> list[Logged]:
        return [r for r in self.log if r.method != "GET" and r.endpoint != "read"]

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _fault(self, endpoint: str) -> str | None:
        queue = self.schedule.get(endpoint)
        return queue.popleft() if queue else None

    def _rate_limited(self) -> float | None:
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= self.window_s:
                self._recent.popleft()
            if len(self._recent) >= self.limit:
                return self.window_s - (now - self._recent[0])
            self._recent.append(now)
        return None

    # ---- endpoints (called under the lock) -----------------------------------------------------

    def upsert(self, body: dict, fail: set[int]) -> tuple[int, dict]:
        inputs = body.get("inputs") or []
        if len(inputs) > 100:
            return 400, {"status": "error", "message": "at most 100 inputs"}
        emails = [i.get("id", "").lower() for i in inputs]
        if len(set(emails)) != len(emails):
            return 400, {"status": "error", "message": "duplicate ids in one batch"}
        results, errors = [], []
        for n, item in enumerate(inputs):
            if item.get("idProperty") != "email":
                return 400, {"status": "error", "message": "idProperty must be email"}
            if n in fail:
                errors.append(
                    {
                        "status": "error",
                        "category": "RATE_LIMITS",
                        "message": "try again",
                        "context": {"ids": [item["id"]]},
                    }
                )
                continue
            contact_id = self.contact_for(item["id"])
            new = contact_id is None
            props = dict(item.get("properties") or {})
            if new:
                contact_id = self._new_id()
                self.put_contact(contact_id, {"email": item["id"].lower()})
            props.pop("email", None)  # the index resolved it; an additional email stays one
            self.contacts[contact_id].update(props)
            results.append({"id": contact_id, "new": new,
                            "properties": dict(self.contacts[contact_id])})  # fmt: skip
        status = 207 if errors else 200
        return status, {"status": "COMPLETE", "results": results, "errors": errors}

    def update(self, body: dict, fail: set[int]) -> tuple[int, dict]:
        inputs = body.get("inputs") or []
        if len(inputs) > 100:
            return 400, {"status": "error", "message": "at most 100 inputs"}
        results, errors = [], []
        for n, item in enumerate(inputs):
            if item.get("idProperty") not in (None, "hs_object_id"):
                return 400, {"status": "error", "message": "this fake updates by contact id"}
            contact_id = self.contact_by_id(item.get("id", ""))
            if n in fail or contact_id is None:
                category = "RATE_LIMITS" if n in fail else "OBJECT_NOT_FOUND"
                context = {"ids": [item["id"]]}
                errors.append(
                    {"status": "error", "category": category, "message": category.lower(),
                     "context": context}
                )  # fmt: skip
                continue
            props = dict(item.get("properties") or {})
            if "email" in props:
                # A new primary email would move the index; the sender must never send one.
                return 400, {"status": "error", "message": "email changes are not faked"}
            self.contacts[contact_id].update(props)
            results.append({"id": contact_id, "properties": dict(self.contacts[contact_id])})
        status = 207 if errors else 200
        return status, {"status": "COMPLETE", "results": results, "errors": errors}

    def read(self, body: dict) -> tuple[int, dict]:
        results = []
        by_email = body.get("idProperty") == "email"
        for item in body.get("inputs") or []:
            wanted = item.get("id", "")
            contact_id = self.contact_for(wanted) if by_email else self.contact_by_id(wanted)
            if contact_id:
                results.append({"id": contact_id, "properties": dict(self.contacts[contact_id])})
        return 200, {"status": "COMPLETE", "results": results}

    def ticket_create(self, body: dict, key: str | None) -> tuple[int, dict, dict]:
        now = time.monotonic()
        canonical = json.dumps(body, sort_keys=True)
        for k, (stored_at, _, _) in list(self._keys.items()):
            if now - stored_at > self.idempotency_ttl_s:
                del self._keys[k]
        if key and key in self._keys:
            _, payload, response = self._keys[key]
            if payload != canonical:
                return 400, {"error": "IdempotentRequestError"}, {}
            return 201, response, {"x-idempotency-lookup": "hit"}
        ticket = dict(body.get("ticket") or {})
        ticket["id"] = int(self._new_id())
        self.tickets.append(ticket)
        response = {"ticket": ticket}
        if key:
            self._keys[key] = (now, canonical, response)
        return 201, response, {"x-idempotency-lookup": "miss"}

    def user_upsert(self, body: dict) -> tuple[int, dict]:
        user = body.get("user") or {}
        email = (user.get("email") or "").lower()
        if not email:
            return 422, {"error": "RecordInvalid"}
        existing = self.users.get(email)
        created = existing is None
        if created:
            existing = {"id": int(self._new_id()), "email": email, "tags": []}
            self.users[email] = existing
        existing["name"] = user.get("name") or existing.get("name")
        existing["tags"] = sorted(set(existing["tags"]) | set(user.get("tags") or []))
        return (201 if created else 200), {"user": dict(existing)}


def _emails(props: dict) -> set[str]:
    extra = (props.get("hs_additional_emails") or "").split(";")
    return {e.strip().lower() for e in [props.get("email") or "", *extra] if e.strip()}


def _authorized(header: str | None) -> bool:
    if not header:
        return False
    if header == f"Bearer {HUBSPOT_TOKEN}":
        return True
    expected = base64.b64encode(f"{ZENDESK_EMAIL}/token:{ZENDESK_TOKEN}".encode()).decode()
    return header == f"Basic {expected}"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeWrites
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        endpoint = ENDPOINTS.get((method, url.path))
        key = self.headers.get("Idempotency-Key")
        entry = Logged(method, endpoint or url.path, None, time.monotonic(), key)
        with fake._lock:
            fake.log.append(entry)
        if endpoint is None:
            return self._send(entry, 404, {"error": "not found"})
        if not _authorized(self.headers.get("Authorization")):
            return self._send(entry, 401, {"error": "unauthorized"})
        wait = fake._rate_limited()
        if wait is not None:
            return self._send(entry, 429, {"error": "rate limited"},
                              {"Retry-After": str(max(1, math.ceil(wait)))})  # fmt: skip
        fault = fake._fault(endpoint)
        if fault == "429":
            return self._send(entry, 429, {"error": "slow down"}, {"Retry-After": "0"})
        if fault == "500":
            echo = self.headers.get("Authorization", "")
            return self._send(entry, 500, {"error": f"upstream failed for {echo}"})
        body = json.loads(raw) if raw else {}
        query = parse_qs(url.query)
        extra: dict[str, str] = {}
        with fake._lock:
            if endpoint == "upsert":
                n = len(body.get("inputs") or [])
                fail = set(range(max(n // 2, 1))) if fault == "partial" else set()
                status, payload = fake.upsert(body, fail)
            elif endpoint == "update":
                n = len(body.get("inputs") or [])
                fail = set(range(max(n // 2, 1))) if fault == "partial" else set()
                status, payload = fake.update(body, fail)
            elif endpoint == "read":
                status, payload = fake.read(body)
            elif endpoint == "ticket_lookup":
                wanted = (query.get("external_id") or [""])[0]
                found = [t for t in fake.tickets if t.get("external_id") == wanted]
                status, payload = 200, {"tickets": found, "count": len(found)}
            elif endpoint == "ticket_create":
                status, payload, extra = fake.ticket_create(body, key)
            elif endpoint == "user_upsert":
                status, payload = fake.user_upsert(body)
            else:
                wanted = (query.get("query") or [""])[0].removeprefix("email:").lower()
                found = [dict(fake.users[wanted])] if wanted in fake.users else []
                status, payload = 200, {"users": found, "count": len(found)}
        if fault == "commit_500":
            return self._send(entry, 500, {"error": "internal error"})
        if fault == "commit_drop":
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(2)
            return None
        if fault == "commit_slow":
            time.sleep(fake.slow_s)
        return self._send(entry, status, payload, extra)

    def _send(self, entry: Logged, status: int, payload: dict, headers: dict | None = None) -> None:
        entry.status = status
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a read timeout): what was applied stays applied
