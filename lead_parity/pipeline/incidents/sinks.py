"""Where incident events go: PagerDuty Events API v2, a Slack incoming webhook, a JSON webhook.

Configured from the LEAD_PARITY_* variables the entry point read (the Dagster code location, the
CLI) and passed in as a mapping, each optional. Every POST carries the event id as
`Idempotency-Key` (and `X-Lead-Parity-Event-Id`), so a receiver can drop a copy that a retry
after a lost response sends again. Secrets (routing key, webhook URLs, signing secret) never
reach a log line or an error text: we log the sink's name only, and redact known secrets from
anything a server answered or urllib3 logs.

Why not `lead_parity.pipeline.http_client.HttpClient`: it sends JSON it serialises itself (we must
sign the exact bytes) and reads every answer as JSON (Slack answers `ok`). The retry policy is
the same class (`CountingRetry`, labelled with the sink's name because a Slack webhook's path *is*
its secret), and transport failures are named by the same `describe_error`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from lead_parity.pipeline.http_client import (
    RETRY_VARIABLES,
    CountingRetry,
    HttpSettings,
    describe_error,
)

log = logging.getLogger(__name__)

PAGERDUTY_DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
# Timestamped signature (Stripe's layout): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
# No X- prefix (RFC 6648). The body-only X-Lead-Parity-Signature is still sent for one release
# so receivers written for it keep working; it cannot tell a replay from a first delivery.
TIMESTAMPED_SIGNATURE_HEADER = "Lead-Parity-Signature"
SIGNATURE_HEADER = "X-Lead-Parity-Signature"
SIGNATURE_TOLERANCE_S = 300
EVENT_ID_HEADER = "X-Lead-Parity-Event-Id"
USER_AGENT = "lead-parity-incidents/0.1"
RETRY_STATUSES = frozenset({429, *range(500, 600)})


class SinkConfigError(ValueError):
    """A sink variable is set but unusable; the message names the variable, not its value."""


# The sinks' retry policy for one delivery attempt (a pass); the outbox retries across passes.
# Shorter than a connector's: an alert that waits a minute is late, the next pass retries it.
SINK_SETTINGS = HttpSettings(
    read_timeout_s=15.0, max_attempts=5, backoff_factor_s=1.0, backoff_max_s=30.0
)
SINK_PREFIX = "LEAD_PARITY_SINK_"
SINK_VARIABLES = {**RETRY_VARIABLES, "outbox_retry_s": ("OUTBOX_RETRY", float)}


def sink_settings(env: Mapping[str, str]) -> HttpSettings:
    """SINK_SETTINGS overridden by the LEAD_PARITY_SINK_* variables of `env`."""
    return SINK_SETTINGS.overridden(env, SINK_PREFIX, SINK_VARIABLES, SinkConfigError)


# ---- secret hygiene ---------------------------------------------------------------------------


class _RedactingFilter(logging.Filter):
    """Rewrites urllib3's own log records (they carry request paths) without known secrets."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secrets: set[str]) -> None:
        with self._lock:
            self._secrets |= {s for s in secrets if s}

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            cleaned = self.redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_FILTER = _RedactingFilter()
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "urllib3.poolmanager",
    "urllib3.connection",
    "urllib3.response",
    "requests",
)


def _guard_logs(secrets: set[str]) -> None:
    _FILTER.add(secrets)
    for name in _URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def url_secrets(url: str) -> set[str]:
    """The URL and the parts of it that authenticate (path tokens, query)."""
    parts = urlsplit(url)
    found = {url}
    if parts.query:
        found.add(parts.query)
    if len(parts.path) > 1:
        found.add(parts.path)
        found.update(seg for seg in parts.path.split("/") if len(seg) >= 8)
    return found


# ---- HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    status: int | None
    error: str | None  # safe to log and store
    transport_failed: bool = False  # no HTTP answer at all: the sink is down


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


