"""HubSpot connector: form submissions (Form Integrations v1) and contacts (CRM v3).

Every response page is landed as received into the input layout of SPEC section 2; the parsing
and de-duplication belong to the file-mode ingestion. What this module decides is where to
start and where to stop so that nothing is missed:

- form submissions come newest first; a form is read down to the newest submission seen by the
  last complete run, and that mark only moves once a run reached it (a crash re-reads the top);
- contacts are listed in full on the first run (resumable from the saved ``after``), then read
  incrementally through the search endpoint by ``lastmodifieddate``, falling back to the full
  list when search is unavailable or its 10,000-result window cannot be moved forward.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lead_parity.pipeline.connectors.guard import StreamGuard, StreamStopped
from lead_parity.pipeline.connectors.landing import (
    ConfigError,
    PageLander,
    StreamStats,
    load_state,
    save_state,
)
from lead_parity.pipeline.http_client import (
    BearerAuth,
    HttpClient,
    HttpSettings,
    HttpStatusError,
    Page,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.hubapi.com"
# SPEC section 2: the API returns only default properties unless every one is named.
CONTACT_PROPERTIES = (
    "email",
    "hs_additional_emails",
    "firstname",
    "lastname",
    "company",
    "lead_id",
    "createdate",
    "hubspot_owner_id",
    "hubspot_owner_assigneddate",
    "lastmodifieddate",
)
FORMS_PAGE_LIMIT = 50  # the endpoint's maximum
LIST_PAGE_LIMIT = 100  # the list endpoint's maximum
SEARCH_PAGE_LIMIT = 100
SEARCH_WINDOW = 10_000  # the search endpoint refuses to page past this many results
FORMS_PATH = "/form-integrations/v1/submissions/forms/{guid}"
CONTACTS_PATH = "/crm/v3/objects/contacts"
SEARCH_PATH = "/crm/v3/objects/contacts/search"
CONTACTS_STREAM = "hubspot_contacts"
_GUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class HubSpotConfig:
    access_token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    form_guids: tuple[str, ...] = ()
    # Search results trail writes by a little; re-reading this much before the mark costs a few
    # duplicate rows (de-duplicated downstream) and never misses a late-indexed contact.
    search_lookback_s: int = 300
    search_window: int = SEARCH_WINDOW

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> tuple[HubSpotConfig | None, str]:
        """The configuration from HUBSPOT_* variables, or None and the reason it is missing."""
        token = env.get("HUBSPOT_ACCESS_TOKEN", "").strip()
        if not token:
            return None, "HUBSPOT_ACCESS_TOKEN is not set"
        return cls.build(
            access_token=token,
            base_url=env.get("HUBSPOT_BASE_URL", ""),
            form_guids=env.get("HUBSPOT_FORM_GUIDS", ""),
            search_lookback_s=env.get("HUBSPOT_SEARCH_LOOKBACK_SECONDS", ""),
        ), ""

    @classmethod
    def build(
        cls,
        *,
        access_token: str,
        base_url: str = "",
        form_guids: str = "",
        search_lookback_s: str | int = "",
    ) -> HubSpotConfig:
        guids = tuple(g.strip() for g in form_guids.split(",") if g.strip())
        bad = [g for g in guids if not _GUID.match(g)]
        if bad:
            raise ConfigError(f"HUBSPOT_FORM_GUIDS holds values that are not form guids: {bad}")
        lookback = str(search_lookback_s).strip()
        if lookback and not lookback.isdigit():
            raise ConfigError(f"HUBSPOT_SEARCH_LOOKBACK_SECONDS={lookback!r} is not a number")
        return cls(
            access_token=access_token,
            base_url=(base_url.strip() or DEFAULT_BASE_URL).rstrip("/"),
            form_guids=guids,
            search_lookback_s=int(lookback) if lookback else 300,
        )


def make_client(
    config: HubSpotConfig,
    settings: HttpSettings | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    *,
    writes: bool = False,
) -> HttpClient:
    return HttpClient(
        config.base_url,
        service="HubSpot",
        auth=BearerAuth(config.access_token),
        secrets=(config.access_token,),
        settings=settings,
        credential_hint="HUBSPOT_ACCESS_TOKEN",
        logger=logger,
        writes=writes,
    )


# --------------------------------------------------------------------------- form submissions


def forms_state_stream(guid: str) -> str:
    return f"hubspot_forms__{guid}"


def fetch_form_submissions(
    config: HubSpotConfig,
    input_dir: Path,
    client: HttpClient,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> StreamStats:
    """Land every configured form's new submission pages under ``hubspot_forms/<guid>/``."""
    stats = StreamStats("hubspot_forms", mode="newest_first")
    stats.landed_folder = str(Path(input_dir) / "hubspot_forms")
    marks: dict[str, Any] = {}
    before = client.ledger.mark()
    failed: list[str] = []
    # One budget for the whole source; cursors are told apart per form.
    guard = StreamGuard("HubSpot", "hubspot_forms", client.settings)
    for guid in config.form_guids:
        try:
            marks[guid] = _fetch_one_form(guid, Path(input_dir), client, stats, logger, guard)
        except (HttpStatusError, StreamStopped) as exc:
            # One wrong guid (404) or looping form must not keep the other forms from being
            # read; its mark stays where the last complete run left it.
            failed.append(str(exc))
            marks[guid] = load_state(Path(input_dir), forms_state_stream(guid)).get(
                "submitted_at_max_ms"
            )
    stats.cursor = marks
    if failed:
        stats.status, stats.reason = "failed", "; ".join(failed)
    return stats.finish(client.ledger, before)


