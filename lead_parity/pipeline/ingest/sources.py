"""What each source folder holds (SPEC section 2): file shape, fields, required keys, dedup rules.

Everything here is code-owned constants; the SQL built from it never contains data values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Field kinds: how a JSON value becomes a landed column.
#   str    the value as text (numbers keep every digit; objects become their JSON text)
#   email  text, then Unicode NFKC, trimmed, lower-cased (SPEC section 4)
#   ts     ISO-8601 with any offset (no offset = UTC) or epoch milliseconds -> UTC TIMESTAMP
#   int    integer (null when not an integer)
#   bool   JSON boolean


# JSON types a field accepts (null always is: a missing value is the required-key check's job).
# A value of another type is quarantined, never landed as its JSON text: an email given as a
# number or a lead id given as an object is a broken sender, not a lead.
ACCEPTS_BY_KIND = {
    "str": ("string",),
    "email": ("string",),
    "ts": ("string", "number"),  # ISO-8601 text or epoch milliseconds
    "int": ("number",),
    "bool": ("boolean",),
}
ID = ("string", "number")  # Zendesk ids are numbers, HubSpot's are strings of digits


@dataclass(frozen=True)
class Field:
    name: str
    path: str
    kind: str = "str"
    accepts: tuple[str, ...] = ()  # empty: ACCEPTS_BY_KIND[kind]

    @property
    def json_types(self) -> tuple[str, ...]:
        return self.accepts or ACCEPTS_BY_KIND[self.kind]


@dataclass(frozen=True)
class Entity:
    """One kind of record inside a source's files, landed as `<name>.parquet`."""

    name: str
    fields: tuple[Field, ...]
    required: tuple[str, ...]  # landed column names that must be present (and parse)
    dedup_key: tuple[str, ...] = ()  # empty: every record is distinct
    newest_by: str | None = None  # keep the newest by this column, else the first in file order
    array: str | None = None  # page files: JSON path of the array holding these records
    # Segment: only these `type` values are validated; others are read and passed through.
    validated_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    name: str
    pattern: tuple[str, ...]  # globs relative to the source folder
    shape: str  # "jsonl" (one record per line) or "page" (one API response per file)
    entities: tuple[Entity, ...] = field(default_factory=tuple)
    optional: bool = False


_JSONL = ("*.jsonl", "*.jsonl.gz")


def _page_source(
    name: str, *entities: Entity, pattern: tuple[str, ...] = ("*.json",), optional: bool = False
) -> Source:
    """A source whose files are API response pages, each entity an array inside a page."""
    return Source(name=name, pattern=pattern, shape="page", entities=entities, optional=optional)


def _newest_per_id(
    name: str, array: str, key: str, fields: tuple[Field, ...], also_required: tuple[str, ...] = ()
) -> Entity:
    """Records a vendor edits in place: one row per `key`, the newest `updated_at_utc` wins."""
    return Entity(
        name=name,
        array=array,
        fields=fields,
        required=(key, *also_required),
        dedup_key=(key,),
        newest_by="updated_at_utc",
    )


_PERSON = ("email", "lead_id", "first_name", "last_name", "company")
_PERSON_ACCEPTS = {"lead_id": ID, "intent_score": ("number", "string")}
_SEGMENT_FIELDS = (
    Field("message_id", "$.messageId", accepts=ID),
    Field("type", "$.type"),
    Field("event", "$.event"),
    Field("timestamp_utc", "$.timestamp", "ts"),
    Field("anonymous_id", "$.anonymousId", accepts=ID),
    Field("user_id", "$.userId", accepts=ID),
    *(
        Field(
            f"{prefix}_{key}",
            f"{path}.{key}",
            "email" if key == "email" else "str",
            accepts=_PERSON_ACCEPTS.get(key, ()),
        )
        for prefix, path in (
            ("properties", "$.properties"),
            ("traits", "$.traits"),
            ("context_traits", "$.context.traits"),
        )
        for key in (_PERSON if prefix != "properties" else (*_PERSON, "intent_score"))
    ),
    Field("campaign_source", "$.context.campaign.source"),
)

SEGMENT = Source(
    name="segment",
    pattern=_JSONL,
    shape="jsonl",
    entities=(
        Entity(
            name="messages",
            fields=_SEGMENT_FIELDS,
            required=("message_id", "timestamp_utc"),
            dedup_key=("type", "message_id"),
            validated_types=("track", "identify"),
        ),
    ),
)

