"""Small real stacks for incident tests: a DuckDB warehouse with the SPEC section 6 / integration
columns the incidents read, and HTTP receivers on 127.0.0.1 standing in for the sinks."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

from lead_parity.contract.evaluations import ddl
from lead_parity.pipeline.http_client import HttpSettings

EVALUATIONS_DDL = "create schema if not exists ops;\n" + ddl()
DROPPED_DDL = """
create schema if not exists marts;
create or replace table marts.rpt_dropped_leads (
    conversion_id varchar, lead_key varchar, email varchar, conversion_type varchar,
    origin varchar, converted_at timestamp, dropped_at_hop varchar, root_cause varchar,
    owner varchar, intent_score integer, value_usd double)
"""

FAST = HttpSettings(
    connect_timeout_s=1.0,
    read_timeout_s=2.0,
    max_attempts=4,
    backoff_factor_s=0.05,
    backoff_max_s=0.2,
    retry_after_max_s=10,
    outbox_retry_s=0.0,
)

DAY = date(2026, 10, 10)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def parity_row(
    evaluated_at: datetime,
    *,
    hop: str = "crm",
    expected: int = 400,
    dropped: int = 8,
    conversion_type: str = "all",
    origin: str = "all",
    day: date | None = None,
    threshold: float = 1.0,
    critical: float = 5.0,
) -> dict:
    """One parity unit; by default the day a daily run at `evaluated_at` has just made final
    (two days before it with the default 24h drop_after)."""
    day = day or (evaluated_at.astimezone(UTC).date() - timedelta(days=2))
    pct = 100.0 * dropped / expected if expected else None
    passed = pct is None or pct < threshold
    severity = "ok" if passed else ("critical" if pct >= critical else "warning")
    return {
        "evaluated_at": evaluated_at,
        "rule": "parity",
        "scope": f"{day.isoformat()}|{hop}|{conversion_type}|{origin}",
        "conversion_date": day,
        "conversion_type": conversion_type,
        "origin": origin,
        "hop": hop,
        "observed": pct,
        "threshold": threshold,
        "passed": passed,
        "severity": severity,
        "expected": expected,
        "dropped": dropped,
        "details": None,
    }


def write_evaluation(warehouse: Path, rows: list[dict]) -> None:
    """Insert one evaluation, replacing rows of the same key (as the quality helper does)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(EVALUATIONS_DDL)
        for r in rows:
            con.execute(
                "insert or replace into ops.slo_evaluations values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    r["evaluated_at"].astimezone(UTC).replace(tzinfo=None),
                    r["rule"],
                    r["scope"],
                    r["conversion_date"],
                    r["conversion_type"],
                    r["origin"],
                    r["hop"],
                    r["observed"],
                    r["threshold"],
                    r["passed"],
                    r["severity"],
                    r["expected"],
                    r["dropped"],
                    r["details"],
                ],
            )
    finally:
        con.close()


def write_dropped(warehouse: Path, rows: list[dict]) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(DROPPED_DDL)
        for r in rows:
            con.execute(
                "insert into marts.rpt_dropped_leads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    r["conversion_id"],
                    r.get("lead_key", "L"),
                    r.get("email", "x@y.z"),
                    r.get("conversion_type", "demo_request"),
                    r.get("origin", "google_ads"),
                    r["converted_at"].astimezone(UTC).replace(tzinfo=None),
                    r["dropped_at_hop"],
                    r.get("root_cause", "no_trace"),
                    r.get("owner", "platform"),
                    r.get("intent_score"),
                    r.get("value_usd", 1500.0),
                ],
            )
    finally:
        con.close()


def dropped_at_crm(n: int, day: date = DAY, prefix: str = "m") -> list[dict]:
    start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return [
        {
            "conversion_id": f"{prefix}'{i:03d}",
            "converted_at": start + timedelta(minutes=i),
            "dropped_at_hop": "crm",
            "intent_score": i % 100,
        }
        for i in range(n)
    ]


def read_incidents(warehouse: Path) -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute("select * from ops.incidents order by opened_at, status desc")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


# ---- HTTP receivers -----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 with a script of answers (status, headers, delay_s)."""

    default_status: int = 202
    script: list[tuple[int, dict[str, str], float]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers, delay = (
                    receiver.script.pop(0)
                    if receiver.script
                    else (receiver.default_status, {}, 0.0)
                )
                receiver.requests.append(
                    Received(self.path, dict(self.headers.items()), body, time.monotonic(), status)
                )
                if delay:
                    time.sleep(delay)
                payload = b'{"status":"success"}' if status < 300 else b'{"status":"error"}'
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (read timeout): that is the point of the test

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accepted(self) -> list[Received]:
        """What the receiver took in (answered 2xx), one per Idempotency-Key."""
        seen: dict[str, Received] = {}
        for index, req in enumerate(self.requests):
            if 200 <= req.status < 300:
                seen.setdefault(req.headers.get("Idempotency-Key", str(index)), req)
        return list(seen.values())


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
