"""Fake HubSpot and Zendesk APIs for connector tests: real HTTP on 127.0.0.1, scripted faults.

Serves, from in-memory data, the four endpoints the connectors call:

- ``forms``            GET  /form-integrations/v1/submissions/forms/{guid}  (newest first)
- ``contacts_list``    GET  /crm/v3/objects/contacts                        (id order)
- ``contacts_search``  POST /crm/v3/objects/contacts/search                 (filters, sorts)
- ``tickets``          GET  /api/v2/incremental/tickets/cursor.json         (change log)

Only default properties come back unless the request names others, as the real API does.
Faults are queued per endpoint with ``add_fault`` and fire on the matching requests in order.
A ``drip`` fault sends the headers, then the body one byte every ``delay_s``; ``drip_headers``
drips the whole response, status line first. An endpoint named
in ``cycle`` never ends: where its stream would end it hands out a cursor back to the first page
(A, B, C, A, B, ...), as a buggy API or a proxy caching cursors might.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HUBSPOT_TOKEN = "pat-na1-fake-1234-SECRET-hubspot"
ZENDESK_EMAIL = "agent@example.com"
ZENDESK_TOKEN = "zdtok-FAKE-5678-SECRET-zendesk"

CONTACT_DEFAULT_PROPERTIES = frozenset(
    {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}
)
SEARCH_DEFAULT_PROPERTIES = frozenset({"createdate", "hs_object_id", "lastmodifieddate"})
ENDPOINTS = ("forms", "contacts_list", "contacts_search", "tickets")
FAULT_KINDS = ("status", "delay", "truncate", "not_json", "block", "drip", "drip_headers")
BASE_TIME = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@dataclass
class Fault:
    """A scripted misbehaviour of one endpoint: skip ``skip`` requests, then hit ``times``."""

    endpoint: str
    kind: str
    times: int = 1
    skip: int = 0
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    keep_bytes: int | None = None  # truncate / not_json: bytes of the real body to send
    echo_auth: bool = False  # status: echo the Authorization header, as a careless proxy might
    hits: int = 0
    hit: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class Recorded:
    endpoint: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorized: bool
    at: float


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_s(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_ms(value: Any) -> int:
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _encode(kind: str, n: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{n}".encode()).decode().rstrip("=")


def _decode(kind: str, token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    prefix, _, n = raw.partition(":")
    if prefix != kind:
        raise ValueError(token)
    return int(n)


# ------------------------------------------------------------------------------- test data


def make_contacts(n: int, start: datetime = BASE_TIME, first_id: int = 1001) -> list[dict]:
    """``n`` contacts, one modified per hour, every property of SPEC section 2 set."""
    out = []
    for i in range(n):
        created = start + timedelta(hours=i)
        modified = created + timedelta(minutes=30)
        props = {
            "email": f"person{i}@example.com",
            "hs_additional_emails": f"p{i}@alt.example.com",
            "firstname": f"First{i}",
            "lastname": f"O'Last{i}",
            "company": f"Company {i % 7}",
            "lead_id": f"L-{i:05d}",
            "createdate": iso_ms(created),
            "hubspot_owner_id": str(500 + i % 3) if i % 2 == 0 else None,
            "hubspot_owner_assigneddate": iso_ms(created + timedelta(minutes=20))
            if i % 2 == 0
            else None,
            "lastmodifieddate": iso_ms(modified),
            "hs_object_id": str(first_id + i),
        }
        out.append(
            {
                "id": str(first_id + i),
                "properties": props,
                "createdAt": iso_ms(created),
                "updatedAt": iso_ms(modified),
                "archived": False,
            }
        )
    return out


def make_submissions(n: int, start: datetime = BASE_TIME, prefix: str = "s") -> list[dict]:
    out = []
    for i in range(n):
        out.append(
            {
                "conversionId": f"{prefix}-{i:05d}",
                "submittedAt": int((start + timedelta(minutes=7 * i)).timestamp() * 1000),
                "pageUrl": f"https://example.com/demo?utm_source=src{i % 3}",
                "values": [
                    {"name": "email", "value": f"person{i}@example.com"},
                    {"name": "firstname", "value": f"First{i}"},
                    {"name": "lastname", "value": f"O'Last{i}"},
                    {"name": "lead_id", "value": f"L-{i:05d}"},
                ],
            }
        )
    return out


def make_tickets(n: int, start: datetime = BASE_TIME) -> tuple[list[dict], list[dict], list[dict]]:
    """``n`` tickets (64-bit ids), their requesters and metric sets, in export order."""
    tickets, users, metrics = [], [], []
    for i in range(n):
        tid = 9_000_000_000_000 + i
        uid = 8_000_000_000_000 + i
        created = start + timedelta(minutes=11 * i)
        tickets.append(
            {
                "id": tid,
                "created_at": iso_s(created),
                "updated_at": iso_s(created),
                "generated_timestamp": int(created.timestamp()),
                "requester_id": uid,
                "assignee_id": 7_000 + i % 4 if i % 3 else None,
                "external_id": f"m-{i:05d}" if i % 2 else None,
                "status": "open",
                "via": {"channel": "web"},
                "subject": f"Question {i}",
            }
        )
        users.append({"id": uid, "email": f"person{i}@example.com", "name": f"First{i} Last{i}"})
        metrics.append(
            {
                "id": 6_000_000 + i,
                "ticket_id": tid,
                "initially_assigned_at": iso_s(created + timedelta(minutes=9)) if i % 3 else None,
            }
        )
    return tickets, users, metrics


# --------------------------------------------------------------------------------- server


class FakeVendors:
    """A threaded HTTP server playing HubSpot and Zendesk; use as a context manager."""

    def __init__(
        self,
        *,
        forms: dict[str, list[dict]] | None = None,
        contacts: Iterable[dict] = (),
        tickets: Iterable[dict] = (),
        users: Iterable[dict] = (),
        metric_sets: Iterable[dict] = (),
        page_sizes: dict[str, int] | None = None,
        search_window: int = 10_000,
        block_timeout_s: float = 60.0,
        cycle: Iterable[str] = (),
    ) -> None:
        self.forms = {g: [dict(s) for s in subs] for g, subs in (forms or {}).items()}
        self.contacts = {c["id"]: json.loads(json.dumps(c)) for c in contacts}
        self.ticket_log = [dict(t) for t in tickets]
        self.users = {u["id"]: dict(u) for u in users}
        self.metric_sets = {m["ticket_id"]: dict(m) for m in metric_sets}
        self.page_sizes = {
            "forms": 50,
            "contacts_list": 100,
            "contacts_search": 200,
            "tickets": 1000,
            **(page_sizes or {}),
        }
        self.search_window = search_window
        self.block_timeout_s = block_timeout_s
        self.cycle = set(cycle)
        assert self.cycle <= set(ENDPOINTS), self.cycle
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._last_change: datetime | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeVendors:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.vendors = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="fake-vendors", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            for fault in self.faults:
                fault.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeVendors:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # scripting
    def add_fault(self, endpoint: str, kind: str, **kwargs: Any) -> Fault:
        assert endpoint in ENDPOINTS and kind in FAULT_KINDS, (endpoint, kind)
        fault = Fault(endpoint, kind, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def requests_to(self, endpoint: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def _tick(self) -> datetime:
        # Distinct, increasing stamps even for changes made within the same millisecond.
        now = datetime.now(UTC).replace(microsecond=datetime.now(UTC).microsecond // 1000 * 1000)
        if self._last_change is not None and now <= self._last_change:
            now = self._last_change + timedelta(milliseconds=1)
        self._last_change = now
        return now

    def update_contact(self, contact_id: str, **props: Any) -> dict:
        """Change a contact now, as a HubSpot user would; returns the new version."""
        with self.lock:
            now = self._tick()
            contact = self.contacts[contact_id]
            contact["properties"].update(props)
            contact["properties"]["lastmodifieddate"] = iso_ms(now)
            contact["updatedAt"] = iso_ms(now)
            return json.loads(json.dumps(contact))

    def add_contact(self, contact: dict) -> None:
        with self.lock:
            self.contacts[contact["id"]] = json.loads(json.dumps(contact))

    def update_ticket(self, ticket_id: int, **changes: Any) -> dict:
        """Append a new version of a ticket to the export's change log."""
        now = datetime.now(UTC)
        with self.lock:
            latest = next(t for t in reversed(self.ticket_log) if t["id"] == ticket_id)
            version = {
                **latest,
                **changes,
                "updated_at": iso_s(now),
                "generated_timestamp": int(now.timestamp()),
            }
            self.ticket_log.append(version)
            return dict(version)

    def add_submission(self, guid: str, submission: dict) -> None:
        with self.lock:
            self.forms.setdefault(guid, []).append(dict(submission))

    # request handling (called from handler threads)
    def _take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.endpoint != endpoint or fault.times <= 0:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                fault.hits += 1
                fault.hit.set()
                return fault
        return None

    def _authorized(self, endpoint: str, header: str | None) -> bool:
        if endpoint == "tickets":
            creds = base64.b64encode(f"{ZENDESK_EMAIL}/token:{ZENDESK_TOKEN}".encode()).decode()
            return header == f"Basic {creds}"
        return header == f"Bearer {HUBSPOT_TOKEN}"

    def _respond(
        self, endpoint: str, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, dict]:
        with self.lock:
            if endpoint == "forms":
                return self._forms(path.rsplit("/", 1)[-1], query)
            if endpoint == "contacts_list":
                return self._contacts_list(query)
            if endpoint == "contacts_search":
                return self._contacts_search(body)
            return self._tickets(query)

    def _forms(self, guid: str, query: dict[str, list[str]]) -> tuple[int, dict]:
        if guid not in self.forms:
            return 404, {"status": "error", "message": f"form {guid} not found"}
        limit = int(query.get("limit", ["20"])[0])
        if not 1 <= limit <= 50:
            return 400, {"status": "error", "message": "limit must be 1..50"}
        limit = min(limit, self.page_sizes["forms"])
        subs = sorted(self.forms[guid], key=lambda s: -s["submittedAt"])
        offset = _decode("forms", query["after"][0]) if "after" in query else 0
        out: dict[str, Any] = {"results": subs[offset : offset + limit]}
        if offset + limit < len(subs) or "forms" in self.cycle:
            nxt = offset + limit if offset + limit < len(subs) else 0
            after = _encode("forms", nxt)
            out["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return 200, out

    def _contacts_list(self, query: dict[str, list[str]]) -> tuple[int, dict]:
        limit = int(query.get("limit", ["10"])[0])
        if not 1 <= limit <= 100:
            return 400, {"status": "error", "message": "limit must be 1..100"}
        limit = min(limit, self.page_sizes["contacts_list"])
        wanted = {p for v in query.get("properties", []) for p in v.split(",") if p}
        ids = sorted(self.contacts, key=int)
        start = int(query["after"][0]) if "after" in query else 0
        ids = [i for i in ids if int(i) >= start]
        page = [
            self._shape(self.contacts[i], CONTACT_DEFAULT_PROPERTIES | wanted) for i in ids[:limit]
        ]
        out: dict[str, Any] = {"results": page}
        if len(ids) > limit:
            out["paging"] = {"next": {"after": ids[limit], "link": f"?after={ids[limit]}"}}
        elif "contacts_list" in self.cycle:
            first = min(self.contacts, key=int)
            out["paging"] = {"next": {"after": first, "link": f"?after={first}"}}
        return 200, out

    def _contacts_search(self, body: Any) -> tuple[int, dict]:
        if not isinstance(body, dict):
            return 400, {"status": "error", "message": "body must be JSON"}
        limit = int(body.get("limit", 10))
        after = int(body.get("after", 0) or 0)
        if not 1 <= limit <= 200:
            return 400, {"status": "error", "message": "limit must be 1..200"}
        if after >= self.search_window:
            return 400, {
                "status": "error",
                "message": f"paging past {self.search_window} results is not allowed",
            }
        limit = min(limit, self.page_sizes["contacts_search"], self.search_window - after)
        groups = body.get("filterGroups") or [{"filters": []}]
        matched = [
            c
            for c in self.contacts.values()
            if any(all(_match(c, f) for f in g.get("filters", [])) for g in groups)
        ]
        matched.sort(key=lambda c: (to_ms(c["properties"]["lastmodifieddate"]), int(c["id"])))
        wanted = set(body.get("properties") or [])
        page = [
            self._shape(c, SEARCH_DEFAULT_PROPERTIES | wanted)
            for c in matched[after : after + limit]
        ]
        out: dict[str, Any] = {"total": len(matched), "results": page}
        if after + limit < min(len(matched), self.search_window):
            out["paging"] = {"next": {"after": str(after + limit)}}
        elif "contacts_search" in self.cycle:
            out["paging"] = {"next": {"after": "0"}}
        return 200, out

    def _tickets(self, query: dict[str, list[str]]) -> tuple[int, dict]:
        if "cursor" in query:
            try:
                index = _decode("ticket", query["cursor"][0])
            except ValueError:
                return 400, {"error": "InvalidCursor"}
        elif "start_time" in query:
            start = int(query["start_time"][0])
            index = next(
                (i for i, t in enumerate(self.ticket_log) if t["generated_timestamp"] >= start),
                len(self.ticket_log),
            )
        else:
            return 400, {"error": "InvalidValue", "description": "start_time or cursor required"}
        size = self.page_sizes["tickets"]
        page = self.ticket_log[index : index + size]
        nxt = index + len(page)
        include = {p for v in query.get("include", []) for p in v.split(",")}
        end = nxt >= len(self.ticket_log)
        if end and "tickets" in self.cycle:
            nxt, end = 0, False
        after = _encode("ticket", nxt)
        out: dict[str, Any] = {
            "tickets": page,
            "after_cursor": after,
            "before_cursor": _encode("ticket", index),
            "after_url": f"{EXPORT_URL}?cursor={after}",
            "end_of_stream": end,
        }
        if "users" in include:
            ids = {t.get("requester_id") for t in page} | {t.get("assignee_id") for t in page}
            out["users"] = [self.users[i] for i in sorted(x for x in ids if x in self.users)]
        if "metric_sets" in include:
            out["metric_sets"] = [
                self.metric_sets[t["id"]] for t in page if t["id"] in self.metric_sets
            ]
        return 200, out

    @staticmethod
    def _shape(contact: dict, properties: set[str] | frozenset[str]) -> dict:
        props = contact["properties"]
        return {**contact, "properties": {p: props.get(p) for p in sorted(properties)}}


EXPORT_URL = "/api/v2/incremental/tickets/cursor.json"


def _match(contact: dict, flt: dict) -> bool:
    value = contact["properties"].get(flt.get("propertyName"))
    if value is None:
        return False
    left, right = to_ms(value), to_ms(flt.get("value"))
    op = flt.get("operator")
    return {
        "GTE": left >= right,
        "GT": left > right,
        "LTE": left <= right,
        "LT": left < right,
        "EQ": left == right,
    }.get(op, False)


def _route(method: str, path: str) -> str | None:
    if method == "GET" and path.startswith("/form-integrations/v1/submissions/forms/"):
        return "forms"
    if method == "GET" and path == "/crm/v3/objects/contacts":
        return "contacts_list"
    if method == "POST" and path == "/crm/v3/objects/contacts/search":
        return "contacts_search"
    if method == "GET" and path == EXPORT_URL:
        return "tickets"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # keep test output clean

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._handle("POST")

    def _handle(self, method: str) -> None:
        try:
            self._serve(method)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client gave up (timeout test, killed process)

    def _serve(self, method: str) -> None:
        vendors: FakeVendors = self.server.vendors  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        endpoint = _route(method, parts.path)
        authorized = endpoint is not None and vendors._authorized(
            endpoint, self.headers.get("Authorization")
        )
        with vendors.lock:
            vendors.requests.append(
                Recorded(
                    endpoint or "unknown",
                    method,
                    parts.path,
                    query,
                    body,
                    authorized,
                    time.monotonic(),
                )
            )
        if endpoint is None:
            self._send(404, {"status": "error", "message": "no such endpoint"})
            return
        if not authorized:
            msg = (
                {"error": "Couldn't authenticate you"}
                if endpoint == "tickets"
                else {
                    "status": "error",
                    "category": "INVALID_AUTHENTICATION",
                    "message": "Authentication credentials not found.",
                }
            )
            self._send(401, msg)
            return
        fault = vendors._take_fault(endpoint)
        if fault is not None and fault.kind == "status":
            message = f"fault {fault.status}"
            if fault.echo_auth:
                message += f" for Authorization: {self.headers.get('Authorization')}"
            self._send(fault.status, {"status": "error", "message": message}, fault.headers)
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.delay_s)
        if fault is not None and fault.kind == "block":
            fault.release.wait(vendors.block_timeout_s)
        status, payload = vendors._respond(endpoint, method, parts.path, query, body)
        data = json.dumps(payload).encode()
        if fault is not None and fault.kind == "truncate":
            keep = fault.keep_bytes if fault.keep_bytes is not None else len(data) // 2
            self._send_raw(status, data[:keep], declared_length=len(data))
            self.close_connection = True  # the server hangs up mid-body
            return
        if fault is not None and fault.kind == "not_json":
            keep = fault.keep_bytes if fault.keep_bytes is not None else len(data) // 2
            data = data[:keep]
        if fault is not None and fault.kind == "drip":
            self._drip(status, data, fault.delay_s or 1.0)
            return
        if fault is not None and fault.kind == "drip_headers":
            head = (
                f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n"
            ).encode()
            for i, byte in enumerate(head + data):
                self.wfile.write(bytes([byte]))
                self.wfile.flush()  # raises once the client has hung up
                if i < len(head):
                    time.sleep(fault.delay_s or 1.0)
            self.close_connection = True
            return
        self._send_raw(status, data)

    def _drip(self, status: int, data: bytes, interval_s: float) -> None:
        """Headers at once, then the body one byte per `interval_s`: every read gets a byte well
        within any read timeout, so only a deadline on the whole response stops the client."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.flush()
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()  # raises once the client has hung up: the handler ends there
            time.sleep(interval_s)

    def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), headers=headers)

    def _send_raw(
        self,
        status: int,
        data: bytes,
        *,
        declared_length: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header(
            "Content-Length", str(declared_length if declared_length is not None else len(data))
        )
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
