"""Live sources (SPEC section 7): HubSpot and Zendesk fetched over HTTP into the input folder.

Each asset lands the API pages of one stream in the layout of SPEC section 2, where the file
ingestion assets pick them up. Credentials reach the resources as ``dg.EnvVar`` so the run config
shows variable names, never values. A stream whose variables are not set is recorded as
skipped (that system is not in the stack), not failed.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from lead_parity.pipeline.connectors import fetch_stream
from lead_parity.pipeline.connectors.hubspot import DEFAULT_BASE_URL, HubSpotConfig
from lead_parity.pipeline.connectors.landing import ConfigError, StreamStats
from lead_parity.pipeline.connectors.zendesk import ZendeskConfig
from lead_parity.pipeline.http_client import HttpSettings
from orchestration.defs.resources import DEPLOYMENT_ENV, LeadParityConfig

GROUP = "live_sources"


class LiveInputResource(dg.ConfigurableResource):
    """The HTTP retry/timeout policy of every connector (pages land in the run's input folder)."""

    connect_timeout_s: float = HttpSettings.connect_timeout_s
    read_timeout_s: float = HttpSettings.read_timeout_s
    max_attempts: int = HttpSettings.max_attempts
    backoff_factor_s: float = HttpSettings.backoff_factor_s
    retry_after_max_s: int = HttpSettings.retry_after_max_s
    request_deadline_s: float = HttpSettings.request_deadline_s
    max_pages: int = HttpSettings.max_pages
    max_seconds: float = HttpSettings.max_seconds

    # The fields above are the launchpad's subset of HttpSettings, under the same names.
    @classmethod
    def from_settings(cls, http: HttpSettings) -> "LiveInputResource":
        return cls(**{name: getattr(http, name) for name in cls.model_fields})

    def settings(self) -> HttpSettings:
        return HttpSettings(**{name: getattr(self, name) for name in type(self).model_fields})


class HubSpotApiResource(dg.ConfigurableResource):
    """A HubSpot private app: token, API base URL and the form guids to read."""

    access_token: str = ""
    base_url: str = DEFAULT_BASE_URL
    form_guids: str = ""  # comma-separated
    search_lookback_s: str = ""

    def connector_config(self, stream: str) -> tuple[HubSpotConfig | None, str]:
        if not self.access_token:
            return None, "HUBSPOT_ACCESS_TOKEN is not set"
        config = HubSpotConfig.build(
            access_token=self.access_token,
            base_url=self.base_url,
            form_guids=self.form_guids,
            search_lookback_s=self.search_lookback_s,
        )
        if stream == "hubspot_forms" and not config.form_guids:
            return None, "HUBSPOT_FORM_GUIDS is not set"
        return config, ""


class ZendeskApiResource(dg.ConfigurableResource):
    """A Zendesk API token: subdomain (or base URL), agent email, token, export start time."""

    subdomain: str = ""
    base_url: str = ""
    email: str = ""
    api_token: str = ""
    start_time: str = ""  # epoch seconds or ISO-8601; used only before a cursor is saved

    def connector_config(self, stream: str) -> tuple[ZendeskConfig | None, str]:
        if not (self.subdomain or self.base_url):
            return None, "ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL) is not set"
        if not (self.email and self.api_token):
            return None, "ZENDESK_EMAIL or ZENDESK_API_TOKEN is not set"
        return ZendeskConfig.build(
            subdomain=self.subdomain,
            base_url=self.base_url,
            email=self.email,
            api_token=self.api_token,
            start_time=self.start_time,
        ), ""


def _env(env: Mapping[str, str], name: str, default: str = "") -> Any:
    # An optional variable that is unset keeps the default instead of failing the run; a set
    # one stays an EnvVar, resolved at run time and never written into the run config.
    return dg.EnvVar(name) if env.get(name, "").strip() else default


def build_live_resources(env: Mapping[str, str] = DEPLOYMENT_ENV) -> dict[str, Any]:
    """The resources of the live assets, keyed by the names the assets ask for."""
    # Timeouts and retry limits are not secret: plain values read once, like defaults.
    http = HttpSettings.from_env(env)
    return {
        "live_input": LiveInputResource.from_settings(http),
        "hubspot_api": HubSpotApiResource(
            access_token=_env(env, "HUBSPOT_ACCESS_TOKEN"),
            base_url=_env(env, "HUBSPOT_BASE_URL", DEFAULT_BASE_URL),
            form_guids=_env(env, "HUBSPOT_FORM_GUIDS"),
            search_lookback_s=_env(env, "HUBSPOT_SEARCH_LOOKBACK_SECONDS"),
        ),
        "zendesk_api": ZendeskApiResource(
            subdomain=_env(env, "ZENDESK_SUBDOMAIN"),
            base_url=_env(env, "ZENDESK_BASE_URL"),
            email=_env(env, "ZENDESK_EMAIL"),
            api_token=_env(env, "ZENDESK_API_TOKEN"),
            start_time=_env(env, "ZENDESK_START_TIME"),
        ),
    }


def _fetched(
    context: dg.AssetExecutionContext,
    stream: str,
    api: Any,
    live_input: LiveInputResource,
    lead_parity: LeadParityConfig,
) -> dg.MaterializeResult:
    kind = lead_parity.contract().source_input(stream).kind
    if kind != "files":
        # The landed asset reads this source from the loader's tables: pages would go unread.
        reason = f"read from {kind} tables (the contract's sources.{stream})"
        context.log.info(f"{stream}: {reason}; nothing fetched")
        return dg.MaterializeResult(
            metadata=_metadata(StreamStats(stream, status="skipped", reason=reason))
        )
    try:
        config, reason = api.connector_config(stream)
    except ConfigError as exc:
        raise dg.Failure(description=f"{stream}: {exc}") from None
    if config is None:
        context.log.info(f"{stream}: not configured ({reason}); nothing fetched")
        return dg.MaterializeResult(
            metadata=_metadata(StreamStats(stream, status="skipped", reason=reason))
        )
    stats = fetch_stream(
        stream, config, lead_parity.input_dir, settings=live_input.settings(), logger=context.log
    )
    if stats.status == "failed":
        raise dg.Failure(description=f"{stream}: {stats.reason}", metadata=_metadata(stats))
    if stats.status == "partial":
        context.log.warning(
            f"{stream}: {stats.bad_pages} unusable page(s) landed for "
            "quarantine; the stream stopped before them and resumes next run"
        )
    return dg.MaterializeResult(metadata=_metadata(stats))


def _metadata(stats: StreamStats) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "status": stats.status,
        "pages_fetched": stats.pages,
        "records": stats.records,
        "retries": stats.retries,
        "retry_wait_s": round(stats.retry_wait_s, 3),
        "bad_pages": stats.bad_pages,
        "mode": stats.mode or "",
        "cursor": dg.MetadataValue.json(stats.cursor)
        if isinstance(stats.cursor, dict)
        else str(stats.cursor or ""),
    }
    if stats.landed_folder:
        meta["landed_folder"] = dg.MetadataValue.path(stats.landed_folder)
    if stats.reason:
        meta["reason"] = stats.reason
    if stats.warnings:
        meta["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in stats.warnings))
    return meta


def _fetched_asset(
    name: str, stream: str, vendor: str, api_key: str, description: str
) -> dg.AssetsDefinition:
    """The asset of one stream; every stream fetches alike, with its vendor's API resource."""

    # Resources by key, not by typed parameter: the API resource's key differs per vendor, and
    # Dagster takes resource requirements from one place only.
    @dg.asset(
        name=name,
        group_name=GROUP,
        kinds={"python", vendor},
        description=description,
        required_resource_keys={api_key, "live_input", "lead_parity"},
    )
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resources = context.resources
        return _fetched(
            context,
            stream,
            getattr(resources, api_key),
            resources.live_input,
            resources.lead_parity,
        )

    return _asset


hubspot_form_submissions_fetched = _fetched_asset(
    "hubspot_form_submissions_fetched",
    "hubspot_forms",
    "hubspot",
    "hubspot_api",
    "HubSpot form submission pages (Form Integrations v1) landed as received "
    "under `hubspot_forms/<form_guid>/`, newest first down to the last run's.",
)
hubspot_contacts_fetched = _fetched_asset(
    "hubspot_contacts_fetched",
    "hubspot_contacts",
    "hubspot",
    "hubspot_api",
    "HubSpot CRM v3 contact pages landed as received under "
    "`hubspot_contacts/`: a full list first, then `lastmodifieddate` search.",
)
zendesk_tickets_fetched = _fetched_asset(
    "zendesk_tickets_fetched",
    "zendesk_tickets",
    "zendesk",
    "zendesk_api",
    "Zendesk incremental ticket export pages (users and metric sets "
    "sideloaded) landed as received under `zendesk_tickets/`, cursor-resumed.",
)

live_assets = [hubspot_form_submissions_fetched, hubspot_contacts_fetched, zendesk_tickets_fetched]
live_resources = build_live_resources()
