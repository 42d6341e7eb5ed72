"""Live connectors: fetch HubSpot and Zendesk over HTTP into the file-mode input folder.

``fetch_all`` runs every configured connector and reports per stream; a connector whose
variables are missing is skipped with the reason. Failures are reported, not raised, so one
vendor being down does not stop the other; the message of a failure never holds a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lead_parity.pipeline.connectors import hubspot, zendesk
from lead_parity.pipeline.connectors.call_log import write_call_log
from lead_parity.pipeline.connectors.landing import ConfigError, StreamStats
from lead_parity.pipeline.http_client import HttpClientError, HttpSettings

log = logging.getLogger(__name__)

STREAMS = ("hubspot_forms", "hubspot_contacts", "zendesk_tickets")

__all__ = [
    "STREAMS",
    "fetch_all",
    "fetch_stream",
    "live_configuration_problem",
    "skipped",
    "stream_config",
]

# What each vendor needs, as the user sets it; named in full when nothing at all is configured.
VENDOR_VARIABLES = {
    "HubSpot": ("HUBSPOT_ACCESS_TOKEN",),
    "Zendesk": ("ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL)", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
}


def skipped(stream: str, reason: str) -> StreamStats:
    return StreamStats(stream, status="skipped", reason=reason)


def stream_config(stream: str, env: Mapping[str, str]) -> tuple[Any, str]:
    """The connector configuration a stream needs, or None and why it cannot run."""
    if stream in ("hubspot_forms", "hubspot_contacts"):
        config, reason = hubspot.HubSpotConfig.from_env(env)
        if config is not None and stream == "hubspot_forms" and not config.form_guids:
            return None, "HUBSPOT_FORM_GUIDS is not set"
        return config, reason
    if stream == "zendesk_tickets":
        return zendesk.ZendeskConfig.from_env(env)
    raise ValueError(f"unknown stream {stream!r}; expected one of {STREAMS}")


def live_configuration_problem(env: Mapping[str, str]) -> str | None:
    """Why a live fetch cannot run at all (no stream configured, or a malformed value), or None.

    A live run with nothing configured would land nothing and publish an empty snapshot that
    looks like a quiet day; it must be refused instead.
    """
    try:
        HttpSettings.from_env(env)
        configs = [stream_config(stream, env)[0] for stream in STREAMS]
    except (ConfigError, HttpClientError) as exc:
        return str(exc)
    if any(c is not None for c in configs):
        return None
    wanted = "; ".join(f"{vendor}: {', '.join(vs)}" for vendor, vs in VENDOR_VARIABLES.items())
    return f"--live needs at least one configured system; set the environment variables ({wanted})"


def fetch_stream(
    stream: str,
    config: Any,
    input_dir: str | Path,
    *,
    settings: HttpSettings | None = None,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> StreamStats:
    """Run one stream with a ready configuration; HTTP failures come back as status 'failed'."""
    input_dir = Path(input_dir)
    module = zendesk if stream == "zendesk_tickets" else hubspot
    fetch = {
        "hubspot_forms": hubspot.fetch_form_submissions,
        "hubspot_contacts": hubspot.fetch_contacts,
        "zendesk_tickets": zendesk.fetch_tickets,
    }[stream]
    with module.make_client(config, settings, logger) as client:
        try:
            stats = fetch(config, input_dir, client, logger)
        except HttpClientError as exc:
            logger.error("%s failed: %s", stream, exc)
            stats = StreamStats(
                stream,
                status="failed",
                reason=str(exc),
                retries=client.ledger.retries,
                retry_wait_s=client.ledger.waited_s,
            )
        finally:
            # A failed run's calls matter most: a 429 storm is what made it fail.
            write_call_log(input_dir, stream, client.calls)
    logger.info(
        "%s: %s, %d page(s), %d record(s), %d retry(ies)",
        stream,
        stats.status,
        stats.pages,
        stats.records,
        stats.retries,
    )
    return stats


def fetch_all(
    input_dir: str | Path,
    env: Mapping[str, str],
    *,
    settings: HttpSettings | None = None,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> dict[str, dict[str, Any]]:
    """Fetch every configured stream into ``input_dir``; per-stream stats keyed by stream."""
    try:
        settings = settings or HttpSettings.from_env(env)
    except HttpClientError as exc:
        return {s: StreamStats(s, status="failed", reason=str(exc)).as_dict() for s in STREAMS}
    results: dict[str, dict[str, Any]] = {}
    for stream in STREAMS:
        try:
            config, reason = stream_config(stream, env)
        except ConfigError as exc:
            results[stream] = StreamStats(stream, status="failed", reason=str(exc)).as_dict()
            logger.error("%s: %s", stream, exc)
            continue
        if config is None:
            logger.info("%s skipped: %s", stream, reason)
            results[stream] = skipped(stream, reason).as_dict()
            continue
        results[stream] = fetch_stream(
            stream, config, input_dir, settings=settings, logger=logger
        ).as_dict()
    return results
