"""The live connectors' HTTP call log, landed as a table for the vendor rate-limit mart."""

import dagster as dg

from lead_parity.pipeline.connectors.call_log import land_call_log
from orchestration.defs.ingest.files import FETCHED_BY_SOURCE
from orchestration.defs.owners import MART_OWNERS
from orchestration.defs.resources import LeadParityConfig


@dg.asset(
    key=dg.AssetKey(["connectors", "http_calls"]),
    group_name="ingest",
    kinds={"python", "parquet"},
    owners=MART_OWNERS,
    deps=list(FETCHED_BY_SOURCE.values()),
    description="Every HTTP request the live connectors made (vendor, endpoint, status, "
    "retries, 429 answers, seconds waited), one call-log file per stream run under the input "
    "folder's `_state/http_calls/`, rebuilt as one table (empty in file mode).",
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn("requested_at", "timestamp", description="Request start, UTC."),
                dg.TableColumn("vendor", "string", description="HubSpot or Zendesk."),
                dg.TableColumn("stream", "string", description="Connector stream."),
                dg.TableColumn("method", "string"),
                dg.TableColumn("endpoint", "string", description="Path without the query."),
                dg.TableColumn("status", "int", description="Final status; null: no response."),
                dg.TableColumn("retries", "int"),
                dg.TableColumn("rate_limited", "int", description="429 answers, retries incl."),
                dg.TableColumn("waited_s", "double", description="Seconds between attempts."),
                dg.TableColumn("log_file", "string", description="The call-log file."),
            ]
        )
    },
)
def connector_http_calls(lead_parity: LeadParityConfig) -> dg.MaterializeResult:
    rows = land_call_log(lead_parity.input_dir, lead_parity.paths().landed)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
