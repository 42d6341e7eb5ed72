"""Typed routing contract with validation errors that name the offending key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from lead_parity.contract.checks import (
    ContractError,
    is_finite_number,
    read_contract_text,
    show,
)

# Each hop name maps to a matching rule of SPEC section 5; a contract may reorder, drop or re-time
# hops, but it cannot invent a hop the models have no rule for.
HOP_RULES: dict[str, dict[str, str]] = {
    "marketing": {"kind": "record", "system": "hubspot_forms"},
    "crm": {"kind": "record", "system": "hubspot_contacts"},
    "crm_assignment": {"kind": "assignment", "system": "hubspot_contacts"},
    "support": {"kind": "record", "system": "zendesk_tickets"},
    "support_assignment": {"kind": "assignment", "system": "zendesk_tickets"},
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_duration(value: object, key: str) -> int:
    """Seconds in '24h', '5m', '30s', '1d' or a bare number of seconds."""
    if is_finite_number(value) and value >= 0:
        return int(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match:
        raise ContractError(
            f"contract key {key}: {show(value)} is not a duration like 24h, 5m or 30s"
        )
    return int(float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass(frozen=True)
class ConversionRule:
    event_name: str
    conversion_type: str
    hops: tuple[str, ...]
    value_usd: float


@dataclass(frozen=True)
class HopRule:
    hop: str
    drop_after_s: int
    sla_s: int
    owner: str

    @property
    def kind(self) -> str:
        return HOP_RULES[self.hop]["kind"]

    @property
    def system(self) -> str:
        return HOP_RULES[self.hop]["system"]


@dataclass(frozen=True)
class SloRule:
    parity_discrepancy_pct: float = 1.0
    critical_discrepancy_pct: float = 5.0
    min_slice_volume: int = 30
    enrichment_success_pct: float = 99.0
    median_assignment_latency_s: int = 300
    high_intent_score: float = 80
    high_intent_unassigned_after_s: int = 1800
    quarantined_records: int = 0
    alerting: str = "daily_breach"  # or burn_rate: page on the parity error budget's burn


ALERTING_MODES = ("daily_breach", "burn_rate")


@dataclass(frozen=True)
class AlertingRule:
    """SPEC section 9: breaches older than page_within go to the run's digest, not a pager."""

    page_within_s: int = 2 * 86400


@dataclass(frozen=True)
class EscalationRule:
    """Who hears about a critical incident nobody acknowledged within ack_within."""

    owner: str = "cro"
    ack_within_s: int = 1800


# Where each source folder of SPEC section 2 may come from instead of files: the table layouts
# the loaders write (docs/warehouse-inputs.md). Receipts are our own format: files only.
INPUT_KINDS: dict[str, tuple[str, ...]] = {
    "segment": ("files", "segment_warehouse"),
    "hubspot_forms": ("files", "fivetran_hubspot", "airbyte_hubspot"),
    "hubspot_contacts": ("files", "fivetran_hubspot", "airbyte_hubspot"),
    "zendesk_tickets": ("files", "fivetran_zendesk", "airbyte_zendesk"),
    "zendesk_users": ("files",),
    "receipts": ("files",),
}


@dataclass(frozen=True)
class SourceInput:
    """How one source is read: `files` (the input folder) or a loader's tables at `path`."""

    kind: str = "files"
    path: str | None = None  # a Parquet folder, a DuckDB file, or postgres:<libpq dsn>
    schema: str | None = None  # DuckDB/Postgres schema holding the tables (default main/public)


@dataclass(frozen=True)
class RemediationRule:
    """How many re-sent leads one approved batch and one UTC day may carry (docs/remediation.md)."""

    max_per_batch: int = 100
    max_per_day: int = 500


@dataclass(frozen=True)
class TelemetryRule:
    """Thresholds of the playbook's telemetry checks and early warnings (docs/telemetry.md)."""

    lead_id_coverage_pct: float = 90.0  # warn when fewer of a day's conversions carry a lead_id
    rate_limit_spike_ratio: float = 3.0  # 429 share this many times the destination's baseline
    enrichment_p95_degradation_ratio: float = 2.0  # P95 latency vs its trailing median
    anomaly_fdr: float = 0.01  # Benjamini-Hochberg level across one day's drop-rate tests
    anomaly_baseline_weeks: int = 4  # same weekday of this many previous weeks
    roi_baseline_week: str | None = None  # ISO date of the week's Monday; None: first 4 weeks


