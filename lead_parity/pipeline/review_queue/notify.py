"""Notifications about review items, through the incident sinks' HTTP stack (retries, redaction).

A new item goes to its owner's channel: Slack `LEAD_PARITY_SLACK_WEBHOOK_URL_<OWNER>` (owner
upper-cased, e.g. `..._SALES_OPS`) when set, else `LEAD_PARITY_SLACK_WEBHOOK_URL` with the owner
named in the message; the JSON webhook (`LEAD_PARITY_WEBHOOK_URL`, signed with
`LEAD_PARITY_WEBHOOK_SECRET`) gets every event with its `recipient`. An overdue item goes once to
the escalation owner; evidence older than `alerting.page_within` goes into one digest per run.
PagerDuty is for incidents only: a review item is a person's task, not a page.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from lead_parity.pipeline.http_client import HttpSettings
from lead_parity.pipeline.incidents.sinks import (
    SINK_SETTINGS,
    SinkConfigError,
    SlackSink,
    WebhookSink,
    _slack,
    _valid_url,
    sink_settings,
)
from lead_parity.pipeline.review_queue.store import QueueStore

log = logging.getLogger(__name__)

QUEUE_SINKS = ("slack", "webhook")
EVENT_TYPES = {
    "opened": "review_item.opened",
    "escalated": "review_item.escalated",
    "digest": "review_queue.digest",
}


def queue_sink_names(env: Mapping[str, str]) -> list[str]:
    names = []
    if env.get("LEAD_PARITY_SLACK_WEBHOOK_URL", "").strip() or any(
        k.startswith("LEAD_PARITY_SLACK_WEBHOOK_URL_") and v.strip() for k, v in env.items()
    ):
        names.append("slack")
    if env.get("LEAD_PARITY_WEBHOOK_URL", "").strip():
        names.append("webhook")
    return names


def _item_line(item: dict) -> str:
    return (
        f"`{_slack(item['item_id'])}` {_slack(item['kind'])} conversion "
        f"`{_slack(item['conversion_id'])}` (owner {_slack(item['owner'])}, due {item['due_at']})"
    )


class QueueSlackSink(SlackSink):
    def render(self, event: dict) -> tuple[bytes, dict[str, str]]:
        kind = event["kind"]
        if kind == "digest":
            owners = ", ".join(f"{_slack(o)} {n}" for o, n in sorted(event["by_owner"].items()))
            lines = [
                f"*Review queue digest* for {_slack(event['recipient'])}: "
                f"{event['opened']} item(s) opened and {event['escalated']} escalated on "
                f"evidence older than the paging window ({owners})"
            ]
            lines += [_item_line(i) for i in event["items"][:10]]
        else:
            item = event["item"]
            head = (
                ":inbox_tray: *Review item for "
                if kind == "opened"
                else ":arrow_double_up: *Overdue review item escalated to "
            )
            lines = [
                f"{head}{_slack(event['recipient'])}*: {_item_line(item)}",
                f"*Evidence:* {_slack(item['evidence'])}   *Hop:* {_slack(item['hop'])}",
                f"Claim it: `lead-parity queue claim {_slack(item['item_id'])} --by <you>`",
            ]
        text = "\n".join(lines)
        body = {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
        }
        return json.dumps(body, sort_keys=True).encode(), {}


class QueueWebhookSink(WebhookSink):
    def render(self, event: dict) -> tuple[bytes, dict[str, str]]:
        # The same two signatures as incident webhooks: receivers verify both the same way.
        return self.signed({**event, "event_type": EVENT_TYPES[event["kind"]]})


def slack_url_for(recipient: str, env: Mapping[str, str]) -> tuple[str, str]:
    """(variable, url) of the recipient's Slack channel, else the default channel."""
    own = "LEAD_PARITY_SLACK_WEBHOOK_URL_" + "".join(
        c if c.isalnum() else "_" for c in recipient.upper()
    )
    if env.get(own, "").strip():
        return own, env[own].strip()
    return "LEAD_PARITY_SLACK_WEBHOOK_URL", env.get("LEAD_PARITY_SLACK_WEBHOOK_URL", "").strip()


@dataclass
class QueueDelivery:
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)  # safe to print: no secrets

    def line(self) -> str:
        text = f"review queue notifications: {self.delivered} delivered, {self.pending} waiting"
        return text + (f" ({self.errors[0]})" if self.errors else "")


def deliver(
    store: QueueStore,
    env: Mapping[str, str],
    settings: HttpSettings | None = None,
    budget_s: float | None = None,
) -> QueueDelivery:
    """Send every undelivered event once, oldest first; what fails stays for the next run.

    Only the run that holds the warehouse's writer lane calls this, so two passes never race
    for one delivery and no lease is needed.
    """
    report = QueueDelivery()
    try:
        settings = settings or sink_settings(env)
    except SinkConfigError as exc:
        report.errors.append(f"delivery settings ignored: {exc}")
        settings = SINK_SETTINGS
    started = time.monotonic()
    sinks: dict[str, QueueSlackSink | QueueWebhookSink] = {}
    down: set[str] = set()
    try:
        for row in store.pending(list(QUEUE_SINKS)):
            over = budget_s is not None and time.monotonic() - started > budget_s
            if over or row["sink"] in down:
                report.pending += 1
                continue
            try:
                if row["sink"] == "slack":
                    variable, url = slack_url_for(row["recipient"], env)
                    key = f"slack:{variable}"
                    if key not in sinks:
                        sinks[key] = QueueSlackSink(_valid_url(variable, url), settings)
                else:
                    key = "webhook"
                    if key not in sinks:
                        url = env.get("LEAD_PARITY_WEBHOOK_URL", "").strip()
                        secret = env.get("LEAD_PARITY_WEBHOOK_SECRET", "") or None
                        sinks[key] = QueueWebhookSink(
                            _valid_url("LEAD_PARITY_WEBHOOK_URL", url), secret, settings
                        )
            except SinkConfigError as exc:
                report.pending += 1
                report.errors.append(f"review queue sink not used: {exc}")
                down.add(row["sink"])
                continue
            outcome = sinks[key].send(row["payload"])
            store.mark(row["id"], ok=outcome.ok, status=outcome.status, error=outcome.error)
            if outcome.ok:
                report.delivered += 1
                continue
            report.failed += 1
            report.pending += 1
            message = (
                f"review queue sink {row['sink']}: {row['kind']} not delivered ({outcome.error})"
            )
            report.errors.append(message)
            log.warning(message)
            if outcome.transport_failed:
                down.add(row["sink"])  # the sink is down: the rest waits for the next run
    finally:
        for sink in sinks.values():
            sink.close()
    return report