def _session(sink_name: str, settings: HttpSettings) -> requests.Session:
    retry = CountingRetry(
        label=f"incident sink {sink_name}",
        total=max(settings.max_attempts - 1, 0),
        connect=None,
        read=None,
        status=None,
        other=0,
        redirect=0,
        # POST is safe to repeat here: every request carries its event id for idempotency.
        allowed_methods=frozenset({"POST"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.backoff_factor_s,
        backoff_max=settings.backoff_max_s,
        respect_retry_after_header=True,
        retry_after_max=settings.retry_after_max_s,
        raise_on_status=False,
    )
    session = requests.Session()
    # Proxies still come from HTTPS_PROXY; an explicit (no-op) auth keeps requests from
    # attaching ~/.netrc credentials to a URL that should carry none.
    session.auth = _no_auth
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# ---- sinks --------------------------------------------------------------------------------


class Sink:
    """One destination: renders an outbox event and POSTs it with retries."""

    name = "sink"

    def __init__(self, url: str, settings: HttpSettings, secrets: set[str]) -> None:
        self._url = url
        self._settings = settings
        self._secrets = {s for s in secrets if s}
        _guard_logs(self._secrets)
        self._http = _session(self.name, settings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"

    def close(self) -> None:
        self._http.close()

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
        return text

    def render(self, event: dict) -> tuple[bytes, dict[str, str]]:
        raise NotImplementedError

    def send(self, event: dict) -> SendOutcome:
        body, extra = self.render(event)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": event["event_id"],
            EVENT_ID_HEADER: event["event_id"],
            **extra,
        }
        s = self._settings
        try:
            resp = self._http.post(
                self._url,
                data=body,
                headers=headers,
                timeout=(s.connect_timeout_s, s.read_timeout_s),
            )
        except requests.RequestException as exc:
            return SendOutcome(False, None, f"no answer: {describe_error(exc)}", True)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the text may name the URL
            return SendOutcome(False, None, f"request failed: {type(exc).__name__}", True)
        with resp:
            if 200 <= resp.status_code < 300:
                return SendOutcome(True, resp.status_code, None)
            snippet = resp.content[:200].decode("utf-8", "replace")
        return SendOutcome(
            False, resp.status_code, self.redact(f"HTTP {resp.status_code}: {snippet}")
        )


def _when(event: dict) -> str:
    return event["occurred_at"]


class PagerDutySink(Sink):
    """Events API v2: `trigger` (also for an escalation, same dedup_key) and `resolve`."""

    name = "pagerduty"

    def __init__(self, routing_key: str, url: str, settings: HttpSettings) -> None:
        self._routing_key = routing_key
        super().__init__(url, settings, {routing_key})

    def render(self, event: dict) -> tuple[bytes, dict[str, str]]:
        inc = event["incident"]
        # The routing key is in the body by API design; it is added here, never stored.
        body: dict[str, Any] = {"routing_key": self._routing_key, "dedup_key": inc["dedup_key"]}
        if event["kind"] in ("resolve", "acknowledge"):
            body["event_action"] = event["kind"]
        else:
            body["event_action"] = "trigger"
            body["payload"] = {
                "summary": inc["summary"][:1024],
                "source": "lead-parity",
                "severity": "critical" if inc["severity"] == "critical" else "warning",
                "timestamp": _when(event),
                "component": inc["hop"] or inc["rule"],
                "group": inc["owner"],
                "class": inc["rule"],
                "custom_details": _details(inc, event),
            }
            body["client"] = "lead-parity"
            if inc.get("run_url"):
                body["client_url"] = inc["run_url"]
                body["links"] = [{"href": inc["run_url"], "text": "Dagster run"}]
        return json.dumps(body, sort_keys=True).encode(), {}


class SlackSink(Sink):
    """Incoming webhook: one readable message per event."""

    name = "slack"

    def __init__(self, url: str, settings: HttpSettings) -> None:
        super().__init__(url, settings, url_secrets(url))

    def render(self, event: dict) -> tuple[bytes, dict[str, str]]:
        if event["kind"] == "digest":
            text = _digest_text(event)
            body = {
                "text": text,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
            }
            return json.dumps(body, sort_keys=True).encode(), {}
        if event["kind"] in ("campaign_pause", "review"):
            text = (
                _campaign_pause_text(event)
                if event["kind"] == "campaign_pause"
                else _review_text(event)
            )
            body = {
                "text": text,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
            }
            return json.dumps(body, sort_keys=True).encode(), {}
        inc = event["incident"]
        by = _slack(event.get("by") or "")
        head = {
            "trigger": ":rotating_light: Incident opened",
            "escalate": ":arrow_double_up: Incident escalated to critical",
            "resolve": ":white_check_mark: Incident resolved" + (f" by {by}" if by else ""),
            "acknowledge": f":eyes: Incident acknowledged by {by}",
            "escalate_owner": f":loudspeaker: Not acknowledged in time; escalated to "
            f"{_slack(inc['escalation_owner'])}",
        }[event["kind"]]
        lines = [
            f"*{head}* ({_slack(inc['severity'])}, `{_slack(inc['incident_id'])}`): "
            f"{_slack(inc['summary'])}"
        ]
        if event.get("note"):
            lines.append(f"*Note:* {_slack(event['note'])}")
        if inc.get("first_breach_date"):
            lines.append(
                f"*Breached:* {inc['days_breached']} final day(s), {inc['first_breach_date']} "
                f"to {inc['last_breach_date']}"
            )
        if event["kind"] == "resolve":
            lines.append(f"Opened {inc['opened_at']}, resolved {inc['resolved_at']}.")
        elif event["kind"] != "acknowledge":
            lines.append(
                f"*Owner:* {_slack(inc['owner'])}   *Rule:* {_slack(inc['rule'])}   "
                f"*Scope:* `{_slack(inc['scope'])}`"
            )
            if inc.get("expected") is not None:
                pct = inc.get("discrepancy_pct")
                lines.append(
                    f"*Expected:* {inc['expected']}   *Dropped:* {inc['dropped']}   "
                    f"*Discrepancy:* {'?' if pct is None else f'{pct:.2f}%'}"
                )
            lines.append(f"*Advice:* {_slack(inc['advice'])}")
            if inc["sample_conversion_ids"]:
                ids = ", ".join(f"`{_slack(i)}`" for i in inc["sample_conversion_ids"])
                lines.append(f"*Sample conversions:* {ids}")
        if inc.get("run_url"):
            lines.append(f"<{inc['run_url']}|Dagster run>   _{inc['tags']}_")
        text = "\n".join(lines)
        body = {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
        }
        return json.dumps(body, sort_keys=True).encode(), {}


def _review_text(event: dict) -> str:
    review = event["review"]
    name = {"weekly": "Weekly reconciliation", "monthly": "Monthly root-cause review"}
    figures = ", ".join(f"{_slack(k.replace('_', ' '))}: {v}" for k, v in review["figures"].items())
    return (
        f"*:bar_chart: {name.get(review['kind'], review['kind'])}, {_slack(review['period'])}* "
        f"<{review['link']}|open the report>\n{figures}"
    )


def _campaign_pause_text(event: dict) -> str:
    c, inc = event["campaign"], event["incident"]
    pct = c.get("discrepancy_pct")
    lines = [
        f"*:octagonal_sign: Pause campaign `{_slack(c['origin'])}`* "
        f"(`{_slack(inc['incident_id'])}`, critical): {_slack(c['conversion_type'] or '')} "
        f"conversions dropped at {_slack(c['hop'] or '')} on {c['conversion_date']}",
        f"*Expected:* {c['expected']}   *Dropped:* {c['dropped']}   *Discrepancy:* "
        f"{'?' if pct is None else f'{pct:.2f}%'} (pause level "
        f"{c['critical_discrepancy_pct']:g}%)",
        f"*Owner:* {_slack(inc['owner'])}   *Escalation:* {_slack(inc['escalation_owner'])}",
        "The incident resolves only with a postmortem: "
        f"`lead-parity incidents resolve {_slack(inc['incident_id'])} --by NAME "
        "--postmortem URL`",
    ]
    if c["sample_conversion_ids"]:
        ids = ", ".join(f"`{_slack(i)}`" for i in c["sample_conversion_ids"])
        lines.append(f"*Sample conversions:* {ids}")
    if inc.get("run_url"):
        lines.append(f"<{inc['run_url']}|Dagster run>")
    return "\n".join(lines)


class WebhookSink(Sink):
    """Generic JSON webhook, body signed with HMAC-SHA256 (`X-Lead-Parity-Signature`)."""

    name = "webhook"

    def __init__(self, url: str, secret: str | None, settings: HttpSettings) -> None:
        self._secret = secret
        super().__init__(url, settings, url_secrets(url) | ({secret} if secret else set()))
        if not secret:
            log.warning(
                "incident sink webhook: LEAD_PARITY_WEBHOOK_SECRET is not set; "
                "deliveries are unsigned"
            )

    def render(self, event: dict) -> tuple[bytes, dict[str, str]]:
        body: dict[str, Any] = {
            "event_id": event["event_id"],
            "event_type": WEBHOOK_EVENT_TYPES[event["kind"]],
            "occurred_at": _when(event),
        }
        if event["kind"] == "digest":
            body["digest"] = event["digest"]
        elif event["kind"] == "review":
            body["review"] = event["review"]
        else:
            body["dedup_key"] = event["incident"]["dedup_key"]
            body["incident"] = event["incident"]
            for key in ("by", "note", "campaign"):
                if event.get(key):
                    body[key] = event[key]
        return self.signed(body)

    def signed(self, body: dict) -> tuple[bytes, dict[str, str]]:
        """The body as compact JSON and both signature headers (every webhook event alike)."""
        raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        headers = {}
        if self._secret:
            headers[TIMESTAMPED_SIGNATURE_HEADER] = sign_timestamped(raw, self._secret)
            headers[SIGNATURE_HEADER] = "sha256=" + sign(raw, self._secret)
        return raw, headers


WEBHOOK_EVENT_TYPES = {
    "trigger": "incident.triggered",
    "escalate": "incident.escalated",
    "resolve": "incident.resolved",
    "acknowledge": "incident.acknowledged",
    "escalate_owner": "incident.escalated_to_owner",
    "digest": "incidents.digest",
    # The playbook's "pause the campaign" request: named as the event it is, not a state change.
    "campaign_pause": "campaign_pause_requested",
    "review": "review.published",
}


def sign_timestamped(body: bytes, secret: str, at: float | None = None) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the time is signed with the body."""
    t = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_timestamped(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    now: float | None = None,
    tolerance_s: int = SIGNATURE_TOLERANCE_S,
) -> bool:
    """True when `header` signs `body` and its time is within `tolerance_s` of now (a replay
    of an old delivery, or a forged time, fails)."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts.get("v1", ""), expected)


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of the raw body; receivers compare with `hmac.compare_digest`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header[len("sha256=") :], sign(body, secret))


DETAIL_FIELDS = (
    "incident_id", "rule", "scope", "first_breach_date", "last_breach_date", "days_breached",
    "status", "conversion_type", "origin", "hop", "expected", "dropped", "discrepancy_pct",
    "observed", "threshold", "owner", "escalation_owner", "advice", "sample_conversion_ids",
    "tags", "run_url", "opened_at",
)  # fmt: skip


def _details(inc: dict, event: dict) -> dict:
    # .get: an event queued by the day-per-incident version lacks the episode fields.
    return {**{k: inc.get(k) for k in DETAIL_FIELDS}, "event_id": event["event_id"]}


def _digest_text(event: dict) -> str:
    d = event["digest"]
    days = d["page_within_s"] / 86400
    lines = [
        f"*:books: lead-parity digest*: {d['incidents']} incident(s) from breaches older than "
        f"{days:g} day(s) ({d['critical']} critical, {d['still_open']} still open). "
        "Recorded, not paged."
    ]
    for item in d["items"]:
        lines.append(
            f"- `{_slack(item['incident_id'])}` [{_slack(item['severity'])}, "
            f"{_slack(item['status'])}] {_slack(item['summary'])} "
            f"({item['days_breached']} day(s) from {item['first_breach_date']})"
        )
    if d["incidents"] > len(d["items"]):
        lines.append(f"... and {d['incidents'] - len(d['items'])} more in ops.incidents")
    if d.get("run_url"):
        lines.append(f"<{d['run_url']}|Dagster run>")
    return "\n".join(lines)


def _slack(text: object) -> str:
    # Slack mrkdwn control characters; campaign names and ids come from the data.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _valid_url(var: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SinkConfigError(f"{var} is not an http(s) URL")
    return value


def configured_sinks(
    env: Mapping[str, str],
    settings: HttpSettings | None = None,
    errors: list[str] | None = None,
) -> list[Sink]:
    """The sinks whose variables are set; none is fine (incidents still land in ops.incidents).

    A sink whose variables are unusable raises SinkConfigError, or, when `errors` is given, is
    left out with the reason appended there (its events wait in the outbox until it is fixed).
    """
    settings = settings or sink_settings(env)
    builders = []
    routing_key = env.get("LEAD_PARITY_PAGERDUTY_ROUTING_KEY", "").strip()
    if routing_key:
        url = env.get("LEAD_PARITY_PAGERDUTY_URL", "").strip() or PAGERDUTY_DEFAULT_URL
        builders.append(
            lambda: PagerDutySink(
                routing_key, _valid_url("LEAD_PARITY_PAGERDUTY_URL", url), settings
            )
        )
    slack = env.get("LEAD_PARITY_SLACK_WEBHOOK_URL", "").strip()
    if slack:
        builders.append(
            lambda: SlackSink(_valid_url("LEAD_PARITY_SLACK_WEBHOOK_URL", slack), settings)
        )
    hook = env.get("LEAD_PARITY_WEBHOOK_URL", "").strip()
    if hook:
        secret = env.get("LEAD_PARITY_WEBHOOK_SECRET", "") or None
        builders.append(
            lambda: WebhookSink(_valid_url("LEAD_PARITY_WEBHOOK_URL", hook), secret, settings)
        )
    sinks: list[Sink] = []
    for build in builders:
        try:
            sinks.append(build())
        except SinkConfigError as exc:
            if errors is None:
                raise
            errors.append(f"incident sink not used: {exc}")
            log.warning("incident sink not used: %s", exc)
    return sinks


def configured_sink_names(env: Mapping[str, str]) -> list[str]:
    """Names of the sinks configured in `env`, without building them."""
    names = []
    if env.get("LEAD_PARITY_PAGERDUTY_ROUTING_KEY", "").strip():
        names.append("pagerduty")
    if env.get("LEAD_PARITY_SLACK_WEBHOOK_URL", "").strip():
        names.append("slack")
    if env.get("LEAD_PARITY_WEBHOOK_URL", "").strip():
        names.append("webhook")
    return names
