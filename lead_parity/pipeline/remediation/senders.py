"""Put approved actions into HubSpot and Zendesk, each exactly once.

The safety rules (docs/remediation.md):
- every request goes through `HttpClient` (lead_parity/pipeline/http_client.py): `Retry-After`
  honoured, credentials never in a message. Writes use its `writes=True` mode: only a refused
  connection or a 429 (the request was not processed) is retried there;
- a write whose outcome is unknown (read timeout, dropped connection, 5xx, a broken answer) is
  resolved by a read before any retry: HubSpot `batch/read` by id or email, Zendesk's ticket
  list by `external_id` (`lp:<conversion_id>`, which the support-hop rule ignores). An action
  that may have been applied by an earlier run (`tries > 0`) is read first as well, so
  re-running a batch writes nothing;
- HubSpot: a lead whose contact the identity spine knows is written by `batch/update` with that
  contact id (HubSpot resolves a merged-away id to the merged contact), never with an email, so
  a lead known under another or an additional email gets no second contact; a contact id that
  reads as missing (deleted since) falls back to email. Other leads go by `batch/upsert`
  (`idProperty=email`): the unique-email index (additional emails included) resolves the
  contact. Both are idempotent, at most 100 inputs a request; a 207's failed inputs go again in
  the next round;
- Zendesk's ticket POST carries an `Idempotency-Key`, but Zendesk forgets keys after a while,
  so the lookup by `external_id` comes first on every try;
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
UPDATE_PATH = "/crm/v3/objects/contacts/batch/update"
READ_PATH = "/crm/v3/objects/contacts/batch/read"
READ_PATHS = frozenset({READ_PATH})  # POSTs that only read: never marked as a try
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


class _Sender:
    """What both vendors' senders share: the clients, the store, and the one way a request is
    sent and its outcome recorded."""

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
        self.now = now

    def record(self, ids, method, endpoint, status, outcome, key=None, detail=None) -> None:
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

    def _request(
        self,
        ids: list[str],
        method: str,
        path: str,
        result: SendResult,
        *,
        body: dict | None = None,
        params: dict | None = None,
        key: str | None = None,
    ) -> Page | None:
        """Send one request for the actions `ids`: the page when a usable answer came back, else
        None with the outcome recorded. A POST is a write, marked as tried before it leaves:
        from then on the object may exist and a later try must read first. A GET is a read,
        and so is a POST to a read path."""
        write = method == "POST" and path not in READ_PATHS
        if write:
            self.store.mark_trying(ids)
            result.writes += 1
        else:
            result.reads += 1
        try:
            if method == "GET":
                page = self.reader.get_page(path, params)
            elif write:
                headers = {"Idempotency-Key": key} if key else None
                page = self.writer.post_page(path, body, headers=headers)
            else:
                page = self.reader.post_page(path, body)
        except HttpClientError as exc:
            status, outcome = _outcome(exc)
            outcome = outcome if write else "read_failed"
            self.record(ids, method, path, status, outcome, key, str(exc))
            return None
        if page.data is None:
            outcome = "unknown" if write else "read_failed"
            self.record(ids, method, path, page.status, outcome, key, page.problem)
            return None
        return page


# A group of actions addressed to one contact: ("id", contact id) when the identity spine knows
# the contact, else ("email", the email HubSpot's unique index resolves).
Key = tuple[str, str]


def _key(action: Mapping) -> Key:
    if action.get("target_id"):
        return ("id", str(action["target_id"]))
    return ("email", action["target_key"])


class HubSpotSender(_Sender):
    """Contact writes in batches of at most 100 inputs: `batch/update` by contact id when the
    identity spine knows the lead's contact, else `batch/upsert` by email."""

    def send(self, actions: list[dict]) -> SendResult:
        result = SendResult()
        pending: dict[Key, list[dict]] = {}
        for action in actions:
            pending.setdefault(_key(action), []).append(action)
        maybe_applied = {k for k, acts in pending.items() if any(a["tries"] for a in acts)}
        for round_no in range(self.max_rounds):
            if not pending:
                break
            if round_no:
                time.sleep(self.pause_s * round_no)
            unsure: set[Key] = set()
            for kind in ("email", "id"):
                look = [k for k in pending if k in maybe_applied and k[0] == kind]
                for chunk in _chunks(look, BATCH_LIMIT):
                    if not self._read(kind, chunk, pending, maybe_applied, result):
                        unsure.update(chunk)  # no answer: never write blind, look next round
            for kind, path in (("id", UPDATE_PATH), ("email", UPSERT_PATH)):
                ready = [k for k in pending if k[0] == kind and k not in unsure]
                for chunk in _chunks(ready, BATCH_LIMIT):
                    self._write(path, chunk, pending, maybe_applied, result)
        result.unresolved = [a["action_id"] for acts in pending.values() for a in acts]
        return result

    def _done(self, acts: list[dict], contact_id: str, result: SendResult) -> None:
        sent = {a["action_id"]: str(contact_id) for a in acts}
        self.store.mark_sent(sent, self.now())
        result.sent.update(sent)

    def _read(
        self,
        kind: str,
        keys: list[Key],
        pending: dict[Key, list[dict]],
        maybe_applied: set[Key],
        result: SendResult,
    ) -> bool:
        """Finish the groups whose contact already carries every action id of the group; False
        when the read got no answer. A contact id that reads as missing was deleted since the
        spine saw it: its actions go by email from now on."""
        body: dict = {
            "properties": ["email", "hs_additional_emails", "hs_merged_object_ids",
                           REMEDIATION_PROPERTY],
            "inputs": [{"id": value} for _, value in keys],
        }  # fmt: skip
        if kind == "email":
            body["idProperty"] = "email"
        ids = [a["action_id"] for k in keys for a in pending[k]]
        page = self._request(ids, "POST", READ_PATH, result, body=body)
        if page is None:
            return False
        found: dict[Key, str] = {}
        existing: set[Key] = set()
        for contact in page.data.get("results") or []:
            props = contact.get("properties") or {}
            marks = set((props.get(REMEDIATION_PROPERTY) or "").split(";"))
            # An email input may be an additional email; an id input may be a merged-away id.
            names = (
                _emails(props)
                if kind == "email"
                else {str(contact.get("id"))} | _split(props.get("hs_merged_object_ids"))
            )
            for key in keys:
                if key[1] in names:
                    existing.add(key)
                    if all(a["action_id"] in marks for a in pending[key]):
                        found[key] = str(contact["id"])
        for key, contact_id in found.items():
            self._done(pending.pop(key), contact_id, result)
        gone = [k for k in keys if kind == "id" and k not in existing]
        for key in gone:
            for action in pending.pop(key):
                pending.setdefault(("email", action["target_key"]), []).append(action)
            maybe_applied.discard(key)
        detail = f"{len(found)} found" + (f", {len(gone)} contact ids gone" if gone else "")
        self.record(ids, "POST", READ_PATH, page.status, "read", detail=detail)
        return True

    def _write(
        self,
        path: str,
        keys: list[Key],
        pending: dict[Key, list[dict]],
        maybe_applied: set[Key],
        result: SendResult,
    ) -> None:
        inputs = []
        for key in keys:
            acts = pending[key]
            props = {REMEDIATION_PROPERTY: ";".join(sorted(a["action_id"] for a in acts))}
            if any(a["action"] == "hubspot_flag" for a in acts):
                props[ROUTING_PROPERTY] = "true"
            if key[0] == "email":
                props["email"] = key[1]
                inputs.append({"idProperty": "email", "id": key[1], "properties": props})
            else:
                # By id, never with an email: that would overwrite the contact's primary one.
                inputs.append({"id": key[1], "properties": props})
        ids = [a["action_id"] for k in keys for a in pending[k]]
        maybe_applied.update(keys)
        page = self._request(ids, "POST", path, result, body={"inputs": inputs})
        if page is None:
            return
        marked: dict[str, str] = {}  # action id -> the contact that carries it
        for contact in page.data.get("results", []):
            props = contact.get("properties") or {}
            for mark in (props.get(REMEDIATION_PROPERTY) or "").split(";"):
                marked.setdefault(mark, str(contact.get("id")))
        # One attempt row set and one sent mark per request, not per contact.
        done = [
            (marked[pending[k][0]["action_id"]], pending.pop(k))
            for k in keys
            if all(a["action_id"] in marked for a in pending[k])
        ]
        ok_ids = [a["action_id"] for _, acts in done for a in acts]
        if ok_ids:
            self.record(ok_ids, "POST", path, page.status, "ok")
            sent = {a["action_id"]: cid for cid, acts in done for a in acts}
            self.store.mark_sent(sent, self.now())
            result.sent.update(sent)
        failed = [a["action_id"] for k in keys if k in pending for a in pending[k]]
        if failed:
            errors = page.data.get("errors") or []
            self.record(
                failed, "POST", path, page.status, "partial_failure",
                detail="; ".join(str(e.get("message", ""))[:80] for e in errors[:3]),
            )  # fmt: skip