def _fetch_one_form(
    guid: str,
    input_dir: Path,
    client: HttpClient,
    stats: StreamStats,
    logger: logging.Logger | logging.LoggerAdapter,
    guard: StreamGuard,
) -> int | None:
    stream = forms_state_stream(guid)
    state = load_state(input_dir, stream)
    mark = state.get("submitted_at_max_ms")
    lander = PageLander(input_dir / "hubspot_forms" / guid)
    newest = mark
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": FORMS_PAGE_LIMIT}
        if after:
            params["after"] = after
        guard.before_request((guid, after))
        page = client.get_page(FORMS_PATH.format(guid=quote(guid, safe="")), params)
        results = _land(page, lander, stats, "results")
        if results is None:
            stats.warn(
                logger,
                f"form {guid}: page {lander.seq} is unusable ({page.problem}); "
                "landed for quarantine, stopped reading this form, mark kept",
            )
            return mark
        stamps = [
            r["submittedAt"]
            for r in results
            if isinstance(r, dict) and isinstance(r.get("submittedAt"), int)
        ]
        if stamps:
            newest = max(newest, max(stamps)) if newest is not None else max(stamps)
        after = _next_after(page.data)
        # Newest first: once a page reaches below the old mark, the rest was read before.
        reached_old = mark is not None and bool(stamps) and min(stamps) < mark
        if not after or reached_old:
            break
    if newest is not None:
        save_state(input_dir, stream, {"submitted_at_max_ms": newest, "form_guid": guid})
    return newest


# --------------------------------------------------------------------------------- contacts


def fetch_contacts(
    config: HubSpotConfig,
    input_dir: Path,
    client: HttpClient,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> StreamStats:
    """Land contact pages under ``hubspot_contacts/``: a full list first, then search deltas."""
    input_dir = Path(input_dir)
    stats = StreamStats(CONTACTS_STREAM)
    lander = PageLander(input_dir / CONTACTS_STREAM)
    stats.landed_folder = str(lander.folder)
    before = client.ledger.mark()
    state = load_state(input_dir, CONTACTS_STREAM)
    guard = StreamGuard("HubSpot", CONTACTS_STREAM, client.settings)
    need_list = state.get("hwm_ms") is None or bool(state.get("list_after"))
    if not need_list:
        stats.mode = "search"
        try:
            need_list = _search_contacts(
                config, input_dir, client, lander, stats, state, logger, guard
            )
        except HttpStatusError as exc:
            if exc.status == 429:
                raise  # rate limited for good: listing everything would only make it worse
            stats.warn(logger, f"search unavailable ({exc}); falling back to the full list")
            need_list = True
    if need_list and stats.bad_pages == 0:
        stats.mode = "full_list" if stats.mode is None else f"{stats.mode}+full_list"
        _list_contacts(config, input_dir, client, lander, stats, logger, guard)
    stats.cursor = load_state(input_dir, CONTACTS_STREAM).get("hwm")
    return stats.finish(client.ledger, before)


def search_body(since_ms: int, after: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(since_ms)},
                ]
            }
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": list(CONTACT_PROPERTIES),
        "limit": SEARCH_PAGE_LIMIT,
    }
    if after:
        body["after"] = after
    return body


