"""The playbook's ">5% mismatch: pause campaign, open incident, require postmortem": a critical
final day of a campaign slice sends one campaign_pause_requested event to Slack and the webhook
(never the pager), and its incident resolves only with a postmortem link."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lead_parity.contract import load_contract
from lead_parity.pipeline.incidents import (
    IncidentStore,
    deliver_after_run,
    evaluate_in_run,
    verify_signature,
)
from lead_parity.pipeline.incidents.store import PostmortemRequired

from .helpers import (
    DAY,
    FAST,
    Receiver,
    at,
    dropped_at_crm,
    parity_row,
    read_incidents,
    write_dropped,
    write_evaluation,
)

SIGNING = "whsec_campaign_pause_1"
CAMPAIGN = "spring 'launch'"  # a real campaign name may carry quotes


@pytest.fixture
def receivers():
    started = {name: Receiver().start() for name in ("pd", "slack", "hook")}
    for receiver in started.values():
        receiver.default_status = 202
    yield started
    for receiver in started.values():
        receiver.stop()


@pytest.fixture
def env(receivers) -> dict[str, str]:
    return {
        "LEAD_PARITY_PAGERDUTY_ROUTING_KEY": "R0UTINGkey0123456789abcdef012345",
        "LEAD_PARITY_PAGERDUTY_URL": receivers["pd"].url("/v2/enqueue"),
        "LEAD_PARITY_SLACK_WEBHOOK_URL": receivers["slack"].url("/services/T0/B0/x"),
        "LEAD_PARITY_WEBHOOK_URL": receivers["hook"].url("/hook"),
        "LEAD_PARITY_WEBHOOK_SECRET": SIGNING,
    }


@pytest.fixture
def stack(tmp_path: Path) -> tuple[Path, Path]:
    warehouse = tmp_path / "lead_parity.duckdb"
    write_dropped(warehouse, [{**r, "origin": CAMPAIGN} for r in dropped_at_crm(6, prefix="camp")])
    return warehouse, tmp_path / "history"


def slice_row(evaluated_at, *, expected: int, dropped: int, day=None) -> dict:
    return parity_row(
        evaluated_at, expected=expected, dropped=dropped, day=day,
        conversion_type="demo_request", origin=CAMPAIGN,
    )  # fmt: skip


def cycle(stack, env, rows, evaluated_at, run_id):
    warehouse, history = stack
    write_evaluation(warehouse, rows)
    result, _ = evaluate_in_run(
        warehouse, history, load_contract(), run_url=f"http://x/runs/{run_id}", env=env
    )
    deliver_after_run(warehouse, load_contract(), run_id=run_id, env=env, settings=FAST)
    return result


def pause_requests(receiver: Receiver) -> list[dict]:
    return [
        r.json() for r in receiver.accepted()
        if r.json().get("event_type") == "campaign_pause_requested"
    ]  # fmt: skip


def test_a_critical_campaign_day_asks_to_pause_it_once_and_never_pages_for_it(
    stack, env, receivers
):
    # 6 of 60 expected (10 %) on a campaign slice, with min_slice_volume 30 met.
    result = cycle(stack, env, [slice_row(at(12), expected=60, dropped=6)], at(12), "r1")
    assert len(result.pause_requested) == 1
    (inc,) = read_incidents(stack[0])
    assert inc["severity"] == "critical" and inc["origin"] == CAMPAIGN
    assert inc["postmortem_required"] is True and inc["postmortem_url"] is None

    (hook,) = pause_requests(receivers["hook"])
    assert hook["campaign"]["origin"] == CAMPAIGN
    assert (hook["campaign"]["expected"], hook["campaign"]["dropped"]) == (60, 6)
    assert hook["campaign"]["sample_conversion_ids"][0].startswith("camp'")
    assert hook["incident"]["incident_id"] == inc["incident_id"]
    signed = next(r for r in receivers["hook"].accepted() if b"campaign_pause" in r.body)
    assert verify_signature(signed.body, signed.headers["X-Lead-Parity-Signature"], SIGNING)
    slack = [r.json()["text"] for r in receivers["slack"].accepted()]
    pause = [t for t in slack if "Pause campaign" in t]
    assert len(pause) == 1 and CAMPAIGN in pause[0] and "--postmortem URL" in pause[0]
    # The pager got the critical trigger; the pause request is for people in chat only.
    assert all("campaign" not in r.json() for r in receivers["pd"].accepted())

    # The next critical day extends the episode: no second pause request.
    again = cycle(
        stack, env,
        [slice_row(at(13), expected=60, dropped=6, day=DAY.replace(day=11))], at(13), "r2",
    )  # fmt: skip
    assert again.pause_requested == []
    assert len(pause_requests(receivers["hook"])) == 1


def test_a_slice_below_the_volume_floor_or_the_day_total_asks_for_no_pause(stack, env):
    small = cycle(stack, env, [slice_row(at(12), expected=20, dropped=6)], at(12), "r1")
    assert small.pause_requested == []  # 30 % of 20: a warning at most, no campaign pause
    total = parity_row(at(13), expected=400, dropped=40, day=DAY.replace(day=11))
    assert cycle(stack, env, [total], at(13), "r2").pause_requested == []
    assert read_incidents(stack[0])[-1]["postmortem_required"] is False


def test_its_incident_resolves_only_with_a_postmortem_link(stack, env):
    cycle(stack, env, [slice_row(at(12), expected=60, dropped=6)], at(12), "r1")
    store = IncidentStore.in_history(stack[1])
    (inc,) = store.incidents()
    with pytest.raises(PostmortemRequired):
        store.resolve(inc["incident_id"], by="maria", note=None, sinks=[])

    # Recovery on the next final day does not close it behind the postmortem's back.
    ok = slice_row(at(13), expected=60, dropped=0, day=DAY.replace(day=11))
    recovered = cycle(stack, env, [ok], at(13), "r2")
    assert recovered.resolved == [] and store.incident(inc["incident_id"])["status"] == "open"
    actions = [e["action"] for e in store.history(inc["incident_id"])]
    assert actions.count("campaign_pause_requested") == 1 and actions.count("recovered") == 1

    cli = [sys.executable, "-m", "lead_parity.cli.main", "incidents", "resolve",
           inc["incident_id"], "--warehouse", str(stack[0]), "--by", "maria"]  # fmt: skip
    refused = subprocess.run(cli, capture_output=True, text=True, timeout=120, env=env)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "--postmortem URL" in refused.stderr
    bad = subprocess.run([*cli, "--postmortem", "wiki page"], capture_output=True, text=True,
                         timeout=120, env=env)  # fmt: skip
    assert bad.returncode == 2 and "http(s) URL" in bad.stderr
    url = "https://wiki.example/postmortems/2026-10-10-spring"
    done = subprocess.run([*cli, "--postmortem", url], capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    resolved = store.incident(inc["incident_id"])
    assert resolved["status"] == "resolved" and resolved["postmortem_url"] == url
    assert resolved["resolved_by"] == "maria"
