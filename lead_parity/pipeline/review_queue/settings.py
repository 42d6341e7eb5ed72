"""What the review queue reads from the routing contract: clocks, owners, escalation.

`alerting.page_within` and `escalation.owner` are SPEC section 9 keys that the contract model may
not expose yet; they are read defensively (model attribute, else the contract's YAML, else the
SPEC defaults `2d` and `cro`) so the queue works before and after they land.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from lead_parity.contract import Contract, parse_duration

KINDS = ("high_intent_unassigned", "enrichment_fallback", "dead_letter", "merge_candidate")
# SPEC section 9: how long a person has from the moment an item opens. `merge_candidate` is
# ours (docs/remediation.md): a dropped identity_mismatch lead `lead-parity remediate plan` will
# not re-send, because merging two records is a person's call; a day is enough for that.
DUE_AFTER_S = {
    "high_intent_unassigned": 30 * 60,
    "enrichment_fallback": 15 * 60,
    "dead_letter": 60 * 60,
    "merge_candidate": 24 * 3600,
}
RESOLUTIONS = ("handled", "requeued", "not_a_lead", "duplicate")
REACHED = "reached"  # the resolution of an item that closed itself
STATES = ("open", "claimed", "done")
DEFAULT_PAGE_WITHIN_S = 2 * 86400
DEFAULT_ESCALATION_OWNER = "cro"


@dataclass(frozen=True)
class QueueSettings:
    high_intent_score: float
    high_intent_unassigned_after_s: int
    page_within_s: int
    escalation_owner: str
    hop_owners: dict[str, str]
    # conversion_type -> its assignment hop (the hop high-intent and enrichment items wait for)
    assignment_hops: dict[str, str]


def _raw_contract(contract: Contract) -> dict:
    path = Path(contract.source)
    if not path.is_file():
        from lead_parity.contract import DEFAULT_CONTRACT_PATH

        path = Path(DEFAULT_CONTRACT_PATH)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _attr(obj: object, *names: str) -> object | None:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def settings_for(contract: Contract) -> QueueSettings:
    raw = _raw_contract(contract)
    alerting = _attr(contract, "alerting")
    page_within = _attr(alerting, "page_within_s") if alerting is not None else None
    if page_within is None:
        text = (raw.get("alerting") or {}).get("page_within") if raw else None
        page_within = (
            parse_duration(text, "alerting.page_within") if text else DEFAULT_PAGE_WITHIN_S
        )
    escalation = _attr(contract, "escalation")
    owner = _attr(escalation, "owner") if escalation is not None else None
    if owner is None:
        owner = (raw.get("escalation") or {}).get("owner") if raw else None
    hop_owners = {h.hop: h.owner for h in contract.hops}
    assignment_hops = {
        rule.conversion_type: hop
        for rule in contract.conversions
        for hop in rule.hops
        if contract.hop(hop).kind == "assignment"
    }
    return QueueSettings(
        high_intent_score=float(contract.slo.high_intent_score),
        high_intent_unassigned_after_s=int(contract.slo.high_intent_unassigned_after_s),
        page_within_s=int(page_within),
        escalation_owner=str(owner or DEFAULT_ESCALATION_OWNER),
        hop_owners=hop_owners,
        assignment_hops=assignment_hops,
    )
