"""The dashboard's "Remediation" page, run by Streamlit's own test runner: a reject of one hop
and a refused approval (no name, or past the day's cap), each one line, in the SQLite store.
The browser test (tests/readers/test_remediation_page.py) drives the approval itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lead_parity.contract import DEFAULT_CONTRACT_PATH
from lead_parity.readers import dashboard
from lead_parity.readers.dashboard.store_pages import NAME_NEEDED

from .test_senders import planned, proposals

PAGE = Path(dashboard.__file__).with_name("remediation.py")


@pytest.fixture
def batch(tmp_path, monkeypatch):
    store, batch_id = planned(tmp_path / "data", proposals(2, 1), approve=False)
    monkeypatch.setenv("LEAD_PARITY_PUBLISHED", str(tmp_path / "data" / "published"))
    return store, batch_id


def test_reject_one_hop_then_refusals_are_one_line(batch, tmp_path, monkeypatch):
    store, batch_id = batch
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception and at.title[0].value == "Remediation"
    assert at.selectbox(key="remediation_hop").options == ["all hops", "crm", "support"]
    at.text_input(key="remediation_by").set_value("ana")
    at.selectbox(key="remediation_hop").set_value("support")
    at.button[1].click().run()  # Reject
    assert at.success[0].value == f"1 actions of {batch_id} rejected by ana"
    assert {a["hop"]: a["status"] for a in store.actions()} == {"crm": "proposed",
                                                                "support": "rejected"}  # fmt: skip
    at.text_input(key="remediation_by").set_value("")
    at.button[0].click().run()  # Approve, nameless
    assert at.error[0].value == NAME_NEEDED  # as on the incidents and work queue pages
    assert {a["status"] for a in store.actions()} == {"proposed", "rejected"}
    # The contract's daily cap, read as the CLI reads it ($LEAD_PARITY_CONTRACT).
    capped = tmp_path / "contract.yaml"
    text = Path(DEFAULT_CONTRACT_PATH).read_text()
    capped.write_text(text.replace("max_per_day: 500", "max_per_day: 1", 1))
    monkeypatch.setenv("LEAD_PARITY_CONTRACT", str(capped))
    at.text_input(key="remediation_by").set_value("ana")
    at.button[0].click().run()
    assert "would pass remediation.max_per_day 1" in at.error[0].value
    assert {a["status"] for a in store.actions()} == {"proposed", "rejected"}
    assert not at.exception
