"""Send one approved batch: caps first, then HubSpot and Zendesk with the credentials the entry
point read from its environment and passes in (the live connectors' variables,
docs/live-connectors.md).

Only approved actions are ever sent; a proposed, rejected or already sent action is not touched,
so no approval means no write and a re-run of a sent batch writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lead_parity.contract import Contract
from lead_parity.pipeline.connectors import hubspot, zendesk
from lead_parity.pipeline.connectors.landing import ConfigError
from lead_parity.pipeline.http_client import HttpClient, HttpSettings
from lead_parity.pipeline.remediation.senders import HubSpotSender, SendResult, ZendeskSender
from lead_parity.pipeline.remediation.store import RemediationStore

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    batch_id: str
    sent: int = 0
    unresolved: int = 0
    deferred_by_cap: int = 0
    not_configured: dict[str, int] = field(default_factory=dict)
    writes: int = 0
    reads: int = 0

    def line(self) -> str:
        parts = [f"batch {self.batch_id}: {self.sent} sent", f"{self.unresolved} left to retry"]
        if self.deferred_by_cap:
            parts.append(f"{self.deferred_by_cap} held by remediation.max_per_day")
        for target, n in sorted(self.not_configured.items()):
            parts.append(f"{n} waiting for {target}")
        return ", ".join(parts) + f" ({self.writes} write and {self.reads} read requests)"


def _clients(
    target: str, env: Mapping[str, str], settings: HttpSettings | None
) -> tuple[HttpClient, HttpClient] | str:
    module = hubspot if target == "hubspot" else zendesk
    config_cls = module.HubSpotConfig if target == "hubspot" else module.ZendeskConfig
    try:
        config, why = config_cls.from_env(env)
    except ConfigError as exc:
        return str(exc)  # a malformed variable: one line, the actions wait
    if config is None:
        return why
    reader = module.make_client(config, settings, log)
    return reader, module.make_client(config, settings, log, writes=True)


def send_batch(
    history: Path,
    contract: Contract,
    batch_id: str | None,
    *,
    env: Mapping[str, str],
    settings: HttpSettings | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    pause_s: float = 0.5,
) -> BatchReport:
    """Send the approved actions of `batch_id` (every approved batch when None)."""
    store = RemediationStore.in_history(history)
    report = BatchReport(batch_id or "all")
    actions = store.approved(batch_id)
    room = max(contract.remediation.max_per_day - store.sent_today(now()), 0)
    if len(actions) > room:
        report.deferred_by_cap = len(actions) - room
        actions = actions[:room]
    for target, sender_cls in (("hubspot", HubSpotSender), ("zendesk", ZendeskSender)):
        mine = [a for a in actions if a["target"] == target]
        if not mine:
            continue
        clients = _clients(target, env, settings)
        if isinstance(clients, str):
            report.not_configured[f"{target} to be configured ({clients})"] = len(mine)
            continue
        reader, writer = clients
        try:
            result: SendResult = sender_cls(reader, writer, store, now=now, pause_s=pause_s).send(
                mine
            )
        finally:
            reader.close()
            writer.close()
        report.sent += len(result.sent)
        report.unresolved += len(result.unresolved)
        report.writes += result.writes
        report.reads += result.reads
    store.close()
    return report
