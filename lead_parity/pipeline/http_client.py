"""One HTTP client for every vendor API: timeouts, bounded retries, pages read as received.

Transient HTTP failures (429, 5xx, refused connections, read timeouts while waiting for the
response) are retried by urllib3's ``Retry`` mounted on a ``requests.Session``; a page whose body
arrives broken (connection closed early, Content-Length mismatch, not JSON) is re-requested a few
times and, if it stays broken, handed back with the bytes received so the caller can land it for
quarantine. 401/403 fail at once with a message that names no secret.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import requests
import urllib3.exceptions
from urllib3.util.retry import Retry

from lead_parity.pipeline.env_numbers import numbers_from_env
from lead_parity.pipeline.http_deadline import (
    HeadersPastDeadline,
    attempt_deadline,
    deadline_adapter,
    set_limit,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})
RATE_LIMITED = "HTTP 429"  # the retry ledger's reason for a 429 answer


class HttpClientError(RuntimeError):
    """A request failed for good; the message is safe to log (no credentials)."""


class AuthError(HttpClientError):
    """The vendor rejected the credentials (401/403); retrying cannot help."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HttpStatusError(HttpClientError):
    """A non-2xx status that retries did not cure (or that is not worth retrying)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TransportError(HttpClientError):
    """No usable response: connection refused, timeouts, retries exhausted."""


class DeadlineExceeded(TransportError):
    """The response did not arrive in full within the request deadline (a slow or dripping
    server); not retried, since a second try would hold the stream as long again."""


HTTP_PREFIX = "LEAD_PARITY_HTTP_"  # the connectors' and remediation writes' variables
# Attribute -> (environment variable suffix, type); the incident sinks read the same names
# under their own prefix (LEAD_PARITY_SINK_, lead_parity/pipeline/incidents/sinks.py).
RETRY_VARIABLES = {
    "connect_timeout_s": ("CONNECT_TIMEOUT", float),
    "read_timeout_s": ("READ_TIMEOUT", float),
    "max_attempts": ("MAX_ATTEMPTS", int),
    "backoff_factor_s": ("BACKOFF_FACTOR", float),
    "retry_after_max_s": ("RETRY_AFTER_MAX", int),
}


# Budgets of a connector run, read from LEAD_PARITY_HTTP_* as well (docs/robustness.md).
BUDGET_VARIABLES = {
    "request_deadline_s": ("REQUEST_DEADLINE", float),
    "max_pages": ("MAX_PAGES", int),
    "max_seconds": ("MAX_SECONDS", float),
}


@dataclass(frozen=True)
class HttpSettings:
    """Retry and timeout policy of every HTTP caller: the connectors, the remediation writes
    and the alert sinks (which start from their own defaults, `incidents.sinks.SINK_SETTINGS`).

    Built by the entry points (the Dagster resources, the CLI) from the variables they read;
    the library only receives it.
    """

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    max_attempts: int = 6  # tries per request, the first one included
    backoff_factor_s: float = 0.5  # waits grow 2x per consecutive failure
    backoff_max_s: float = 60.0
    backoff_jitter_s: float = 0.5  # spreads retries of parallel workers apart
    retry_after_max_s: int = 120  # a server asking for longer waits this long at most
    body_attempts: int = 3  # tries for a page whose body arrives broken
    # The read timeout bounds each wait for bytes, so a server sending one byte a second never
    # trips it: the deadline bounds each attempt from sending the request to the last byte.
    request_deadline_s: float = 120.0
    # Per source and run: an API that keeps handing out new cursors (or a bug in ours) stops
    # here instead of filling the disk with pages. 20,000 pages are 2M HubSpot contacts.
    max_pages: int = 20_000
    max_seconds: float = 2 * 3600.0
    # An outbox (alert sinks): the first wait between delivery passes of an event that failed
    # under the sensor; it doubles per failed pass, up to an hour.
    outbox_retry_s: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HttpSettings:
        """Override defaults with LEAD_PARITY_HTTP_* variables of `env`, the mapping the entry
        point read (see docs/live-connectors.md)."""
        names = {**RETRY_VARIABLES, **BUDGET_VARIABLES}
        settings = cls().overridden(env, HTTP_PREFIX, names, HttpClientError)
        for attr, (suffix, _) in BUDGET_VARIABLES.items():
            if getattr(settings, attr) <= 0:
                raise HttpClientError(f"{HTTP_PREFIX}{suffix} must be above 0")
        return settings

    def overridden(
        self,
        env: Mapping[str, str],
        prefix: str,
        names: Mapping[str, tuple[str, Any]],
        error: type[Exception],
    ) -> HttpSettings:
        """These settings with every `prefix + suffix` variable of `names` set in `env`."""
        return replace(self, **numbers_from_env(env, prefix, names, error))

    def lease_s(self) -> float:
        """Longest one request can take with all its retries, so an outbox claim outlives it
        and another process never sends the same event meanwhile."""
        per_try = self.connect_timeout_s + self.read_timeout_s
        waits = self.max_attempts * max(self.backoff_max_s, self.retry_after_max_s)
        return self.max_attempts * per_try + waits + 60


@dataclass
class RetryLedger:
    """Counts the retries of one client across every request it made."""

    retries: int = 0
    waited_s: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, reason: str) -> None:
        with self._lock:
            self.retries += 1
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def add_wait(self, seconds: float) -> None:
        with self._lock:
            self.waited_s += seconds

    def mark(self) -> tuple[int, float]:
        """The counts so far, for StreamStats.finish to take what came after."""
        return self.retries, self.waited_s


@dataclass(frozen=True)
class HttpCall:
    """One request of a connector as the vendor saw it: what the rate-limit mart reads.

    `status` is the final answer (None: no usable response); `retries`, `rate_limited` (429
    answers, retried ones included) and `waited_s` cover every attempt of this one request.
    """

    requested_at: datetime
    vendor: str
    method: str
    endpoint: str
    status: int | None
    retries: int
    rate_limited: int
    waited_s: float


class CountingRetry(Retry):
    """urllib3 ``Retry`` that reports every retry and wait into a shared ``RetryLedger``.

    urllib3 derives a fresh Retry object per attempt through ``new()``; the ledger is handed
    along so the count covers the whole request, and every request of the client.
    """

    def __init__(
        self,
        *args: Any,
        ledger: RetryLedger | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`label`: what the retry log names instead of the request's method and path, for a
        destination whose URL is itself a secret (a Slack webhook, a PagerDuty routing URL)."""
        super().__init__(*args, **kwargs)
        self.ledger = ledger if ledger is not None else RetryLedger()
        self.label = label

    def new(self, **kw: Any) -> CountingRetry:
        retry = super().new(**kw)
        retry.ledger = self.ledger
        retry.label = self.label
        return retry

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):  # noqa: ANN001 - urllib3's signature
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        reason = (
            f"HTTP {response.status}"
            if response is not None and response.status
            # urllib3's own class (ReadTimeoutError, NewConnectionError): says which phase failed
            else (type(error).__name__ if error is not None else "unknown")
        )
        self.ledger.record(reason)
        attempt = len(retry.history) + 1
        if self.label:
            log.warning("%s: retrying after %s (attempt %d)", self.label, reason, attempt)
        else:
            log.warning(
                "retrying %s %s after %s (attempt %d)", method, _path_only(url), reason, attempt
            )
        return retry

    def sleep(self, response=None) -> None:  # noqa: ANN001 - urllib3's signature
        started = time.monotonic()
        super().sleep(response)
        self.ledger.add_wait(time.monotonic() - started)


