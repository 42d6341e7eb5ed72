"""Which dropped conversions to put back, and how: read from the published snapshot only.

A person plans while a run may hold the warehouse, so the planner reads the snapshot BI tools
read (`published/lead_parity.duckdb`), never the live DuckDB file, and sends nothing.

Rules (docs/remediation.md):
- record hops dropped for `integration_failure`, `silent_drop` or `no_trace` are re-sent: a
  HubSpot contact upsert for `marketing` and `crm`, a Zendesk ticket for `support`;
- assignment hops get a routing flag (a HubSpot contact property, a Zendesk user tag), never an
  owner id;
- `identity_mismatch` is never re-sent (it would create a duplicate contact): it becomes a
  `merge_candidate` item of the review queue, a person's call;
- a lead whose later conversion reached the same hop is already there: skipped;
- a conversion without an email cannot be matched by the vendor's unique index: skipped;
- a HubSpot action of a lead whose contact the identity spine knows (`ops.lead_crm_contacts`)
  carries that contact id, so the sender updates it by id instead of upserting by email.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lead_parity.contract import HOP_RULES, Contract
from lead_parity.pipeline.remediation.store import Proposal
from lead_parity.pipeline.review_queue.evidence import Evidence

RESENT_CAUSES = ("integration_failure", "silent_drop", "no_trace")
ASSIGNMENT_CAUSES = ("enrichment_failure", "unassigned", "no_trace")
MERGE_CAUSE = "identity_mismatch"
# hop -> (action, target)
ACTIONS = {
    "marketing": ("hubspot_upsert", "hubspot"),
    "crm": ("hubspot_upsert", "hubspot"),
    "crm_assignment": ("hubspot_flag", "hubspot"),
    "support": ("zendesk_ticket", "zendesk"),
    "support_assignment": ("zendesk_flag", "zendesk"),
}


class PlanError(ValueError):
    """The snapshot cannot be planned from; one line."""


@dataclass
class Plan:
    proposals: list[Proposal] = field(default_factory=list)
    merge_candidates: list[str] = field(default_factory=list)  # conversion ids
    merge_items: list[Evidence] = field(default_factory=list)  # review-queue items for them
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> conversions
    snapshot_as_of: datetime | None = None

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def plan_from_snapshot(published: Path, contract: Contract) -> Plan:
    """Proposals for every dropped conversion of the snapshot that qualifies."""
    db = Path(published) / "lead_parity.duckdb"
    if not db.is_file():
        raise PlanError(f"no published snapshot at {db}; run the pipeline first")
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'fct_conversions'"
            ).fetchall()
        }
        if not columns:
            raise PlanError(f"the snapshot at {db} has no marts.fct_conversions")
        rows = con.execute(
            "select d.conversion_id, d.lead_key, d.email, d.conversion_type, d.dropped_at_hop, "
            "d.root_cause, c.converted_at, d.origin, d.intent_score "
            "from marts.rpt_dropped_leads d "
            "join marts.fct_conversions c using (conversion_id) "
            "order by c.converted_at, d.conversion_id"
        ).fetchall()
        reached_later = _reached_later(con, columns, contract)
        contact_ids = _lead_contacts(con)
        plan = Plan(snapshot_as_of=_as_of(con))
    finally:
        con.close()
    opened_at = _aware(plan.snapshot_as_of) or datetime.now(UTC)
    for conversion_id, lead_key, email, ctype, hop, cause, converted_at, origin, intent in rows:
        if hop not in HOP_RULES:
            plan.skip("unknown hop")
            continue
        kind = HOP_RULES[hop]["kind"]
        if cause == MERGE_CAUSE:
            plan.merge_candidates.append(conversion_id)
            plan.merge_items.append(
                Evidence(
                    kind="merge_candidate",
                    conversion_id=conversion_id,
                    hop=hop,
                    opened_at=opened_at,
                    evidence=f"dropped at {hop} for identity_mismatch: a look-alike record of "
                    "another lead exists; merge them, remediation will not re-send it",
                    conversion_type=ctype,
                    origin=origin,
                    intent_score=intent,
                    reached_at=None,
                )
            )
            continue
        allowed = RESENT_CAUSES if kind == "record" else ASSIGNMENT_CAUSES
        if cause not in allowed:
            plan.skip(f"root cause {cause}")
            continue
        if (lead_key, hop) in reached_later and reached_later[(lead_key, hop)] > converted_at:
            plan.skip("a later conversion of the lead reached the hop")
            continue
        address = (email or "").strip().lower()
        if "@" not in address:
            plan.skip("no email")
            continue
        action, target = ACTIONS[hop]
        contact_id = contact_ids.get(lead_key) if target == "hubspot" else None
        plan.proposals.append(
            Proposal(
                conversion_id, lead_key, hop, cause, ctype, action, target, address, contact_id
            )
        )
    return plan


def _reached_later(
    con: duckdb.DuckDBPyConnection, columns: set[str], contract: Contract
) -> dict[tuple[str, str], datetime]:
    """(lead_key, hop) -> the latest converted_at of a conversion of that lead that reached it."""
    out: dict[tuple[str, str], datetime] = {}
    for hop in contract.hop_names:
        column = f"{hop}_reached_at"
        if column not in columns:
            continue
        for lead_key, latest in con.execute(
            f"select lead_key, max(converted_at) from marts.fct_conversions "
            f"where {_quote(column)} is not null and lead_key is not null group by lead_key"
        ).fetchall():
            out[(lead_key, hop)] = latest
    return out


def _lead_contacts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """lead_key -> the HubSpot contact id the spine knows; empty for a snapshot published
    before ops.lead_crm_contacts existed (those leads are upserted by email, as before)."""
    known = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'ops' and table_name = 'lead_crm_contacts'"
    ).fetchone()[0]
    if not known:
        return {}
    return {
        lead_key: str(contact_id)
        for lead_key, contact_id in con.execute(
            "select lead_key, contact_id from ops.lead_crm_contacts "
            "where lead_key is not null and contact_id is not null"
        ).fetchall()
    }


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    try:
        row = con.execute("select max(as_of) from contract.settings").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None
