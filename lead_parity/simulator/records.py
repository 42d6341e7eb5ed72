"""One person's records in every system, and how each is rendered as the source writes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .timefmt import iso_z, iso_z_ms


@dataclass(slots=True)
class SegmentMessage:
    ts: int  # epoch ms (UTC); the message's `timestamp` text denotes this instant
    msg: dict
    twice: bool = False  # delivered twice by the client (same type + messageId)


@dataclass(slots=True)
class FormSubmission:
    guid: str
    submitted: int
    body: dict
    values: dict[str, str]


@dataclass(slots=True)
class Receipt:
    ts: int
    body: dict


@dataclass(slots=True)
class Contact:
    contact_id: str
    email: str
    first: str
    last: str
    company: str
    created: int
    additional: list[str] = field(default_factory=list)
    lead_id: str | None = None
    owner_id: str | None = None
    owner_assigned: int | None = None
    changes: list[int] = field(default_factory=list)  # modification times after creation
    redeliver: bool = False  # an older version is also exported, on an earlier page

    def updated(self, as_of: int) -> int:
        latest = self.created
        for t in self.changes:
            if latest < t <= as_of:
                latest = t
        return latest

    def has_owner(self, at: int) -> bool:
        return self.owner_assigned is not None and self.owner_assigned <= at

    def render(self, at: int) -> dict:
        """The contact as the CRM v3 API returns it when read at time `at`."""
        owned = self.has_owner(at)
        updated = iso_z_ms(self.updated(at))
        created = iso_z_ms(self.created)
        return {
            "id": self.contact_id,
            "properties": {
                "email": self.email,
                "hs_additional_emails": ";".join(self.additional) or None,
                "firstname": self.first,
                "lastname": self.last,
                "company": self.company,
                "lead_id": self.lead_id,
                "createdate": created,
                "lastmodifieddate": updated,
                "hubspot_owner_id": self.owner_id if owned else None,
                "hubspot_owner_assigneddate": iso_z_ms(self.owner_assigned) if owned else None,
                "hs_object_id": self.contact_id,
                "lifecyclestage": "salesqualifiedlead" if owned else "lead",
            },
            "createdAt": created,
            "updatedAt": updated,
            "archived": False,
        }


@dataclass(slots=True)
class ZendeskUser:
    user_id: int
    email: str
    name: str
    created: int

    def render(self) -> dict:
        stamp = iso_z(self.created)
        return {
            "id": self.user_id,
            "name": self.name,
            "email": self.email,
            "role": "end-user",
            "created_at": stamp,
            "updated_at": stamp,
        }


@dataclass(slots=True)
class Ticket:
    ticket_id: int
    created: int  # whole seconds: Zendesk writes second precision
    requester: ZendeskUser
    subject: str
    external_id: str | None = None
    channel: str = "api"
    assignee_id: int | None = None
    assigned: int | None = None
    final_status: str = "open"
    closed: int | None = None  # when it reached final_status (solved/deleted)
    redeliver: bool = False
    late_sideload: bool = False

    def updated(self, as_of: int) -> int:
        times = [self.created]
        if self.assigned is not None and self.assigned <= as_of:
            times.append(self.assigned)
        if self.closed is not None and self.closed <= as_of:
            times.append(self.closed)
        return max(times)

    def is_assigned(self, at: int) -> bool:
        return self.assigned is not None and self.assigned <= at

    def render(self, at: int) -> tuple[dict, dict]:
        """(ticket, metric set) as the incremental export returns them when read at `at`."""
        assigned = self.is_assigned(at)
        if self.closed is not None and self.closed <= at:
            status = self.final_status
        else:
            status = "open" if assigned else "new"
        updated = iso_z(self.updated(at))
        ticket = {
            "id": self.ticket_id,
            "external_id": self.external_id,
            "via": {"channel": self.channel},
            "created_at": iso_z(self.created),
            "updated_at": updated,
            "subject": self.subject,
            "status": status,
            "requester_id": self.requester.user_id,
            "submitter_id": self.requester.user_id,
            "assignee_id": self.assignee_id if assigned else None,
            "tags": ["lead_parity_sim", self.channel],
        }
        metric = {
            "id": self.ticket_id + 7,
            "ticket_id": self.ticket_id,
            "created_at": iso_z(self.created),
            "updated_at": updated,
            "initially_assigned_at": iso_z(self.assigned) if assigned else None,
        }
        return ticket, metric


@dataclass(slots=True)
class PersonRecords:
    """Everything one person left in the stack (only what happened up to as_of)."""

    person_id: str
    segment: list[SegmentMessage] = field(default_factory=list)
    forms: list[FormSubmission] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    guarded_anons: set[str] = field(default_factory=set)  # shared-device cookies
    # conversion_id -> (planned dropped hop or None, planned cause or None), for the plan check
    plans: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