def _search_contacts(
    config: HubSpotConfig,
    input_dir: Path,
    client: HttpClient,
    lander: PageLander,
    stats: StreamStats,
    state: dict[str, Any],
    logger: logging.Logger | logging.LoggerAdapter,
    guard: StreamGuard,
) -> bool:
    """Read contacts modified since the saved mark. True when a full list is needed instead.

    Search's ``after`` is an offset into a result set that moves while we page (an edited contact
    jumps to the end and shifts the rest one place back, so offset paging would skip one). So each
    next page is a new query from the newest ``lastmodifieddate`` reached (keyset paging); the
    offset is used only inside a run of contacts sharing one timestamp.
    """
    since = int(state["hwm_ms"])
    after: str | None = None
    while True:
        # A search page is named by the query and the offset into it.
        guard.before_request(("search", since, after))
        page = client.post_page(SEARCH_PATH, search_body(since, after))
        results = _land(page, lander, stats, "results")
        if results is None:
            stats.warn(
                logger,
                f"search page {lander.seq} is unusable ({page.problem}); landed "
                "for quarantine, stopped, high-water mark not moved past it",
            )
            return False
        stamps = [m for r in results if (m := _contact_modified_ms(r)) is not None]
        page_max = max(stamps, default=since)
        # Results are ascending, so everything up to this page's newest is landed.
        _save_contacts_hwm(
            input_dir, max(int(state["hwm_ms"]), page_max - config.search_lookback_s * 1000)
        )
        nxt = _next_after(page.data)
        if not nxt:
            return False
        if page_max > since:
            since, after = page_max, None
            continue
        after = nxt
        if _int_or_none(after) is None or int(after) + SEARCH_PAGE_LIMIT > config.search_window:
            stats.warn(
                logger,
                f"more contacts than search can page through ({config.search_window}) share "
                "one lastmodifieddate; reading the full list instead",
            )
            return True


def _list_contacts(
    config: HubSpotConfig,
    input_dir: Path,
    client: HttpClient,
    lander: PageLander,
    stats: StreamStats,
    logger: logging.Logger | logging.LoggerAdapter,
    guard: StreamGuard,
) -> None:
    state = load_state(input_dir, CONTACTS_STREAM)
    after = state.get("list_after")
    started_ms = state.get("list_started_ms") if after else None
    started_ms = started_ms or _now_ms()
    seen_max = state.get("list_seen_max_ms") if after else None
    if after:
        logger.info("hubspot_contacts: resuming an interrupted full list at after=%s", after)
    while True:
        params: dict[str, Any] = {
            "limit": LIST_PAGE_LIMIT,
            "properties": ",".join(CONTACT_PROPERTIES),
        }
        if after:
            params["after"] = after
        guard.before_request(("list", after))
        page = client.get_page(CONTACTS_PATH, params)
        results = _land(page, lander, stats, "results")
        if results is None:
            stats.warn(
                logger,
                f"list page {lander.seq} is unusable ({page.problem}); landed "
                "for quarantine, stopped, cursor not moved past it",
            )
            return
        stamps = [m for r in results if (m := _contact_modified_ms(r)) is not None]
        if stamps:
            seen_max = max(seen_max or 0, max(stamps))
        after = _next_after(page.data)
        if after:
            save_state(
                input_dir,
                CONTACTS_STREAM,
                {
                    **_keep_hwm(state),
                    "list_after": after,
                    "list_started_ms": started_ms,
                    "list_seen_max_ms": seen_max,
                },
            )
            continue
        # The list ran in id order, so a contact changed while it ran may sit behind the page
        # that showed it: the next search starts before the list did (minus the lookback).
        hwm = started_ms - config.search_lookback_s * 1000
        if seen_max is not None:
            hwm = min(hwm, seen_max)
        if state.get("hwm_ms") is not None:
            hwm = max(hwm, int(state["hwm_ms"]))
        _save_contacts_hwm(input_dir, hwm)
        return


def _keep_hwm(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state[k] for k in ("hwm_ms", "hwm") if k in state}


def _save_contacts_hwm(input_dir: Path, hwm_ms: int) -> None:
    save_state(input_dir, CONTACTS_STREAM, {"hwm_ms": hwm_ms, "hwm": _iso(hwm_ms)})


def _contact_modified_ms(record: Any) -> int | None:
    if not isinstance(record, dict):
        return None
    props = record.get("properties")
    value = props.get("lastmodifieddate") if isinstance(props, dict) else None
    return _to_ms(value) if value is not None else _to_ms(record.get("updatedAt"))


# ---------------------------------------------------------------------------------- helpers


def _land(page: Page, lander: PageLander, stats: StreamStats, key: str) -> list[Any] | None:
    """Land ``page``; return its records, or None when the page cannot be paged past."""
    path = lander.land(page.body)
    stats.pages += 1
    stats.landed_files.append(str(path))
    records = page.data.get(key) if isinstance(page.data, dict) else None
    if not isinstance(records, list):
        stats.bad_pages += 1
        if page.problem is None:
            page.problem = f"no '{key}' list in the response"
        return None
    stats.records += len(records)
    return records


def _next_after(data: Any) -> str | None:
    paging = data.get("paging") if isinstance(data, dict) else None
    nxt = paging.get("next") if isinstance(paging, dict) else None
    after = nxt.get("after") if isinstance(nxt, dict) else None
    return str(after) if after not in (None, "") else None


def _to_ms(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
