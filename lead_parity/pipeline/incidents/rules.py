"""Incident rules: which SLO evaluation rows become incidents, with owner, severity and advice.

Input is one evaluation of `ops.slo_evaluations` (one row per rule and judged unit). Only
*final* units count (SPEC section 9: no conversion of that date can still turn pending); a failed
final unit is a *finding*, a passed one is proof that its scope recovered. Units are grouped by
their *episode scope* (rule + hop + slice, the date left out): the store turns consecutive
breached final days of one scope into one incident. Everything here is pure: no I/O, so the rules
are tested on plain rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

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
    """A breached, judged, final unit of one evaluation: the stuff an incident is made of."""

    dedup_key: str  # of the episode scope: the same for every day of one rule, hop and slice
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
class Unit:
    """One final judged unit of an episode scope: its day, verdict, and finding when breached."""

    conversion_date: date | None
    passed: bool
    finding: Finding | None
    worth: float = 0.0  # how bad, to keep an episode's worst figures (higher is worse)


@dataclass(frozen=True)
class Judgement:
    units: dict[str, list[Unit]]  # episode dedup key -> final units, oldest first
    provisional: int  # judged units not final yet: shown in marts, never an incident
    unjudged: int  # rows skipped: small parity slices, rows without a verdict

    @property
    def findings(self) -> list[Finding]:
        """The breached final units, worst severity first."""
        found = [u.finding for units in self.units.values() for u in units if u.finding]
        return sorted(found, key=lambda f: (-SEVERITY_RANK[f.severity], f.dedup_key))

    @property
    def passed_keys(self) -> set[str]:
        """Episode scopes whose latest final unit passed."""
        return {key for key, units in self.units.items() if units and units[-1].passed}


def dedup_key(rule: str, scope: str) -> str:
    """Stable across runs for one rule and unit, so an open incident is found again."""
    key = f"lead-parity/{rule}/{scope}"
    if len(key) <= MAX_DEDUP_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return key[: MAX_DEDUP_KEY - 17] + "~" + digest


def episode_scope(row: EvaluationRow) -> str:
    """The unit's scope with its date left out: rule + hop + slice name one episode's scope."""
    if row.conversion_date is None:
        return row.scope
    day = row.conversion_date.isoformat()
    parts = [p for p in row.scope.split("|") if p != day]
    return "|".join(parts) or "all"


def final_at(row: EvaluationRow, contract: Contract) -> datetime | None:
    """When every conversion of the unit's date is past its hop's drop_after (SPEC section 9).

    Rules without a hop wait for the longest drop_after of the contract; a unit without a date
    (quarantined input) is always final.
    """
    if row.conversion_date is None:
        return None
    names = {h.hop for h in contract.hops}
    wait = (
        contract.hop(row.hop).drop_after_s
        if row.hop in names
        else max((h.drop_after_s for h in contract.hops), default=0)
    )
    day_end = datetime.combine(row.conversion_date, time(), tzinfo=row.evaluated_at.tzinfo)
    return day_end + timedelta(days=1, seconds=wait)


def is_final(row: EvaluationRow, contract: Contract) -> bool:
    at = final_at(row, contract)
    return at is None or row.evaluated_at >= at


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
        level = "critical" if row.observed >= contract.slo.critical_discrepancy_pct else "warning"
    else:
        level = row.severity if row.severity in ("warning", "critical") else "warning"
    if level == "critical" and (row.expected or 0) < contract.slo.min_slice_volume:
        # One drop among three conversions is 33 %, and still noise: critical needs volume.
        return "warning"
    return level


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
    elif row.rule == "parity_burn":
        alert = row.details.get("burn_alert") or "ok"
        left = row.details.get("budget_remaining_pct")
        left_text = "" if left is None else f"; {_num(round(left, 1))}% of the 28-day budget left"
        text = (
            f"parity error budget of hop {row.hop} burning at "
            f"{_num(round(row.observed, 1) if row.observed is not None else None)}x "
            f"({'fast burn, page' if alert == 'page' else 'slow burn, ticket'}){unit}{left_text}"
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
    elif row.rule == "remediation":
        text = (
            f"{_num(row.observed)} re-sent lead(s) not seen at hop {row.hop} two runs after "
            f"lead-parity remediate sent them"
        )
    elif row.rule == "drop_anomaly":
        p_value = row.details.get("p_value")
        p_text = "" if p_value is None else f", p={p_value:.2g}"
        text = (
            f"{row.dropped} of {row.expected} conversions dropped at hop {row.hop}{unit}: "
            f"{_num(round(row.observed, 2) if row.observed is not None else None)}% against "
            f"{_num(round(row.threshold, 2) if row.threshold is not None else None)}% on the "
            f"same weekday of past weeks{p_text} (early warning, below any SLO)"
        )
    elif row.rule == "dead_letter_rising":
        text = (
            f"dead letters rising at hop {row.hop}{unit}: {row.dropped} per {row.expected} "
            f"attempts ({_num(round(row.observed or 0, 2))}%) against "
            f"{_num(round(row.threshold or 0, 2))}% over the previous 14 days"
        )
    elif row.rule == "new_root_cause":
        cause = row.details.get("root_cause", "?")
        text = (
            f"root cause {cause} drops conversions at hop {row.hop} for the first time{unit} "
            f"({_num(row.observed)} conversion(s))"
        )
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
        "parity_burn": f"The {row.hop} hop is spending its parity error budget too fast: look "
        f"at the dropped leads of the last days in rpt_dropped_leads and their root_cause, fix "
        f"the hop, then replay them.",
        "enrichment_success": "Check the enrichment service and its receipts; assignment waits "
        "on it.",
        "median_assignment_latency": "Check assignment rules and owner capacity for this "
        "conversion type.",
        "high_intent_unassigned": "Assign these high-intent leads now; then check the "
        "assignment rules.",
        "dead_letters": "Fix the cause in the receipts' errors, then replay the dead-letter queue.",
        "quarantine": "Inspect ops.quarantined_records (source, file, reason) and fix the sender.",
        "remediation": "Look at ops.remediation_queue (status failed) and "
        "ops.remediation_attempts; check the vendor for the objects, then handle these leads "
        "by hand (docs/remediation.md).",
        "drop_anomaly": f"A leak may be starting at the {row.hop} hop for this slice before any "
        "SLO breaks: look at the sample conversions and their root_cause in rpt_dropped_leads.",
        "dead_letter_rising": "Read the errors of the hop's failed receipts and fix the cause "
        "before the dead-letter queue grows further; then replay it.",
        "new_root_cause": f"A new way of dropping leads appeared at the {row.hop} hop: look at "
        "the sample conversions in rpt_dropped_leads and find what changed.",
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
    if discrepancy is None and row.rule in ("parity", "parity_burn") and row.expected:
        discrepancy = 100.0 * (row.dropped or 0) / row.expected
    return Finding(
        dedup_key=dedup_key(row.rule, episode_scope(row)),
        rule=row.rule,
        scope=episode_scope(row),
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


def worth_of(row: EvaluationRow) -> float:
    """How far off a unit is, comparable within one rule (enrichment is a floor)."""
    value = row.observed if row.observed is not None else 0.0
    return -value if row.rule == "enrichment_success" else value


def judge(rows: Iterable[EvaluationRow], contract: Contract) -> Judgement:
    """Final judged units per episode scope, oldest first (one per day; the worst row kept)."""
    by_scope: dict[str, dict[date | None, Unit]] = {}
    provisional = unjudged = 0
    for row in rows:
        if not is_judged(row, contract):
            unjudged += 1
            continue
        if not is_final(row, contract):
            provisional += 1
            continue
        key = dedup_key(row.rule, episode_scope(row))
        finding = None if row.passed else finding_of(row, contract)
        unit = Unit(row.conversion_date, bool(row.passed), finding, worth_of(row))
        days = by_scope.setdefault(key, {})
        kept = days.get(row.conversion_date)
        # Two rows for one unit (a bad writer): a breach wins, never resolve on doubt.
        if kept is None or _rank(unit) > _rank(kept):
            days[row.conversion_date] = unit
    units = {
        key: sorted(days.values(), key=lambda u: u.conversion_date or date.min)
        for key, days in sorted(by_scope.items())
    }
    return Judgement(units, provisional, unjudged)


def _rank(unit: Unit) -> tuple[int, float]:
    severity = SEVERITY_RANK[unit.finding.severity] if unit.finding else 0
    return severity, unit.worth


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