@dataclass(frozen=True)
class Contract:
    conversions: tuple[ConversionRule, ...]
    hops: tuple[HopRule, ...]
    match_window_s: int
    role_accounts: tuple[str, ...]
    shared_device_emails: int
    slo: SloRule = field(default_factory=SloRule)
    source: str = "<default>"
    alerting: AlertingRule = field(default_factory=AlertingRule)
    escalation: EscalationRule = field(default_factory=EscalationRule)
    remediation: RemediationRule = field(default_factory=RemediationRule)
    sources: dict[str, SourceInput] = field(default_factory=dict)

    def source_input(self, name: str) -> SourceInput:
        return self.sources.get(name, SourceInput())

    telemetry: TelemetryRule = field(default_factory=TelemetryRule)

    def hop(self, name: str) -> HopRule:
        return next(h for h in self.hops if h.hop == name)

    @property
    def hop_names(self) -> list[str]:
        """Every hop used by a conversion, in first-seen chain order (one column each in marts)."""
        seen: list[str] = []
        for rule in self.conversions:
            seen.extend(h for h in rule.hops if h not in seen)
        return seen


def _only_keys(spec: dict, key: str, known: tuple[str, ...]) -> None:
    # A misspelt optional key would otherwise be ignored and its default used without a word.
    for name in spec:
        if name not in known:
            raise ContractError(
                f"contract key {key}.{name}: unknown setting (known: {', '.join(known)})"
            )


def _mapping(value: object, key: str) -> dict:
    if not isinstance(value, dict):
        raise ContractError(f"contract key {key}: expected a mapping, got {type(value).__name__}")
    return value


def _number(value: object, key: str, *, integer: bool = False) -> float:
    if not is_finite_number(value) or value < 0:
        raise ContractError(f"contract key {key}: {show(value)} is not a non-negative number")
    if integer and int(value) != value:
        raise ContractError(f"contract key {key}: {show(value)} is not a whole number")
    return int(value) if integer else float(value)


def _conversions(raw: object) -> tuple[ConversionRule, ...]:
    rules = []
    types_seen: set[str] = set()
    for event, spec in _mapping(raw, "conversions").items():
        key = f"conversions.{event}"
        if not isinstance(event, str) or not event.strip():
            raise ContractError(f"contract key {key}: {show(event)} is not a Segment event name")
        spec = _mapping(spec, key)
        _only_keys(spec, key, ("type", "hops", "value_usd"))
        for required in ("type", "hops"):
            if required not in spec:
                raise ContractError(f"contract key {key}.{required}: missing")
        ctype = spec["type"]
        if not isinstance(ctype, str) or not _IDENTIFIER.match(ctype):
            raise ContractError(
                f"contract key {key}.type: {show(ctype)} must be a lower_snake name"
            )
        if ctype in types_seen:
            raise ContractError(f"contract key {key}.type: {show(ctype)} is used by two events")
        types_seen.add(ctype)
        hops = spec["hops"]
        if not isinstance(hops, list) or not hops:
            raise ContractError(f"contract key {key}.hops: expected a non-empty list of hops")
        for i, hop in enumerate(hops):
            # A nested list or mapping is not a hop name (and cannot be looked up as one).
            if not isinstance(hop, str) or hop not in HOP_RULES:
                known = ", ".join(HOP_RULES)
                what = "unknown hop" if isinstance(hop, str) else "not a hop name:"
                raise ContractError(f"contract key {key}.hops[{i}]: {what} {show(hop)} ({known})")
        if len(set(hops)) != len(hops):
            raise ContractError(f"contract key {key}.hops: a hop is listed twice")
        value = _number(spec.get("value_usd", 0), f"{key}.value_usd")
        rules.append(ConversionRule(str(event), ctype, tuple(hops), value))
    if not rules:
        raise ContractError("contract key conversions: at least one conversion event is required")
    return tuple(rules)


def _hops(raw: object, used: list[str]) -> tuple[HopRule, ...]:
    raw = _mapping(raw, "hops")
    rules = []
    for hop, spec in raw.items():
        key = f"hops.{hop}"
        if not isinstance(hop, str) or hop not in HOP_RULES:
            raise ContractError(f"contract key {key}: unknown hop (known: {', '.join(HOP_RULES)})")
        spec = _mapping(spec, key)
        _only_keys(spec, key, ("drop_after", "sla", "owner"))
        for required in ("drop_after", "sla", "owner"):
            if required not in spec:
                raise ContractError(f"contract key {key}.{required}: missing")
        owner = spec["owner"]
        if not isinstance(owner, str) or not owner.strip():
            raise ContractError(f"contract key {key}.owner: {show(owner)} is not a name")
        rules.append(
            HopRule(
                hop=hop,
                drop_after_s=parse_duration(spec["drop_after"], f"{key}.drop_after"),
                sla_s=parse_duration(spec["sla"], f"{key}.sla"),
                owner=str(spec["owner"]),
            )
        )
    for hop in used:
        if hop not in raw:
            raise ContractError(f"contract key hops.{hop}: used by a conversion but not defined")
    return tuple(rules)


