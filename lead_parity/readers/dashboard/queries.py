"""The dashboard's own figures on the published snapshot: the headline row (each hop's error
budget as the report reads it), what to fix first and the review queue's due items.

The SLO verdict and the fix-first ranking are the ones `lead-parity run` prints
(lead_parity.readers.verdict), read here with the dashboard's window; nothing is judged again.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd

from lead_parity.readers.report import data
from lead_parity.readers.verdict import fix_first, hop_slo_status

FIX_FIRST_COLUMNS = ["hop", "cause", "dropped", "owner", "at_risk"]


def hop_headline(con: duckdb.DuckDBPyConnection, since: date) -> pd.DataFrame:
    """Per hop in chain order: the run verdict on the final days since `since` (held when no
    final day breached) beside the latest day of the hop's error budget."""
    status = pd.DataFrame(
        hop_slo_status(con, since),
        columns=["hop", "hop_order", "final_days", "breached_days", "dropped", "expected",
                 "provisional_days"],
    )  # fmt: skip
    latest = data.parity_budget_latest(con).drop(columns=["expected", "dropped"], errors="ignore")
    frame = status.merge(latest, on="hop", how="left")
    frame["slo"] = frame["breached_days"].map(lambda n: "breached" if n else "held")
    # Contract chain order (marketing before support), as every other section shows hops.
    order = {hop: i for i, hop in enumerate(data.hop_order(con))}
    frame["_rank"] = frame["hop"].map(lambda h: order.get(h, len(order)))
    return frame.sort_values(["_rank", "hop"]).drop(columns="_rank").reset_index(drop=True)


def fix_first_ranking(con: duckdb.DuckDBPyConnection, since: date, limit: int = 10) -> pd.DataFrame:
    """(hop, cause) groups by revenue at risk: the ranking the run's verdict prints."""
    return pd.DataFrame(fix_first(con, limit, since), columns=FIX_FIRST_COLUMNS)


def incident_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Open (not resolved) incidents in the snapshot, and how many of them are critical."""
    frame = data.open_incidents(con)
    return {"open": len(frame), "critical": int((frame["severity"] == "critical").sum())}


def queue_due(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, int]:
    """Review items not done in the published ops.review_queue, and those past due at `now`."""
    if not data.has_table(con, "ops.review_queue"):
        return {"waiting": 0, "due": 0}
    waiting, due = con.execute(
        """
        select count(*), count(*) filter (where due_at <= ?)
        from ops.review_queue where state != 'done'
        """,
        [now.replace(tzinfo=None)],
    ).fetchone()
    return {"waiting": waiting, "due": due}
