"""Incident rules: which SLO evaluation rows become incidents, with owner, severity and advice.

Input is one evaluation of `ops.slo_evaluations` (one row per rule and judged unit). A failed
row of a judged unit is a *finding*; a passed row is proof that its unit recovered. Everything
here is pure: no I/O, so the rules are tested on plain rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from lead_parity.contract import Contract

TAGS = "dropped leads support triage infrastructure problem"
SEVERITY_RANK = {"ok": 0, "warning": 1, "critical": 2}
CRITICAL_ADVICE = "Pause the campaign until the cause is fixed, and require a postmortem."
# PagerDuty caps dedup_key at 255 characters; long scopes (odd campaign names) get a hash tail.
MAX_DEDUP_KEY = 200


@dataclass(frozen=True)
class EvaluationRow:
    """One row of ops.slo_evaluations (integration.md schema)."""

    evaluated_at: datetime
    rule: str
    scope: str
    passed: bool | None
    severity: str | None = None
    conversion_date: date | None = None
    conversion_type: str | None = None
    origin: str | None = None
    hop: str | None = None
    observed: float | None = None
    threshold: float | None = None
    expected: int | None = None
    dropped: int | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A breached, judged unit of one evaluation: the stuff an incident is made of."""

    dedup_key: str
    rule: str
    scope: str
    severity: str
    conversion_date: date | None
    conversion_type: str | None
    origin: str | None
    hop: str | None
    expected: int | None
    dropped: int | None
    discrepancy_pct: float | None
    observed: float | None
    threshold: float | None
    owner: str
    advice: str
    summary: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Judgement:
    findings: list[Finding]
    passed_keys: set[str]  # dedup keys of judged units that passed: their incidents resolve
    unjudged: int  # rows skipped: small parity slices, rows without a verdict


def dedup_key(rule: str, scope: str) -> str:
    """Stable across runs for one rule and unit, so an open incident is found again."""
    key = f"lead-parity/{rule}/{scope}"
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return key[: MAX_DEDUP_KEY - 17] + "~" + digest


def is_slice(row: EvaluationRow) -> bool:
    return any(v not in (None, "", "all") for v in (row.conversion_type, row.origin))


def is_judged(row: EvaluationRow, contract: Contract) -> bool:
    """Small parity slices are judged only inside their day's hop total (SPEC section 6)."""
    if row.passed is None:
        return False
    if row.rule == "parity" and is_slice(row):
        return (row.expected or 0) >= contract.slo.min_slice_volume
    return True


def severity_of(row: EvaluationRow, contract: Contract) -> str:
    if row.rule == "parity" and row.observed is not None:
        # The contract is the authority on the critical level, whatever the writer put in.
        return "critical" if row.observed >= contract.slo.critical_discrepancy_pct else "warning"
    return row.severity if row.severity in ("warning", "critical") else "warning"


def assignment_hops(contract: Contract, conversion_type: str | None) -> list[str]:
    rules = [
        c
        for c in contract.conversions
        if conversion_type in (None, "", "all") or c.conversion_type == conversion_type
    ]
    hops = [h for c in rules for h in c.hops if contract.hop(h).kind == "assignment"]
    return list(dict.fromkeys(hops))


def integration_owner(contract: Contract) -> str:
    """The team that runs the integration layer: the most common owner of record hops.

    Enrichment, dead letters and quarantined input are problems of the layer that moves leads
    between systems, not of one destination; in the default contract that is `platform`.
    """
    owners = [contract.hop(h).owner for h in contract.hop_names if contract.hop(h).kind == "record"]
    if not owners:
        return "data_platform"
    return max(dict.fromkeys(owners), key=owners.count)


def owner_of(row: EvaluationRow, contract: Contract) -> str:
    hop_names = {h.hop for h in contract.hops}
    if row.hop in hop_names:
        return contract.hop(row.hop).owner
    if row.rule in ("median_assignment_latency", "high_intent_unassigned"):
        owners = [contract.hop(h).owner for h in assignment_hops(contract, row.conversion_type)]
        if owners:
            return ",".join(dict.fromkeys(owners))
    if row.rule == "enrichment_success" and row.conversion_type not in (None, "", "all"):
        # Enrichment feeds assignment; the record hop before it is where enriched leads land.
        for conv in contract.conversions:
            if conv.conversion_type != row.conversion_type:
                continue
            for before, hop in zip(conv.hops, conv.hops[1:], strict=False):
                if contract.hop(hop).kind == "assignment":
                    return contract.hop(before).owner
    return integration_owner(contract)


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "?"
    seconds = int(round(value))
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds} s"


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _unit(row: EvaluationRow) -> str:
    parts = []
    if row.conversion_type not in (None, "", "all"):
        parts.append(str(row.conversion_type))
    if row.origin not in (None, "", "all"):
        parts.append(f"from {row.origin}")
    if row.conversion_date is not None:
        parts.append(f"on {row.conversion_date.isoformat()}")
    return " ".join(parts)


