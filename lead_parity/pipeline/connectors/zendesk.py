"""Zendesk connector: the cursor-based incremental ticket export, users and metric sets sideloaded.

The first run starts at ``ZENDESK_START_TIME``; every landed page moves the saved cursor to that
page's ``after_cursor``, so the next run (or a run after a crash) resumes exactly there. A page
that cannot be parsed has no cursor to move to: it is landed for quarantine and the stream stops
with the cursor left before it, so the next run asks for it again.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from lead_parity.pipeline.connectors.guard import StreamGuard
from lead_parity.pipeline.connectors.landing import (
    ConfigError,
    PageLander,
    StreamStats,
    load_state,
    save_state,
)
from lead_parity.pipeline.http_client import HttpClient, HttpSettings

log = logging.getLogger(__name__)

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
SIDELOADS = "users,metric_sets"
STREAM = "zendesk_tickets"
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$", re.IGNORECASE)


@dataclass(frozen=True)
class ZendeskConfig:
    base_url: str
    email: str
    api_token: str = field(repr=False)
    start_time: int = 0  # epoch seconds; 0 = the whole history

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> tuple[ZendeskConfig | None, str]:
        """The configuration from ZENDESK_* variables, or None and the reason it is missing."""
        where = env.get("ZENDESK_BASE_URL", "").strip() or env.get("ZENDESK_SUBDOMAIN", "").strip()
        if not where:
            return None, "ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL) is not set"
        missing = [v for v in ("ZENDESK_EMAIL", "ZENDESK_API_TOKEN") if not env.get(v, "").strip()]
        if missing:
            return None, f"{' and '.join(missing)} not set"
        return cls.build(
            subdomain=env.get("ZENDESK_SUBDOMAIN", ""),
            base_url=env.get("ZENDESK_BASE_URL", ""),
            email=env["ZENDESK_EMAIL"],
            api_token=env["ZENDESK_API_TOKEN"],
            start_time=env.get("ZENDESK_START_TIME", ""),
        ), ""

    @classmethod
    def build(
        cls,
        *,
        email: str,
        api_token: str,
        subdomain: str = "",
        base_url: str = "",
        start_time: str | int = "",
    ) -> ZendeskConfig:
        base = base_url.strip()
        if not base:
            sub = subdomain.strip()
            if not _SUBDOMAIN.match(sub):
                raise ConfigError(f"ZENDESK_SUBDOMAIN={sub!r} is not a Zendesk subdomain")
            base = f"https://{sub}.zendesk.com"
        return cls(
            base_url=base.rstrip("/"),
            email=email.strip(),
            api_token=api_token.strip(),
            start_time=parse_start_time(start_time),
        )


def parse_start_time(value: str | int) -> int:
    """Epoch seconds from epoch seconds or an ISO-8601 timestamp (UTC when no offset)."""
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"ZENDESK_START_TIME={text!r} is neither epoch seconds nor an ISO-8601 timestamp"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def make_client(
    config: ZendeskConfig,
    settings: HttpSettings | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    *,
    writes: bool = False,
) -> HttpClient:
    user = f"{config.email}/token"
    auth = requests.auth.HTTPBasicAuth(user, config.api_token)
    # The header carries the token base64-encoded: redact that spelling of it too.
    encoded = base64.b64encode(f"{user}:{config.api_token}".encode()).decode()
    return HttpClient(
        config.base_url,
        service="Zendesk",
        auth=auth,
        secrets=(config.api_token, encoded),
        settings=settings,
        credential_hint="ZENDESK_EMAIL / ZENDESK_API_TOKEN",
        logger=logger,
        writes=writes,
    )


def fetch_tickets(
    config: ZendeskConfig,
    input_dir: Path,
    client: HttpClient,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> StreamStats:
    """Land the export pages after the saved cursor (or from the start time) until end of stream."""
    input_dir = Path(input_dir)
    stats = StreamStats(STREAM)
    lander = PageLander(input_dir / STREAM)
    stats.landed_folder = str(lander.folder)
    before = client.ledger.mark()
    state = load_state(input_dir, STREAM)
    cursor = state.get("after_cursor")
    if cursor:
        stats.mode = "cursor"
        if state.get("start_time") not in (None, config.start_time):
            logger.info(
                "zendesk_tickets: resuming from the saved cursor; ZENDESK_START_TIME "
                "applies only without one (delete %s to start over)",
                "_state/zendesk_tickets.json",
            )
    else:
        stats.mode = "start_time"
    guard = StreamGuard("Zendesk", STREAM, client.settings)
    while True:
        params = {"cursor": cursor} if cursor else {"start_time": config.start_time}
        params["include"] = SIDELOADS
        # Any cursor handed out twice (A, A or A, B, A) stops the run before the request.
        guard.before_request(cursor)
        page = client.get_page(EXPORT_PATH, params)
        path = lander.land(page.body)
        stats.pages += 1
        stats.landed_files.append(str(path))
        data = page.data if isinstance(page.data, dict) else None
        tickets = data.get("tickets") if data is not None else None
        if not isinstance(tickets, list):
            stats.bad_pages += 1
            problem = page.problem or "no 'tickets' list in the response"
            stats.warn(
                logger,
                f"export page {lander.seq} is unusable ({problem}); landed for "
                "quarantine; stopped here, the cursor stays before this page",
            )
            break
        stats.records += len(tickets)
        after = data.get("after_cursor")
        if after:
            save_state(input_dir, STREAM, {"after_cursor": after, "start_time": config.start_time})
        if data.get("end_of_stream") is True or not after:
            break
        cursor = after
    stats.cursor = load_state(input_dir, STREAM).get("after_cursor")
    return stats.finish(client.ledger, before)
