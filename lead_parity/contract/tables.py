"""The contract as Parquet tables, so the dbt models join to it instead of templating values."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lead_parity.contract.model import Contract
from lead_parity.files import replacing


def _write(table: pa.Table, path: Path) -> None:
    with replacing(path) as tmp:
        pq.write_table(table, tmp)


def write_contract_tables(
    contract: Contract,
    folder: Path,
    as_of: datetime,
    remediated: Iterable[tuple[str, str, datetime]] = (),
) -> dict[str, int]:
    """Write conversion_events, conversion_hops, hops, role_accounts and settings (as_of incl.),
    and `remediated`: (conversion_id, hop, sent_at) of every action `lead-parity remediate` sent
    (docs/remediation.md), empty when nothing was, so the models always have the table."""
    sent = list(remediated)
    folder.mkdir(parents=True, exist_ok=True)
    as_of_naive = as_of.replace(tzinfo=None)
    tables = {
        "conversion_events": pa.table(
            {
                "event_name": [c.event_name for c in contract.conversions],
                "conversion_type": [c.conversion_type for c in contract.conversions],
                "value_usd": pa.array([c.value_usd for c in contract.conversions], pa.float64()),
            }
        ),
        "conversion_hops": pa.table(
            {
                "conversion_type": [
                    c.conversion_type for c in contract.conversions for _ in c.hops
                ],
                "hop": [h for c in contract.conversions for h in c.hops],
                "hop_order": pa.array(
                    [i + 1 for c in contract.conversions for i in range(len(c.hops))], pa.int32()
                ),
            }
        ),
        "hops": pa.table(
            {
                "hop": [h.hop for h in contract.hops],
                "drop_after_s": pa.array([h.drop_after_s for h in contract.hops], pa.int64()),
                "sla_s": pa.array([h.sla_s for h in contract.hops], pa.int64()),
                "owner": [h.owner for h in contract.hops],
                "hop_kind": [h.kind for h in contract.hops],
                "source_system": [h.system for h in contract.hops],
            }
        ),
        "role_accounts": pa.table({"local_part": pa.array(contract.role_accounts, pa.string())}),
        "settings": pa.table(
            {
                "as_of": pa.array([as_of_naive], pa.timestamp("us")),
                "match_window_s": pa.array([contract.match_window_s], pa.int64()),
                "shared_device_emails": pa.array([contract.shared_device_emails], pa.int64()),
                "parity_discrepancy_pct": [contract.slo.parity_discrepancy_pct],
                "critical_discrepancy_pct": [contract.slo.critical_discrepancy_pct],
                "min_slice_volume": pa.array([contract.slo.min_slice_volume], pa.int64()),
                "enrichment_success_pct": [contract.slo.enrichment_success_pct],
                "median_assignment_latency_s": pa.array(
                    [contract.slo.median_assignment_latency_s], pa.int64()
                ),
                "high_intent_score": [float(contract.slo.high_intent_score)],
                "high_intent_unassigned_after_s": pa.array(
                    [contract.slo.high_intent_unassigned_after_s], pa.int64()
                ),
                "quarantined_records": pa.array([contract.slo.quarantined_records], pa.int64()),
                "lead_id_coverage_pct": [contract.telemetry.lead_id_coverage_pct],
                "roi_baseline_week": pa.array(
                    [
                        date.fromisoformat(contract.telemetry.roi_baseline_week)
                        if contract.telemetry.roi_baseline_week
                        else None
                    ],
                    pa.date32(),
                ),
            }
        ),
        "remediated": pa.table(
            {
                "conversion_id": pa.array([r[0] for r in sent], pa.string()),
                "hop": pa.array([r[1] for r in sent], pa.string()),
                "remediated_at": pa.array(
                    [r[2].astimezone(UTC).replace(tzinfo=None) for r in sent], pa.timestamp("us")
                ),
            }
        ),
    }
    for name, table in tables.items():
        _write(table, folder / f"{name}.parquet")
    return {name: table.num_rows for name, table in tables.items()}