def summary_of(row: EvaluationRow) -> str:
    unit = _unit(row)
    unit = f" ({unit})" if unit else ""
    if row.rule == "parity":
        text = (
            f"{row.dropped} of {row.expected} conversions dropped at hop {row.hop}{unit}: "
            f"{_num(round(row.observed, 2) if row.observed is not None else None)}% "
            f"(SLO: below {_num(row.threshold)}%)"
        )
    elif row.rule == "enrichment_success":
        text = f"enrichment success {_num(row.observed)}% below {_num(row.threshold)}%{unit}"
    elif row.rule == "median_assignment_latency":
        text = (
            f"median assignment latency {_fmt_seconds(row.observed)} above "
            f"{_fmt_seconds(row.threshold)}{unit}"
        )
    elif row.rule == "high_intent_unassigned":
        text = f"{_num(row.observed)} high-intent conversion(s) left unassigned{unit}"
    elif row.rule == "dead_letters":
        hop = f" at hop {row.hop}" if row.hop else ""
        text = f"{_num(row.observed)} conversion(s) dead-lettered and not replayed{hop}{unit}"
    elif row.rule == "quarantine":
        text = (
            f"{_num(row.observed)} quarantined input record(s) (tolerated: {_num(row.threshold)})"
        )
    else:
        text = (
            f"{row.rule} breached for {row.scope}: observed {_num(row.observed)}, "
            f"threshold {_num(row.threshold)}"
        )
    return f"lead-parity {row.rule}: {text}"


def advice_of(row: EvaluationRow, severity: str) -> str:
    base = {
        "parity": f"Look at the sample conversions and their root_cause in rpt_dropped_leads; "
        f"fix the {row.hop} hop, then replay the dropped leads.",
        "enrichment_success": "Check the enrichment service and its receipts; assignment waits "
        "on it.",
        "median_assignment_latency": "Check assignment rules and owner capacity for this "
        "conversion type.",
        "high_intent_unassigned": "Assign these high-intent leads now; then check the "
        "assignment rules.",
        "dead_letters": "Fix the cause in the receipts' errors, then replay the dead-letter queue.",
        "quarantine": "Inspect ops.quarantined_records (source, file, reason) and fix the sender.",
    }.get(row.rule, "Investigate the breached unit.")
    if severity == "critical":
        campaign = (
            f"the {row.origin} campaign"
            if row.origin not in (None, "", "all")
            else "the campaigns feeding this unit"
        )
        return f"{CRITICAL_ADVICE.replace('the campaign', campaign)} {base}"
    return base


def finding_of(row: EvaluationRow, contract: Contract) -> Finding:
    severity = severity_of(row, contract)
    discrepancy = row.observed if row.rule == "parity" else None
    if discrepancy is None and row.rule == "parity" and row.expected:
        discrepancy = 100.0 * (row.dropped or 0) / row.expected
    return Finding(
        dedup_key=dedup_key(row.rule, row.scope),
        rule=row.rule,
        scope=row.scope,
        severity=severity,
        conversion_date=row.conversion_date,
        conversion_type=row.conversion_type,
        origin=row.origin,
        hop=row.hop,
        expected=row.expected,
        dropped=row.dropped,
        discrepancy_pct=discrepancy,
        observed=row.observed,
        threshold=row.threshold,
        owner=owner_of(row, contract),
        advice=advice_of(row, severity),
        summary=summary_of(row)[:1000],
        details=row.details,
    )


def judge(rows: Iterable[EvaluationRow], contract: Contract) -> Judgement:
    """Findings (one per breached judged unit, worst row kept) and the units that passed."""
    findings: dict[str, Finding] = {}
    passed: set[str] = set()
    unjudged = 0
    for row in rows:
        if not is_judged(row, contract):
            unjudged += 1
            continue
        key = dedup_key(row.rule, row.scope)
        if row.passed:
            passed.add(key)
            continue
        finding = finding_of(row, contract)
        kept = findings.get(key)
        if kept is None or SEVERITY_RANK[finding.severity] > SEVERITY_RANK[kept.severity]:
            findings[key] = finding
    # A unit listed both as failed and passed (bad writer) stays failed: never resolve on doubt.
    passed -= findings.keys()
    ordered = sorted(findings.values(), key=lambda f: (-SEVERITY_RANK[f.severity], f.dedup_key))
    return Judgement(ordered, passed, unjudged)


def fingerprint(rows: Iterable[EvaluationRow]) -> str:
    """Content hash of an evaluation: tells a replaced evaluation from the one applied."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: (r.rule, r.scope)):
        digest.update(
            json.dumps(
                [
                    row.rule,
                    row.scope,
                    row.passed,
                    row.severity,
                    row.observed,
                    row.threshold,
                    row.expected,
                    row.dropped,
                ]
            ).encode()
        )
    return digest.hexdigest()


def parse_details(raw: object) -> dict:
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        value = json.loads(str(raw))
    except ValueError:
        return {"text": str(raw)}
    return value if isinstance(value, dict) else {"value": value}
