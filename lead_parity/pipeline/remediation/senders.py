"""Put approved actions into HubSpot and Zendesk, each exactly once.

The safety rules (docs/remediation.md):
- every request goes through `HttpClient` (lead_parity/pipeline/http_client.py): `Retry-After`
  honoured, credentials never in a message. Writes use its `writes=True` mode: only a refused
  connection or a 429 (the request was not processed) is retried there;
- a write whose outcome is unknown (read timeout, dropped connection, 5xx, a broken answer) is
  resolved by a read before any retry: HubSpot `batch/read` by email, Zendesk's ticket list by
  `external_id` (`lp:<conversion_id>`, which the support-hop rule ignores). An action that may
  have been applied by an earlier run (`tries > 0`) is read first as well, so re-running a batch
  writes nothing;
- HubSpot `batch/upsert` (at most 100 inputs, `idProperty=email`) is idempotent: the unique-email
  index (additional emails included) resolves the contact. A 207's failed inputs go again in the
  next round. Zendesk's ticket POST carries an `Idempotency-Key`, but Zendesk forgets keys after
  a while, so the lookup by `external_id` comes first on every try;
- attempts record the endpoint, the key, the status and the outcome: never a body or a header.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lead_parity.pipeline.http_client import (
    HttpClient,
    HttpClientError,
    HttpStatusError,
    Page,
)
from lead_parity.pipeline.remediation.store import RemediationStore

log = logging.getLogger(__name__)

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
READ_PATH = "/crm/v3/objects/contacts/batch/read"
BATCH_LIMIT = 100  # HubSpot's batch endpoints take at most 100 inputs
TICKETS_PATH = "/api/v2/tickets.json"
USERS_PATH = "/api/v2/users/create_or_update.json"
USER_SEARCH_PATH = "/api/v2/users/search.json"
REMEDIATION_PROPERTY = "lp_remediation"  # `;`-joined action ids that touched the contact
ROUTING_PROPERTY = "lp_needs_routing"
ROUTING_TAG = "lp_needs_routing"
TICKET_TAGS = ["lead_parity", "lp_requeued"]
EXTERNAL_PREFIX = "lp:"


def external_id_for(conversion_id: str) -> str:
    return EXTERNAL_PREFIX + conversion_id


@dataclass
class SendResult:
    sent: dict[str, str] = field(default_factory=dict)  # action id -> vendor object id
    unresolved: list[str] = field(default_factory=list)
    writes: int = 0
    reads: int = 0


def _outcome(exc: HttpClientError) -> tuple[int | None, str]:
    """(status, outcome) of a failed write: `not_applied` only when the vendor said so."""
    if isinstance(exc, HttpStatusError):
        if exc.status == 429:
            return exc.status, "rate_limited"
        if 400 <= exc.status < 500:
            return exc.status, "rejected"
        return exc.status, "unknown"
    return None, "unknown"


class _Recorder:
    def __init__(self, store: RemediationStore, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now

    def __call__(self, ids, method, endpoint, status, outcome, key=None, detail=None) -> None:
        self.store.record_attempt(
            list(ids),
            method=method,
            endpoint=endpoint,
            idempotency_key=key,
            status_code=status,
            outcome=outcome,
            detail=detail,
            at=self.now(),
        )


class HubSpotSender:
    """Contact upserts by email, in batches of at most 100 inputs."""

    def __init__(
        self,
        reader: HttpClient,
        writer: HttpClient,
        store: RemediationStore,
        *,
        max_rounds: int = 6,
        pause_s: float = 0.5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.reader, self.writer, self.store = reader, writer, store
        self.max_rounds, self.pause_s = max_rounds, pause_s
        self.record = _Recorder(store, now)
        self.now = now

    def send(self, actions: list[dict]) -> SendResult:
        result = SendResult()
        groups: dict[str, list[dict]] = {}
        for action in actions:
            groups.setdefault(action["target_key"], []).append(action)
        maybe_applied = {e for e, acts in groups.items() if any(a["tries"] for a in acts)}
        pending = dict(groups)
        for round_no in range(self.max_rounds):
            if not pending:
                break
            if round_no:
                time.sleep(self.pause_s * round_no)
            look = [e for e in pending if e in maybe_applied]
            unsure: set[str] = set()
            for chunk in _chunks(look, BATCH_LIMIT):
                found = self._read(chunk, pending, result)
                if found is None:
                    unsure.update(chunk)  # no answer: never write blind, look again next round
                    continue
                for email, contact_id in found.items():
                    self._done(pending.pop(email), contact_id, result)
            for chunk in _chunks([e for e in pending if e not in unsure], BATCH_LIMIT):
                self._upsert(chunk, pending, maybe_applied, result)
        result.unresolved = [a["action_id"] for acts in pending.values() for a in acts]
        return result

    def _done(self, acts: list[dict], contact_id: str, result: SendResult) -> None:
        sent = {a["action_id"]: str(contact_id) for a in acts}
        self.store.mark_sent(sent, self.now())
        result.sent.update(sent)

    def _read(
        self, emails: list[str], pending: Mapping, result: SendResult
    ) -> dict[str, str] | None:
        """email -> contact id for contacts that already carry every action id of the email;
        None when the read got no answer."""
        body = {
            "idProperty": "email",
            "properties": ["email", "hs_additional_emails", REMEDIATION_PROPERTY],
            "inputs": [{"id": e} for e in emails],
        }
        ids = [a["action_id"] for e in emails for a in pending[e]]
        result.reads += 1
        try:
            page = self.reader.post_page(READ_PATH, body)
        except HttpClientError as exc:
            status, _ = _outcome(exc)
            self.record(ids, "POST", READ_PATH, status, "read_failed", detail=str(exc))
            return None
        if page.data is None:
            return None
        found: dict[str, str] = {}
        for contact in (page.data or {}).get("results", []) if page.data else []:
            props = contact.get("properties") or {}
            marks = set((props.get(REMEDIATION_PROPERTY) or "").split(";"))
            # An input may be one of the contact's additional emails, not its primary one.
            known = {(props.get("email") or "").lower()} | {
                e.strip().lower() for e in (props.get("hs_additional_emails") or "").split(";")
            }
            for email in emails:
                if email in known and all(a["action_id"] in marks for a in pending[email]):
                    found[email] = str(contact["id"])
        self.record(ids, "POST", READ_PATH, page.status, "read", detail=f"{len(found)} found")
        return found

    def _upsert(
        self, emails: list[str], pending: dict, maybe_applied: set[str], result: SendResult
    ) -> None:
        inputs = []
        for email in emails:
            acts = pending[email]
            props = {
                "email": email,
                REMEDIATION_PROPERTY: ";".join(sorted(a["action_id"] for a in acts)),
            }
            if any(a["action"] == "hubspot_flag" for a in acts):
                props[ROUTING_PROPERTY] = "true"
            inputs.append({"idProperty": "email", "id": email, "properties": props})
        ids = [a["action_id"] for e in emails for a in pending[e]]
        self.store.mark_trying(ids)
        maybe_applied.update(emails)
        result.writes += 1
        try:
            page = self.writer.post_page(UPSERT_PATH, {"inputs": inputs})
        except HttpClientError as exc:
            status, outcome = _outcome(exc)
            self.record(ids, "POST", UPSERT_PATH, status, outcome, detail=str(exc))
            return
        if page.data is None:
            self.record(ids, "POST", UPSERT_PATH, page.status, "unknown", detail=page.problem)
            return
        marked: dict[str, str] = {}  # action id -> the contact that carries it
        for contact in page.data.get("results", []):
            props = contact.get("properties") or {}
            for mark in (props.get(REMEDIATION_PROPERTY) or "").split(";"):
                marked.setdefault(mark, str(contact.get("id")))
        by_email = {
            e: marked[pending[e][0]["action_id"]]
            for e in emails
            if all(a["action_id"] in marked for a in pending[e])
        }
        # One attempt row set and one sent mark per request, not per contact.
        done = [(by_email[e], pending.pop(e)) for e in emails if e in by_email]
        ok_ids = [a["action_id"] for _, acts in done for a in acts]
        if ok_ids:
            self.record(ok_ids, "POST", UPSERT_PATH, page.status, "ok")
            sent = {a["action_id"]: cid for cid, acts in done for a in acts}
            self.store.mark_sent(sent, self.now())
            result.sent.update(sent)
        failed = [a["action_id"] for e in emails if e in pending for a in pending[e]]
        if failed:
            errors = page.data.get("errors") or []
            self.record(
                failed, "POST", UPSERT_PATH, page.status, "partial_failure",
                detail="; ".join(str(e.get("message", ""))[:80] for e in errors[:3]),
            )  # fmt: skip


class ZendeskSender:
    """A requester by `users/create_or_update`, then one ticket per action with a private
    comment, tags, `external_id = lp:<conversion_id>` and an `Idempotency-Key`."""

    def __init__(
        self,
        reader: HttpClient,
        writer: HttpClient,
        store: RemediationStore,
        *,
        max_rounds: int = 6,
        pause_s: float = 0.5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.reader, self.writer, self.store = reader, writer, store
        self.max_rounds, self.pause_s = max_rounds, pause_s
        self.record = _Recorder(store, now)
        self.now = now

    def send(self, actions: list[dict]) -> SendResult:
        result = SendResult()
        for action in actions:
            object_id = None
            for round_no in range(self.max_rounds):
                if round_no:
                    time.sleep(self.pause_s * round_no)
                object_id = self._one(action, result)
                if object_id:
                    break
            if object_id:
                sent = {action["action_id"]: object_id}
                self.store.mark_sent(sent, self.now())
                result.sent.update(sent)
            else:
                result.unresolved.append(action["action_id"])
        return result

    def _one(self, action: dict, result: SendResult) -> str | None:
        """One try: look, then write; the vendor's object id, or None to try again."""
        if action["action"] == "zendesk_flag":
            user = self._user(action, result, tags=[ROUTING_TAG])
            return f"user:{user}" if user else None
        ticket = self._find_ticket(action, result)
        if ticket is False:
            return None  # the read failed: never write blind
        if ticket:
            return f"ticket:{ticket}"
        user = self._user(action, result, tags=[])
        if not user:
            return None
        key = f"lp-{action['action_id']}"
        body = {
            "ticket": {
                "subject": f"Re-queued {action['conversion_type'] or 'conversion'} (lead-parity)",
                "comment": {
                    "body": f"lead-parity re-queued conversion {action['conversion_id']}, "
                    f"dropped at {action['hop']} ({action['root_cause']}).",
                    "public": False,
                },
                "requester_id": int(user),
                "external_id": external_id_for(action["conversion_id"]),
                "tags": TICKET_TAGS,
            }
        }
        self.store.mark_trying([action["action_id"]])
        action["tries"] += 1
        result.writes += 1
        try:
            page = self.writer.post_page(TICKETS_PATH, body, headers={"Idempotency-Key": key})
        except HttpClientError as exc:
            status, outcome = _outcome(exc)
            self.record([action["action_id"]], "POST", TICKETS_PATH, status, outcome, key,
                        str(exc))  # fmt: skip
            return None
        ticket_id = ((page.data or {}).get("ticket") or {}).get("id")
        outcome = "ok" if ticket_id else "unknown"
        self.record([action["action_id"]], "POST", TICKETS_PATH, page.status, outcome, key,
                    page.problem)  # fmt: skip
        return f"ticket:{ticket_id}" if ticket_id else None

    def _find_ticket(self, action: dict, result: SendResult) -> int | None | bool:
        """The ticket an earlier try created, None when there is none, False when unsure."""
        result.reads += 1
        external = external_id_for(action["conversion_id"])
        try:
            page = self.reader.get_page(TICKETS_PATH, {"external_id": external})
        except HttpClientError as exc:
            status, _ = _outcome(exc)
            self.record([action["action_id"]], "GET", TICKETS_PATH, status, "read_failed",
                        detail=str(exc))  # fmt: skip
            return False
        if page.data is None:
            return False
        tickets = [t for t in page.data.get("tickets", []) if t.get("external_id") == external]
        return min(t["id"] for t in tickets) if tickets else None

    def _user(self, action: dict, result: SendResult, *, tags: list[str]) -> str | None:
        """The requester's user id: create_or_update is idempotent by email, and an unknown
        outcome is read back before the next try."""
        email = action["target_key"]
        body = {"user": {"email": email, "name": email.split("@", 1)[0], "tags": tags}}
        if action["tries"]:
            found = self._search_user(email, tags, action, result)
            if found is False:
                return None  # no answer: never write blind
            if found:
                return found
        self.store.mark_trying([action["action_id"]])
        action["tries"] += 1
        result.writes += 1
        try:
            page = self.writer.post_page(USERS_PATH, body)
        except HttpClientError as exc:
            status, outcome = _outcome(exc)
            self.record([action["action_id"]], "POST", USERS_PATH, status, outcome,
                        detail=str(exc))  # fmt: skip
            return None
        user_id = ((page.data or {}).get("user") or {}).get("id")
        self.record([action["action_id"]], "POST", USERS_PATH, page.status,
                    "ok" if user_id else "unknown", detail=page.problem)  # fmt: skip
        return str(user_id) if user_id else None

    def _search_user(
        self, email: str, tags: list[str], action: dict, result: SendResult
    ) -> str | None | bool:
        """The user's id, None when there is none yet, False when the read got no answer."""
        result.reads += 1
        try:
            page: Page = self.reader.get_page(USER_SEARCH_PATH, {"query": f"email:{email}"})
        except HttpClientError as exc:
            status, _ = _outcome(exc)
            self.record([action["action_id"]], "GET", USER_SEARCH_PATH, status, "read_failed",
                        detail=str(exc))  # fmt: skip
            return False
        if page.data is None:
            return False
        for user in (page.data or {}).get("users", []) if page.data else []:
            if (user.get("email") or "").lower() == email and set(tags) <= set(
                user.get("tags") or []
            ):
                return str(user["id"])
        return None


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