def _path_only(url: str | None) -> str:
    # urllib3 passes the request target; keep the path, drop the query (cursors are long).
    return (url or "").split("?", 1)[0]


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer`` without ever showing the token in a repr."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


@dataclass
class Page:
    """One API response page, exactly as received."""

    method: str
    path: str
    status: int
    body: bytes
    data: Any | None  # parsed JSON; None when the body is unusable
    problem: str | None  # why the body is unusable, None when it parsed
    tries: int


class HttpClient:
    """GET/POST JSON pages from one vendor base URL with the retry policy of ``HttpSettings``."""

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        auth: requests.auth.AuthBase,
        secrets: tuple[str, ...] = (),
        settings: HttpSettings | None = None,
        credential_hint: str = "the API token",
        logger: logging.Logger | logging.LoggerAdapter | None = None,
        writes: bool = False,
    ) -> None:
        """`writes=True` is for requests that change the vendor's data: only failures that
        prove the request was not processed (refused connection, 429) are retried here; a read
        timeout, a dropped connection or a 5xx leaves the outcome unknown and raises, so the
        caller can look before it tries again (lead_parity/pipeline/remediation/senders.py)."""
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.settings = settings or HttpSettings()
        self.ledger = RetryLedger()
        self._writes = writes
        self.calls: list[HttpCall] = []  # every request made, for the connector's call log
        self._secrets = tuple(s for s in secrets if s)
        self._credential_hint = credential_hint
        self._log = logger or log
        s = self.settings
        retry = CountingRetry(
            total=max(s.max_attempts - 1, 0),
            connect=None,
            read=0 if writes else None,
            status=None,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"GET", "POST"}),  # the search POST is a read
            status_forcelist=frozenset({429}) if writes else RETRY_STATUSES,
            backoff_factor=s.backoff_factor_s,
            backoff_max=s.backoff_max_s,
            backoff_jitter=s.backoff_jitter_s,
            respect_retry_after_header=True,
            retry_after_max=s.retry_after_max_s,
            raise_on_status=False,  # hand back the last response so the error names its status
            ledger=self.ledger,
        )
        self._session = requests.Session()
        self._session.auth = auth  # set explicitly so requests never falls back to ~/.netrc
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": "lead-parity-connector/0.1"}
        )
        adapter = deadline_adapter(max_retries=retry)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_page(self, path: str, params: Mapping[str, Any] | None = None) -> Page:
        return self._fetch("GET", path, params=params, json_body=None)

    def post_page(
        self, path: str, json_body: Any, headers: Mapping[str, str] | None = None
    ) -> Page:
        return self._fetch("POST", path, params=None, json_body=json_body, headers=headers)

    def _fetch(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        started = datetime.now(UTC)
        retries, waited = self.ledger.retries, self.ledger.waited_s
        limited = self.ledger.reasons.get(RATE_LIMITED, 0)
        status: int | None = None
        try:
            page = self._fetch_page(
                method, path, params=params, json_body=json_body, headers=headers
            )
            status = page.status
            return page
        except (HttpStatusError, AuthError) as exc:
            status = exc.status
            raise
        finally:
            final_429 = 1 if status == 429 else 0
            self.calls.append(
                HttpCall(
                    requested_at=started,
                    vendor=self.service,
                    method=method,
                    endpoint=_path_only(path),
                    status=status,
                    retries=self.ledger.retries - retries,
                    rate_limited=self.ledger.reasons.get(RATE_LIMITED, 0) - limited + final_429,
                    waited_s=self.ledger.waited_s - waited,
                )
            )

    def _fetch_page(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> Page:
        url = self.base_url + path
        s = self.settings
        # A write whose answer arrived broken may have been applied: never send it twice here.
        attempts = 1 if self._writes else max(s.body_attempts, 1)
        for attempt in range(1, attempts + 1):
            retries_before = self.ledger.retries
            set_limit(s.request_deadline_s)
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=dict(headers) if headers else None,
                    stream=True,
                    timeout=(s.connect_timeout_s, s.read_timeout_s),
                )
            except HeadersPastDeadline:
                raise DeadlineExceeded(
                    f"{self.service} {method} {path}: no response headers within the "
                    f"{s.request_deadline_s:g} s request deadline"
                ) from None
            except requests.RequestException as exc:
                tries = self.ledger.retries - retries_before + 1
                raise TransportError(
                    self._redact(
                        f"{self.service} {method} {path}: no usable response after "
                        f"{tries} attempt(s): {describe_error(exc)}"
                    )
                ) from None
            finally:
                # Attempt by attempt: Retry-After waits between them are the retry policy's.
                deadline = attempt_deadline() or time.monotonic() + s.request_deadline_s
                set_limit(None)
            tries = self.ledger.retries - retries_before + 1
            with resp:
                status = resp.status_code
                if status in AUTH_STATUSES:
                    raise AuthError(
                        f"{self.service} rejected the credentials (HTTP {status}) for {method} "
                        f"{path}; check {self._credential_hint} and its scopes",
                        status,
                    )
                body, problem = _read_body(resp, deadline, s.read_timeout_s)
            if problem == _PAST_DEADLINE:
                raise DeadlineExceeded(
                    f"{self.service} {method} {path}: no complete response within the "
                    f"{s.request_deadline_s:g} s request deadline ({len(body)} bytes received)"
                )
            if not 200 <= status < 300:
                snippet = body[:300].decode("utf-8", "replace")
                raise HttpStatusError(
                    self._redact(
                        f"{self.service} {method} {path}: HTTP {status} after {tries} attempt(s): "
                        f"{snippet}"
                    ),
                    status,
                )
            data = None
            if problem is None:
                try:
                    data = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    problem = f"body of {len(body)} bytes is not JSON ({exc})"
            if problem is None:
                return Page(method, path, status, body, data, None, attempt)
            if attempt < attempts:
                self.ledger.record("broken body")
                self._log.warning(
                    "%s %s %s: %s; requesting the page again (%d/%d)",
                    self.service,
                    method,
                    path,
                    problem,
                    attempt + 1,
                    attempts,
                )
                self._sleep_backoff(attempt)
        self._log.warning(
            "%s %s %s: %s after %d tries; landing the page as received",
            self.service,
            method,
            path,
            problem,
            attempts,
        )
        return Page(method, path, status, body, None, problem, attempts)

    def _sleep_backoff(self, attempt: int) -> None:
        s = self.settings
        wait = min(s.backoff_max_s, s.backoff_factor_s * (2 ** (attempt - 1)))
        wait += random.random() * s.backoff_jitter_s
        time.sleep(wait)
        self.ledger.add_wait(wait)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text


_PAST_DEADLINE = "past the request deadline"


def _read_body(
    resp: requests.Response, deadline: float, read_timeout_s: float
) -> tuple[bytes, str | None]:
    """Read the whole body by `deadline` (time.monotonic); on a broken stream return what
    arrived and why it is incomplete (`_PAST_DEADLINE` when time ran out)."""
    buf = bytearray()
    sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
    try:
        # read1 hands over whatever arrived, so a body cut short keeps every byte received
        # (stream()/read() drop the partial chunk when they raise).
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(buf), _PAST_DEADLINE
            if sock is not None:
                # Each wait for bytes ends at the deadline at the latest.
                sock.settimeout(min(read_timeout_s, remaining))
            chunk = resp.raw.read1(64 * 1024, decode_content=True)
            if not chunk:
                break
            buf += chunk
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if time.monotonic() >= deadline:
            return bytes(buf), _PAST_DEADLINE
        return bytes(buf), f"body cut short after {len(buf)} bytes ({describe_error(exc)})"
    return bytes(buf), None


def describe_error(exc: BaseException) -> str:
    """Name the root cause of a transport failure; never its text (it names the URL)."""
    seen = exc
    for _ in range(10):
        inner = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if inner is None or inner is seen or not isinstance(inner, BaseException):
            break
        seen = inner
    name = type(seen).__name__
    if isinstance(seen, (TimeoutError, urllib3.exceptions.TimeoutError, requests.Timeout)):
        return f"{name} (timed out)"
    if isinstance(seen, ConnectionRefusedError | urllib3.exceptions.NewConnectionError):
        return f"{name} (connection refused)"
    return name
