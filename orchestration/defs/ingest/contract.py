"""The routing contract (SPEC section 3) and the run's as_of, landed as tables for dbt."""

import dagster as dg

from lead_parity.contract import write_contract_tables
from lead_parity.pipeline.remediation.store import remediated_rows
from orchestration.defs.resources import LeadParityConfig

CONTRACT_TABLES = (
    "conversion_events", "conversion_hops", "hops", "role_accounts", "settings", "remediated",
)  # fmt: skip
DESCRIPTION = (
    "Conversion events, hop chains, windows, owners, values and SLO thresholds from the routing "
    "contract YAML, plus the run's as_of, as Parquet tables for the models; `remediated` lists "
    "the conversions `lead-parity remediate` re-sent (docs/remediation.md)."
)


@dg.multi_asset(
    name="routing_contract",
    group_name="ingest",
    specs=[
        dg.AssetSpec(["contract", t], kinds={"yaml", "parquet"}, description=DESCRIPTION)
        for t in CONTRACT_TABLES
    ],
)
def routing_contract(context: dg.AssetExecutionContext, lead_parity: LeadParityConfig):
    contract = lead_parity.contract()
    as_of = lead_parity.as_of_datetime()
    paths = lead_parity.paths()
    # What `lead-parity remediate` sent, for fct_conversions.remediated_at (read from SQLite:
    # people's approvals and the sender never wait for this run).
    remediated = remediated_rows(paths.history)
    rows = write_contract_tables(contract, paths.contract_tables, as_of, remediated)
    context.log.info(f"contract {contract.source}, as_of {as_of.isoformat()}")
    for table in CONTRACT_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["contract", table]),
            metadata={
                "contract": contract.source,
                "as_of": as_of.isoformat(),
                "conversion_events": ", ".join(c.event_name for c in contract.conversions),
                "hops": ", ".join(contract.hop_names),
                "dagster/row_count": rows[table],
            },
        )
