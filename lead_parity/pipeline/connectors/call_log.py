"""The connectors' own HTTP calls: one JSON-lines file per stream run, landed as one table.

Each run of a stream appends nothing: it writes `_state/http_calls/<stream>-<stamp>.jsonl`
(atomically, so a crash leaves the whole file or none), and `land_call_log` turns every such
file into `<landed>/_connector_calls/http_calls.parquet` for the vendor rate-limit mart. The
table is rebuilt from the files each time, so re-landing never duplicates a call; it is written
empty when no connector ever ran (file mode), so the dbt source always exists.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from lead_parity.pipeline.connectors.landing import STATE_DIR, atomic_write_bytes
from lead_parity.pipeline.http_client import HttpCall

log = logging.getLogger(__name__)

CALLS_DIR = "http_calls"
LANDED_DIR = "_connector_calls"
TABLE = "http_calls"
SCHEMA = pa.schema(
    [
        ("requested_at", pa.timestamp("us")),
        ("vendor", pa.string()),
        ("stream", pa.string()),
        ("method", pa.string()),
        ("endpoint", pa.string()),
        ("status", pa.int32()),
        ("retries", pa.int64()),
        ("rate_limited", pa.int64()),
        ("waited_s", pa.float64()),
        ("log_file", pa.string()),
    ]
)


def calls_folder(input_dir: Path) -> Path:
    return Path(input_dir) / STATE_DIR / CALLS_DIR


def write_call_log(input_dir: Path, stream: str, calls: Iterable[HttpCall]) -> Path | None:
    """Write one stream run's calls; None when it made none."""
    rows = [
        {
            "requested_at": call.requested_at.astimezone(UTC).isoformat(),
            "vendor": call.vendor,
            "stream": stream,
            "method": call.method,
            "endpoint": call.endpoint,
            "status": call.status,
            "retries": call.retries,
            "rate_limited": call.rate_limited,
            "waited_s": round(call.waited_s, 3),
        }
        for call in calls
    ]
    if not rows:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = calls_folder(input_dir) / f"{stream}-{stamp}-{uuid.uuid4().hex[:6]}.jsonl"
    atomic_write_bytes(path, b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def _rows(path: Path) -> Iterable[dict]:
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
            moment = datetime.fromisoformat(row["requested_at"]).astimezone(UTC)
            yield {
                "requested_at": moment.replace(tzinfo=None),
                "vendor": str(row["vendor"]),
                "stream": str(row.get("stream") or ""),
                "method": str(row.get("method") or ""),
                "endpoint": str(row.get("endpoint") or ""),
                "status": None if row.get("status") is None else int(row["status"]),
                "retries": int(row.get("retries") or 0),
                "rate_limited": int(row.get("rate_limited") or 0),
                "waited_s": float(row.get("waited_s") or 0.0),
                "log_file": path.name,
            }
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            # Our own atomic writes never tear a line; an edited file is worth a word, not a stop.
            log.warning("http call log %s line %d unreadable (%s); skipped", path, number, exc)


def land_call_log(input_dir: Path, landed_dir: Path) -> int:
    """Rebuild the landed call table from every call-log file; returns its row count."""
    folder = calls_folder(input_dir)
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    rows = [row for path in files for row in _rows(path)]
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    out = Path(landed_dir) / LANDED_DIR
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{TABLE}.{uuid.uuid4().hex}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, out / f"{TABLE}.parquet")
    return table.num_rows
