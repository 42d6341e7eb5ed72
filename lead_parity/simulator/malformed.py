"""Bad input: extra noise records that the pipeline must quarantine (never real conversions)."""

from __future__ import annotations

import random

import orjson

from .timefmt import iso_z_ms

BAD_TIMESTAMPS = ("2026-13-45T99:00:00Z", "yesterday", "10/01/2026 25:61", "")


def _noise_id(rng: random.Random) -> str:
    return f"malformed-{rng.getrandbits(64):016x}"


def segment_line(rng: random.Random, ts: int) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:  # cut off mid-write
        return b'{"type": "track", "messageId": "' + _noise_id(rng).encode() + b'", "event": "De'
    msg = {
        "type": "track",
        "messageId": _noise_id(rng),
        "event": "Demo Requested",
        "timestamp": iso_z_ms(ts),
        "anonymousId": _noise_id(rng),
        "properties": {},
    }
    if kind == 1:
        del msg[rng.choice(("messageId", "timestamp"))]
    else:
        msg["timestamp"] = rng.choice(BAD_TIMESTAMPS)
    return orjson.dumps(msg)


def receipt_line(rng: random.Random, ts: int) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:
        return b'{"receipt_id": "' + _noise_id(rng).encode() + b'", "message_id": '
    body = {
        "receipt_id": _noise_id(rng),
        "message_id": _noise_id(rng),
        "hop": "crm",
        "destination": "hubspot-crm",
        "attempted_at": iso_z_ms(ts),
        "status_code": 500,
        "outcome": "failed",
        "error": "HTTP 500",
    }
    if kind == 1:
        del body[rng.choice(("receipt_id", "message_id", "hop", "attempted_at", "outcome"))]
    else:
        body["attempted_at"] = rng.choice(BAD_TIMESTAMPS)
    return orjson.dumps(body)


def form_submission(rng: random.Random, ts: int) -> dict:
    body: dict = {
        "conversionId": _noise_id(rng),
        "pageUrl": "https://www.example.com/contact",
        "values": [{"name": "email", "value": f"{_noise_id(rng)}@invalid.example"}],
    }
    if rng.random() < 0.5:
        body["submittedAt"] = "not-a-timestamp"
    return body


def contact(rng: random.Random, ts: int) -> dict:
    props = {"email": f"{_noise_id(rng)}@invalid.example", "createdate": iso_z_ms(ts)}
    body: dict = {
        "id": str(9_000_000_000 + rng.getrandbits(30)),
        "properties": props,
        "createdAt": iso_z_ms(ts),
        "updatedAt": iso_z_ms(ts),
        "archived": False,
    }
    if rng.random() < 0.5:
        del body["id"]
    else:
        props["createdate"] = body["createdAt"] = rng.choice(BAD_TIMESTAMPS[:3])
    return body


def ticket(rng: random.Random, ts: int) -> dict:
    body: dict = {
        "id": 8_000_000_000 + rng.getrandbits(30),
        "external_id": None,
        "via": {"channel": "web"},
        "created_at": iso_z_ms(ts)[:19] + "Z",
        "status": "new",
        "requester_id": None,
        "assignee_id": None,
    }
    if rng.random() < 0.5:
        del body["created_at"]
    else:
        body["created_at"] = rng.choice(BAD_TIMESTAMPS[:3])
    return body


BAD_PAGE = b'{"results": [{"id": "1", "properties": {"email": "cut@off.example", "createdate": '
BAD_ZENDESK_PAGE = b'{"tickets": [{"id": 1, "created_at": "2026-10-01T00:00:00Z"'
