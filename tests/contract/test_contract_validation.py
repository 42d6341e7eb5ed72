"""A bad contract is refused before any work starts: one line naming the problem, exit 2."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lead_parity.contract import DEFAULT_CONTRACT_PATH, ContractError, load_contract

CLI = [sys.executable, "-m", "lead_parity.cli.main"]
GOOD_HOPS = "hops:\n  support: {drop_after: 24h, sla: 5m, owner: platform}\n"
ONE_CONVERSION = "conversions:\n  Question Asked: {type: question, hops: [support]}\n"


def with_slo(line: str) -> str:
    return ONE_CONVERSION + GOOD_HOPS + "slo:\n  " + line + "\n"


TELEMETRY = ONE_CONVERSION + GOOD_HOPS + "telemetry:\n  "
CASES = [
    pytest.param(
        ONE_CONVERSION
        + GOOD_HOPS
        + "sources:\n  zendesk_tickets: {kind: fivetran_hubspot, path: x}\n",
        "sources.zendesk_tickets.kind: 'fivetran_hubspot' is not one of files, fivetran_zendesk",
        id="loader-kind-of-another-system",
    ),
    pytest.param(
        TELEMETRY + "roi_baseline_week: 2026-10-07\n",
        "telemetry.roi_baseline_week: 2026-10-07 is not a Monday",
        id="roi-baseline-not-a-monday",
    ),
    pytest.param(TELEMETRY + "anomaly_fdr: 5\n", "telemetry.anomaly_fdr: 5", id="fdr-above-one"),
    pytest.param(
        TELEMETRY + "lead_id_coverage: 90\n",
        "telemetry.lead_id_coverage: unknown setting",
        id="telemetry-misspelt-key",
    ),
    pytest.param(
        ONE_CONVERSION.replace("[support]", "[[support, crm]]") + GOOD_HOPS,
        "conversions.Question Asked.hops[0]: not a hop name: ['support', 'crm']",
        id="nested-list-in-hops",
    ),
    pytest.param(
        ONE_CONVERSION.replace("[support]", "[{support: 1}]") + GOOD_HOPS,
        "hops[0]: not a hop name",
        id="mapping-in-hops",
    ),
    pytest.param(
        ONE_CONVERSION.replace("[support]", "[support, billing]") + GOOD_HOPS,
        "hops[1]: unknown hop 'billing'",
        id="unknown-hop",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS + "  billing: {drop_after: 1h, sla: 5m, owner: x}\n",
        "hops.billing: unknown hop",
        id="unknown-hop-definition",
    ),
    pytest.param(
        with_slo("parity_discrepancy_pct: .nan"), "slo.parity_discrepancy_pct: nan", id="nan"
    ),
    pytest.param(
        with_slo("critical_discrepancy_pct: .inf"), "critical_discrepancy_pct: inf", id="inf"
    ),
    pytest.param(
        with_slo("enrichment_success_pct: -.inf"), "enrichment_success_pct: -inf", id="-inf"
    ),
    pytest.param(with_slo("min_slice_volume: -3"), "slo.min_slice_volume: -3", id="negative"),
    pytest.param(with_slo("min_slice_volume: 2.5"), "not a whole number", id="fraction"),
    pytest.param(with_slo("parity_discrepancy_pct: 250"), "above 100", id="pct-over-100"),
    pytest.param(
        with_slo("parity_discrepancy_pct: 'high'"), "'high' is not a non-negative", id="str"
    ),
    pytest.param(with_slo("high_intent_score: true"), "True is not a non-negative", id="bool"),
    pytest.param(with_slo("median_assignment_latency: .nan"), "is not a duration", id="nan-dur"),
    pytest.param(with_slo("median_assignment_latency: [5m]"), "is not a duration", id="list-dur"),
    pytest.param(with_slo("parity_pct: 1"), "slo.parity_pct: unknown setting", id="unknown-slo"),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS.replace("drop_after: 24h", "drop_after: -.inf"),
        "hops.support.drop_after: -inf",
        id="negative-inf-duration",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS.replace("owner: platform", "owner: [a, b]"),
        "hops.support.owner: ['a', 'b'] is not a name",
        id="owner-list",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS.replace("sla: 5m", "sla: 5m, dropafter: 1h"),
        "hops.support.dropafter: unknown setting",
        id="misspelt-hop-key",
    ),
    pytest.param(
        ONE_CONVERSION.replace("[support]}", "[support], value_usd: .nan}") + GOOD_HOPS,
        "value_usd: nan",
        id="nan-value",
    ),
    pytest.param(
        "conversions:\n  42: {type: question, hops: [support]}\n" + GOOD_HOPS,
        "conversions.42: 42 is not a Segment event name",
        id="event-name-int",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS + "identity: {role_accounts: info}\n",
        "identity.role_accounts",
        id="role-accounts-not-list",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS + "match_window: .inf\n", "match_window: inf", id="inf-window"
    ),
    pytest.param("- a\n- b\n", "(top level): expected a mapping", id="list-top"),
    pytest.param("", "(top level): expected a mapping", id="empty"),
    pytest.param("[" * 5000 + "]" * 5000, "nested too deeply", id="deep-nesting"),
]


def run_with_contract(tmp_path: Path, contract: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "run", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"),
         "--contract", str(contract)],
        capture_output=True, text=True, timeout=60, env=os.environ,
    )  # fmt: skip


def assert_refused(done: subprocess.CompletedProcess, needle: str, tmp_path: Path) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lead-parity: ") and needle in lines[0], lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    assert "pydantic" not in done.stderr.lower()
    # Nothing started: no warehouse, no landed data.
    assert not (tmp_path / "w.duckdb").exists()
    assert not (tmp_path / "landed").exists()


@pytest.mark.parametrize(("text", "needle"), CASES)
def test_the_run_refuses_a_bad_contract_in_one_line(tmp_path, text, needle):
    contract = tmp_path / "contract.yaml"
    contract.write_text(text, encoding="utf-8")
    assert_refused(run_with_contract(tmp_path, contract), needle, tmp_path)


def test_a_contract_that_is_not_utf8_is_named(tmp_path):
    contract = tmp_path / "contract.yaml"
    contract.write_bytes(ONE_CONVERSION.encode() + b"# caf\xe9 in Latin-1\n" + GOOD_HOPS.encode())
    done = run_with_contract(tmp_path, contract)
    assert_refused(done, "is not UTF-8 text (byte 70, line 3)", tmp_path)


def test_a_fifo_given_as_contract_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "contract.yaml"
    os.mkfifo(fifo)
    assert_refused(run_with_contract(tmp_path, fifo), "not a regular file", tmp_path)


def test_a_folder_given_as_contract_is_refused(tmp_path):
    folder = tmp_path / "contract.yaml"
    folder.mkdir()
    assert_refused(run_with_contract(tmp_path, folder), "not a regular file", tmp_path)


def test_a_huge_file_is_not_read_as_a_contract(tmp_path):
    big = tmp_path / "contract.yaml"
    big.write_bytes(b"#" * (2 * 1024 * 1024))
    assert_refused(run_with_contract(tmp_path, big), "a contract is a small YAML file", tmp_path)


# More `sources:` mistakes; the CLI's one line for them is shown by the first case of CASES.
SOURCE_CASES = [
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS + "sources:\n  salesforce: {kind: files}\n",
        "sources.salesforce: unknown source",
        id="unknown-source",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS + "sources:\n  segment: {kind: segment_warehouse}\n",
        "sources.segment.path: kind segment_warehouse needs the tables' path",
        id="loader-without-path",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS + "sources:\n  receipts: {kind: files, path: x}\n",
        "sources.receipts: kind files reads the input folder",
        id="files-with-path",
    ),
    pytest.param(
        ONE_CONVERSION + GOOD_HOPS + "sources:\n  segment: {kind: segment_warehouse, path: x,"
        " table: tracks}\n",
        "sources.segment.table: unknown setting (known: kind, path, schema)",
        id="loader-unknown-setting",
    ),
]


@pytest.mark.parametrize(("text", "needle"), CASES + SOURCE_CASES)
def test_the_loader_raises_contract_error_only(tmp_path, text, needle):
    contract = tmp_path / "contract.yaml"
    contract.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError) as raised:
        load_contract(contract)
    assert needle in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_shipped_contract_still_loads():
    contract = load_contract(DEFAULT_CONTRACT_PATH)
    assert contract.hop_names == [
        "marketing", "crm", "crm_assignment", "support", "support_assignment",
    ]  # fmt: skip


def test_the_telemetry_section_reaches_the_settings_table(tmp_path):
    import pyarrow.parquet as pq

    from lead_parity.contract import write_contract_tables
    from lead_parity.contract.model import parse_contract

    raw = {
        "conversions": {"Question Asked": {"type": "question", "hops": ["support"]}},
        "hops": {"support": {"drop_after": "24h", "sla": "5m", "owner": "platform"}},
        "telemetry": {"lead_id_coverage_pct": 75, "roi_baseline_week": "2026-10-05"},
    }
    contract = parse_contract(raw)
    assert contract.telemetry.anomaly_fdr == 0.01  # the defaults fill the rest
    write_contract_tables(contract, tmp_path, datetime(2026, 10, 12, tzinfo=UTC))
    row = pq.read_table(tmp_path / "settings.parquet").to_pylist()[0]
    assert (row["lead_id_coverage_pct"], row["roi_baseline_week"]) == (75.0, date(2026, 10, 5))
    assert load_contract(None).telemetry.roi_baseline_week is None