def _slo(raw: object) -> SloRule:
    raw = _mapping(raw or {}, "slo")
    defaults = SloRule()
    known = {
        "parity_discrepancy_pct", "critical_discrepancy_pct", "min_slice_volume",
        "enrichment_success_pct", "median_assignment_latency", "high_intent_score",
        "high_intent_unassigned_after", "quarantined_records", "alerting",
    }  # fmt: skip
    for key in raw:
        if key not in known:
            raise ContractError(f"contract key slo.{key}: unknown setting")

    def num(name: str, default: float, integer: bool = False) -> float:
        value = _number(raw.get(name, default), f"slo.{name}", integer=integer)
        if (name.endswith("_pct") or name == "high_intent_score") and value > 100:
            raise ContractError(f"contract key slo.{name}: {show(value)} is above 100")
        return value

    def dur(name: str, default: int) -> int:
        return parse_duration(raw[name], f"slo.{name}") if name in raw else default

    return SloRule(
        parity_discrepancy_pct=num("parity_discrepancy_pct", defaults.parity_discrepancy_pct),
        critical_discrepancy_pct=num("critical_discrepancy_pct", defaults.critical_discrepancy_pct),
        min_slice_volume=num("min_slice_volume", defaults.min_slice_volume, integer=True),
        enrichment_success_pct=num("enrichment_success_pct", defaults.enrichment_success_pct),
        median_assignment_latency_s=dur(
            "median_assignment_latency", defaults.median_assignment_latency_s
        ),
        high_intent_score=num("high_intent_score", defaults.high_intent_score),
        high_intent_unassigned_after_s=dur(
            "high_intent_unassigned_after", defaults.high_intent_unassigned_after_s
        ),
        quarantined_records=num("quarantined_records", defaults.quarantined_records, integer=True),
        alerting=_choice(raw.get("alerting", defaults.alerting), "slo.alerting", ALERTING_MODES),
    )


