"""Which evaluation rows become incidents, with which severity, owner and advice."""

from dataclasses import replace

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents.rules import (
    EvaluationRow,
    dedup_key,
    episode_scope,
    is_final,
    judge,
)

from .helpers import DAY, at, parity_row


def _row(**kw) -> EvaluationRow:
    raw = parity_row(at(12), **kw)
    return EvaluationRow(**{k: v for k, v in raw.items() if k != "details"})


def test_a_breached_day_hop_total_is_one_warning_owned_by_the_hop_owner():
    contract = load_contract()
    judgement = judge([_row(dropped=8)], contract)  # 2.0 %
    assert len(judgement.findings) == 1
    f = judgement.findings[0]
    assert (f.rule, f.severity, f.owner, f.hop) == ("parity", "warning", "platform", "crm")
    # The episode's scope leaves the date out: the next breached day extends the same incident.
    assert f.dedup_key == "lead-parity/parity/crm|all|all"
    assert f.discrepancy_pct == 2.0 and (f.expected, f.dropped) == (400, 8)
    assert "postmortem" not in f.advice
    assert "8 of 400" in f.summary


def test_at_the_critical_level_the_advice_is_to_pause_and_write_a_postmortem():
    f = judge([_row(dropped=20)], load_contract()).findings[0]  # 5.0 %: at the level
    assert f.severity == "critical"
    assert "Pause the campaigns feeding this unit" in f.advice and "postmortem" in f.advice
    sliced = _row(dropped=20, conversion_type="demo_request", origin="google_ads")
    assert "Pause the google_ads campaign" in judge([sliced], load_contract()).findings[0].advice


def test_a_small_slice_with_one_drop_is_not_judged_alone():
    contract = load_contract()
    small = _row(expected=10, dropped=1, conversion_type="demo_request", origin="google_ads")
    big = _row(expected=30, dropped=1, conversion_type="demo_request", origin="linkedin")
    judgement = judge([small, big], contract)
    assert [f.origin for f in judgement.findings] == ["linkedin"]
    assert judgement.unjudged == 1


def test_severity_and_slice_volume_follow_the_contract_not_the_code():
    base = load_contract()
    stricter = replace(
        base, slo=replace(base.slo, critical_discrepancy_pct=2.0, min_slice_volume=5)
    )
    row = _row(dropped=8)
    assert judge([row], base).findings[0].severity == "warning"
    assert judge([row], stricter).findings[0].severity == "critical"
    small = _row(expected=10, dropped=1, conversion_type="question", origin="direct")
    assert judge([small], base).findings == []
    assert len(judge([small], stricter).findings) == 1


def test_passed_units_are_listed_for_resolution_and_a_unit_never_both_fails_and_passes():
    contract = load_contract()
    ok = _row(dropped=0)
    judgement = judge([ok], contract)
    assert judgement.findings == []
    assert judgement.passed_keys == {dedup_key("parity", episode_scope(ok))}
    bad = _row(dropped=8)
    assert judge([ok, bad], contract).passed_keys == set()


def test_owners_of_rules_without_a_hop_come_from_the_contract():
    contract = load_contract()

    def owner(rule: str, **kw) -> str:
        row = EvaluationRow(
            evaluated_at=at(12),
            rule=rule,
            scope=f"{rule}|x",
            passed=False,
            severity="warning",
            observed=1,
            threshold=0,
            **kw,
        )
        return judge([row], contract).findings[0].owner

    assert owner("median_assignment_latency", conversion_type="demo_request") == "sales_ops"
    assert owner("median_assignment_latency", conversion_type="question") == "support_ops"
    assert owner("high_intent_unassigned") == "sales_ops,support_ops"
    assert owner("enrichment_success", conversion_type="demo_request") == "platform"
    assert owner("enrichment_success") == "platform"
    assert owner("dead_letters", hop="crm") == "platform"
    assert owner("quarantine") == "platform"


def test_a_very_long_scope_still_gives_a_short_stable_dedup_key():
    scope = "2026-10-10|crm|demo_request|" + "x" * 400
    key = dedup_key("parity", scope)
    assert len(key) <= 200 and key == dedup_key("parity", scope)
    assert key != dedup_key("parity", scope + "y")


def test_a_day_is_final_only_once_every_conversion_is_past_the_hops_drop_after():
    contract = load_contract()  # drop_after 24h: a day's last conversion matures a day later
    row = _row(dropped=8)
    assert is_final(replace(row, evaluated_at=at(12, 0)), contract)
    assert not is_final(replace(row, evaluated_at=at(11, 23)), contract)
    judgement = judge([replace(row, evaluated_at=at(11, 23))], contract)
    assert judgement.findings == [] and judgement.units == {} and judgement.provisional == 1


def test_critical_needs_volume_in_the_breaching_unit():
    contract = load_contract()
    tiny_total = _row(expected=3, dropped=1)  # 33 % of a three-conversion day
    assert judge([tiny_total], contract).findings[0].severity == "warning"
    big_total = _row(expected=30, dropped=2)  # 6.7 % of the minimum slice volume
    assert judge([big_total], contract).findings[0].severity == "critical"


def test_days_of_one_scope_are_one_episode_scope_in_date_order():
    contract = load_contract()
    rows = [
        _row(dropped=8, day=DAY.replace(day=9)),
        _row(dropped=0, day=DAY.replace(day=8)),
        _row(dropped=8),
        _row(dropped=8, hop="marketing"),
    ]
    judgement = judge(rows, contract)
    units = judgement.units["lead-parity/parity/crm|all|all"]
    assert [(u.conversion_date.day, u.passed) for u in units] == [
        (8, True),
        (9, False),
        (10, False),
    ]
    assert set(judgement.units) == {
        "lead-parity/parity/crm|all|all",
        "lead-parity/parity/marketing|all|all",
    }


def test_the_contract_keys_of_section_9_have_spec_defaults_and_name_bad_values():
    import pytest
    import yaml

    from lead_parity.contract import DEFAULT_CONTRACT_PATH, ContractError
    from lead_parity.contract.model import parse_contract

    contract = load_contract()
    assert contract.alerting.page_within_s == 2 * 86400
    assert (contract.escalation.owner, contract.escalation.ack_within_s) == ("cro", 1800)
    assert contract.slo.alerting == "daily_breach"
    with open(DEFAULT_CONTRACT_PATH) as f:
        raw = yaml.safe_load(f)
    for key in ("alerting", "escalation"):
        raw.pop(key)  # optional: older contract files still load with the defaults
    raw["slo"].pop("alerting")
    assert parse_contract(raw).escalation.owner == "cro"
    custom = {**raw, "alerting": {"page_within": "36h"}, "escalation": {"owner": "vp_sales"}}
    custom["slo"] = {**raw["slo"], "alerting": "burn_rate"}
    parsed = parse_contract(custom)
    assert parsed.alerting.page_within_s == 36 * 3600 and parsed.slo.alerting == "burn_rate"
    assert parsed.escalation == replace(contract.escalation, owner="vp_sales")
    for bad, key in (
        ({"slo": {**raw["slo"], "alerting": "sometimes"}}, "slo.alerting"),
        ({"alerting": {"page_within": "soon"}}, "alerting.page_within"),
        ({"escalation": {"ack_within": "30m", "pager": "x"}}, "escalation.pager"),
        ({"escalation": {"owner": ""}}, "escalation.owner"),
    ):
        with pytest.raises(ContractError, match=key.replace(".", r"\.")):
            parse_contract({**raw, **bad})
