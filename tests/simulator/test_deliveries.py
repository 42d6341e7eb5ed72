"""The delivery sequences the soak and the Spark check run (lead_parity.simulator.deliveries):
every input file arrives, a contacts page changes in place, a file comes twice, and the same
seed gives the same plan."""

from __future__ import annotations

import json

import pytest

from lead_parity.simulator import simulate
from lead_parity.simulator.deliveries import deliver, input_files, plan_deliveries


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deliveries") / "stack"
    simulate(folder, leads=60, days=3, seed=4)
    return folder


@pytest.mark.parametrize("runs", [2, 4, 40])
def test_the_last_run_leaves_every_input_file_as_the_stack_has_it(stack, tmp_path, runs):
    plan = plan_deliveries(stack, runs, seed=9)
    assert len(plan) == runs
    inbox = tmp_path / "input"
    for step in plan:
        deliver(stack, inbox, step)
    resent = [p for p in input_files(inbox) if "resent-" in p]
    assert sorted(set(input_files(inbox)) - set(resent)) == input_files(stack)
    for rel in input_files(stack):
        assert (inbox / rel).read_bytes() == (stack / rel).read_bytes(), rel
    for copy in resent:  # one, unless every file came on the last run
        assert (inbox / copy).read_bytes() == (stack / copy.replace("resent-", "")).read_bytes()
    assert len(resent) == 1 or runs > len(input_files(stack))
    assert not list(inbox.rglob(".*.part"))


def test_a_contacts_page_arrives_short_first_and_whole_last(stack, tmp_path):
    first, *_, last = plan_deliveries(stack, 3, seed=9)
    [short] = [d for d in first if d.short]
    assert short.path.startswith("hubspot_contacts/")
    assert short.path in [d.path for d in last if not d.short]
    deliver(stack, tmp_path, first)
    whole = json.loads((stack / short.path).read_text())
    assert json.loads((tmp_path / short.path).read_text()) == {
        **whole,
        "results": whole["results"][:1],
    }
    assert len(whole["results"]) > 1


def test_the_same_seed_gives_the_same_plan_and_another_seed_another(stack):
    assert plan_deliveries(stack, 4, seed=1) == plan_deliveries(stack, 4, seed=1)
    assert plan_deliveries(stack, 4, seed=1) != plan_deliveries(stack, 4, seed=2)
    with pytest.raises(ValueError, match="at least two runs"):
        plan_deliveries(stack, 1, seed=1)