def _choice(value: object, key: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ContractError(f"contract key {key}: {show(value)} is not one of {', '.join(allowed)}")
    return value


def _alerting(raw: object) -> AlertingRule:
    raw = _mapping(raw or {}, "alerting")
    _only_keys(raw, "alerting", ("page_within",))
    default = AlertingRule().page_within_s
    return AlertingRule(
        page_within_s=parse_duration(raw.get("page_within", default), "alerting.page_within")
    )


def _escalation(raw: object) -> EscalationRule:
    raw = _mapping(raw or {}, "escalation")
    _only_keys(raw, "escalation", ("owner", "ack_within"))
    defaults = EscalationRule()
    owner = raw.get("owner", defaults.owner)
    if not isinstance(owner, str) or not owner.strip():
        raise ContractError(f"contract key escalation.owner: {show(owner)} is not a team name")
    ack = raw.get("ack_within", defaults.ack_within_s)
    return EscalationRule(
        owner=owner.strip(), ack_within_s=parse_duration(ack, "escalation.ack_within")
    )


def _telemetry(raw: object) -> TelemetryRule:
    raw = _mapping(raw or {}, "telemetry")
    defaults = TelemetryRule()
    _only_keys(raw, "telemetry", tuple(defaults.__dataclass_fields__))
    values: dict = {}
    for name in ("lead_id_coverage_pct", "anomaly_fdr"):
        value = _number(raw.get(name, getattr(defaults, name)), f"telemetry.{name}")
        limit = 100 if name.endswith("_pct") else 1
        if value > limit:
            raise ContractError(f"contract key telemetry.{name}: {show(value)} is above {limit}")
        values[name] = value
    for name in ("rate_limit_spike_ratio", "enrichment_p95_degradation_ratio"):
        value = _number(raw.get(name, getattr(defaults, name)), f"telemetry.{name}")
        if value < 1:
            raise ContractError(f"contract key telemetry.{name}: {show(value)} is below 1")
        values[name] = value
    weeks = _number(
        raw.get("anomaly_baseline_weeks", defaults.anomaly_baseline_weeks),
        "telemetry.anomaly_baseline_weeks",
        integer=True,
    )
    if weeks < 1:
        raise ContractError("contract key telemetry.anomaly_baseline_weeks: must be at least 1")
    values["anomaly_baseline_weeks"] = int(weeks)
    week = raw.get("roi_baseline_week")
    if week is not None:
        try:
            monday = date.fromisoformat(str(week))
        except ValueError:
            raise ContractError(
                f"contract key telemetry.roi_baseline_week: {show(week)} is not a date like "
                "2026-10-05"
            ) from None
        if monday.weekday() != 0:
            raise ContractError(
                f"contract key telemetry.roi_baseline_week: {monday.isoformat()} is not a Monday"
            )
        week = monday.isoformat()
    values["roi_baseline_week"] = week
    return TelemetryRule(**values)


def _remediation(raw: object) -> RemediationRule:
    raw = _mapping(raw or {}, "remediation")
    _only_keys(raw, "remediation", ("max_per_batch", "max_per_day"))
    defaults = RemediationRule()
    values = {}
    for name in ("max_per_batch", "max_per_day"):
        value = int(
            _number(raw.get(name, getattr(defaults, name)), f"remediation.{name}", integer=True)
        )
        if value < 1:
            raise ContractError(f"contract key remediation.{name}: must be at least 1")
        values[name] = value
    return RemediationRule(**values)


def _sources(raw: object, base: Path | None) -> dict[str, SourceInput]:
    raw = _mapping(raw or {}, "sources")
    inputs = {}
    for name, spec in raw.items():
        key = f"sources.{name}"
        if name not in INPUT_KINDS:
            raise ContractError(
                f"contract key {key}: unknown source (known: {', '.join(INPUT_KINDS)})"
            )
        spec = _mapping(spec, key)
        _only_keys(spec, key, ("kind", "path", "schema"))
        kind = _choice(spec.get("kind", "files"), f"{key}.kind", INPUT_KINDS[name])
        path, schema = spec.get("path"), spec.get("schema")
        if kind == "files":
            if path is not None or schema is not None:
                raise ContractError(f"contract key {key}: kind files reads the input folder")
            inputs[name] = SourceInput()
            continue
        if not isinstance(path, str) or not path.strip():
            raise ContractError(f"contract key {key}.path: kind {kind} needs the tables' path")
        if schema is not None and (not isinstance(schema, str) or not schema.strip()):
            raise ContractError(f"contract key {key}.schema: {show(schema)} is not a schema name")
        path = path.strip()
        # A relative path is the contract's neighbour, wherever the run was started from.
        if not path.startswith("postgres:") and base is not None and not Path(path).is_absolute():
            path = str(base / path)
        inputs[name] = SourceInput(kind, path, schema.strip() if schema else None)
    return inputs


def parse_contract(raw: object, source: str = "<memory>", base: Path | None = None) -> Contract:
    raw = _mapping(raw, "(top level)")
    for key in raw:
        if key not in {
            "conversions", "hops", "match_window", "identity", "slo", "alerting", "escalation",
            "remediation",
            "sources",
            "telemetry",
        }:  # fmt: skip
            raise ContractError(f"contract key {key}: unknown top-level key")
    for required in ("conversions", "hops"):
        if required not in raw:
            raise ContractError(f"contract key {required}: missing")
    conversions = _conversions(raw["conversions"])
    used = [h for rule in conversions for h in rule.hops]
    identity = _mapping(raw.get("identity") or {}, "identity")
    _only_keys(identity, "identity", ("role_accounts", "shared_device_emails"))
    role_accounts = identity.get("role_accounts", [])
    if not isinstance(role_accounts, list) or not all(isinstance(r, str) for r in role_accounts):
        raise ContractError("contract key identity.role_accounts: expected a list of strings")
    shared = identity.get("shared_device_emails", 3)
    shared_n = _number(shared, "identity.shared_device_emails", integer=True)
    if shared_n < 2:
        raise ContractError("contract key identity.shared_device_emails: must be at least 2")
    return Contract(
        conversions=conversions,
        hops=_hops(raw["hops"], used),
        match_window_s=parse_duration(raw.get("match_window", "10m"), "match_window"),
        role_accounts=tuple(r.strip().lower() for r in role_accounts),
        shared_device_emails=int(shared_n),
        slo=_slo(raw.get("slo")),
        source=source,
        alerting=_alerting(raw.get("alerting")),
        escalation=_escalation(raw.get("escalation")),
        remediation=_remediation(raw.get("remediation")),
        sources=_sources(raw.get("sources"), base),
        telemetry=_telemetry(raw.get("telemetry")),
    )


def load_contract(path: str | Path | None = None) -> Contract:
    """The contract at `path` (default: the shipped SPEC defaults), validated."""
    from lead_parity.contract import DEFAULT_CONTRACT_PATH

    path = Path(path or DEFAULT_CONTRACT_PATH)
    text = read_contract_text(path)
    try:
        raw = yaml.safe_load(text)
    except RecursionError:
        raise ContractError(f"contract {path} is nested too deeply to be a contract") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ContractError(f"contract {path} is not valid YAML{where}: {problem}") from None
    try:
        return parse_contract(raw, source=str(path), base=path.resolve().parent)
    except ContractError as exc:
        raise ContractError(f"{path}: {exc}") from None