# Form values arrive as [{"name", "value"}]; the engine pivots these names into columns.
FORM_VALUE_NAMES = ("email", "firstname", "lastname", "company", "lead_id", "anonymous_id")

HUBSPOT_FORMS = _page_source(
    "hubspot_forms",
    Entity(
        name="submissions",
        array="$.results",
        fields=(
            Field("conversion_id", "$.conversionId", accepts=ID),
            Field("submitted_at_utc", "$.submittedAt", "ts"),
            Field("page_url", "$.pageUrl"),
        ),
        required=("submitted_at_utc",),
        dedup_key=("submission_key",),
    ),
    pattern=("*/*.json",),
)

HUBSPOT_CONTACTS = _page_source(
    "hubspot_contacts",
    _newest_per_id(
        "contacts",
        "$.results",
        "contact_id",
        fields=(
            Field("contact_id", "$.id", accepts=ID),
            Field("email", "$.properties.email", "email"),
            Field("hs_additional_emails", "$.properties.hs_additional_emails", "email"),
            Field("firstname", "$.properties.firstname"),
            Field("lastname", "$.properties.lastname"),
            Field("company", "$.properties.company"),
            Field("lead_id", "$.properties.lead_id", accepts=ID),
            Field("createdate_utc", "$.properties.createdate", "ts"),
            Field("hubspot_owner_id", "$.properties.hubspot_owner_id", accepts=ID),
            Field(
                "hubspot_owner_assigneddate_utc",
                "$.properties.hubspot_owner_assigneddate",
                "ts",
            ),
            Field("lastmodifieddate_utc", "$.properties.lastmodifieddate", "ts"),
            Field("created_at_utc", "$.createdAt", "ts"),
            Field("updated_at_utc", "$.updatedAt", "ts"),
            Field("archived", "$.archived", "bool"),
        ),
        also_required=("createdate_utc",),
    ),
)

_ZENDESK_USERS = _newest_per_id(
    "users",
    "$.users",
    "user_id",
    fields=(
        Field("user_id", "$.id", accepts=ID),
        Field("email", "$.email", "email"),
        Field("name", "$.name"),
        Field("updated_at_utc", "$.updated_at", "ts"),
    ),
)

ZENDESK_TICKETS = _page_source(
    "zendesk_tickets",
    _newest_per_id(
        "tickets",
        "$.tickets",
        "ticket_id",
        fields=(
            Field("ticket_id", "$.id", accepts=ID),
            Field("created_at_utc", "$.created_at", "ts"),
            Field("updated_at_utc", "$.updated_at", "ts"),
            Field("requester_id", "$.requester_id", accepts=ID),
            Field("assignee_id", "$.assignee_id", accepts=ID),
            Field("external_id", "$.external_id", accepts=ID),
            Field("status", "$.status"),
            Field("via_channel", "$.via.channel"),
        ),
        also_required=("created_at_utc",),
    ),
    _ZENDESK_USERS,
    _newest_per_id(
        "metric_sets",
        "$.metric_sets",
        "ticket_id",
        fields=(
            Field("ticket_id", "$.ticket_id", accepts=ID),
            Field("initially_assigned_at_utc", "$.initially_assigned_at", "ts"),
            Field("updated_at_utc", "$.updated_at", "ts"),
        ),
    ),
)

ZENDESK_USERS = _page_source("zendesk_users", _ZENDESK_USERS, optional=True)

RECEIPTS = Source(
    name="receipts",
    pattern=_JSONL,
    shape="jsonl",
    entities=(
        Entity(
            name="receipts",
            fields=(
                Field("receipt_id", "$.receipt_id", accepts=ID),
                Field("message_id", "$.message_id", accepts=ID),
                Field("hop", "$.hop"),
                Field("destination", "$.destination"),
                Field("attempted_at_utc", "$.attempted_at", "ts"),
                Field("status_code", "$.status_code", "int"),
                Field("outcome", "$.outcome"),
                Field("error", "$.error"),
            ),
            required=("receipt_id", "message_id", "hop", "attempted_at_utc", "outcome"),
            dedup_key=("receipt_id",),
        ),
    ),
)

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (SEGMENT, HUBSPOT_FORMS, HUBSPOT_CONTACTS, ZENDESK_TICKETS, ZENDESK_USERS, RECEIPTS)
}

# Extra landed columns the engine adds beside the declared fields.
FORM_EXTRA_COLUMNS = ("form_guid", "submission_key", *FORM_VALUE_NAMES)