class ZendeskSender(_Sender):
    """A requester by `users/create_or_update`, then one ticket per action with a private
    comment, tags, `external_id = lp:<conversion_id>` and an `Idempotency-Key`."""

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
        ids = [action["action_id"]]
        action["tries"] += 1
        page = self._request(ids, "POST", TICKETS_PATH, result, body=body, key=key)
        if page is None:
            return None
        ticket_id = (page.data.get("ticket") or {}).get("id")
        self.record(ids, "POST", TICKETS_PATH, page.status, "ok" if ticket_id else "unknown", key)
        return f"ticket:{ticket_id}" if ticket_id else None

    def _find_ticket(self, action: dict, result: SendResult) -> int | None | bool:
        """The ticket an earlier try created, None when there is none, False when unsure."""
        external = external_id_for(action["conversion_id"])
        page = self._request(
            [action["action_id"]], "GET", TICKETS_PATH, result, params={"external_id": external}
        )
        if page is None:
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
        ids = [action["action_id"]]
        action["tries"] += 1
        page = self._request(ids, "POST", USERS_PATH, result, body=body)
        if page is None:
            return None
        user_id = (page.data.get("user") or {}).get("id")
        self.record(ids, "POST", USERS_PATH, page.status, "ok" if user_id else "unknown")
        return str(user_id) if user_id else None

    def _search_user(
        self, email: str, tags: list[str], action: dict, result: SendResult
    ) -> str | None | bool:
        """The user's id, None when there is none yet, False when the read got no answer."""
        page = self._request(
            [action["action_id"]], "GET", USER_SEARCH_PATH, result,
            params={"query": f"email:{email}"},
        )  # fmt: skip
        if page is None:
            return False
        for user in page.data.get("users") or []:
            if (user.get("email") or "").lower() == email and set(tags) <= set(
                user.get("tags") or []
            ):
                return str(user["id"])
        return None


def _split(text: str | None) -> set[str]:
    """A `;`-joined HubSpot multi-value property as a set."""
    return {part.strip() for part in (text or "").split(";") if part.strip()}


def _emails(props: Mapping) -> set[str]:
    """Every email HubSpot's unique index resolves to this contact: primary and additional."""
    return {e.lower() for e in _split(props.get("hs_additional_emails"))} | {
        (props.get("email") or "").strip().lower()
    }


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
