"""The DataFrames the suites validate, read from the warehouse (SPEC section 6 column names).

Each function takes an open DuckDB connection and returns one frame whose grain the matching
suite module documents. Values travel as query parameters only; identifiers come from the
contract's fixed hop names. Dates are ISO text so results serialise into Data Docs as-is.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from lead_parity.contract import Contract

RECEIPTS_RELATION = ("main", "stg_integration__receipts")


class QualityInputError(RuntimeError):
    """A table a suite needs is missing or lacks a SPEC column; the message names it."""


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def _read(
    con: duckdb.DuckDBPyConnection, schema: str, name: str, sql: str, params=()
) -> pd.DataFrame:
    if not relation_exists(con, schema, name):
        raise QualityInputError(f"table {schema}.{name} is missing from the warehouse")
    try:
        return con.execute(sql, list(params)).df()
    except duckdb.BinderException as exc:
        raise QualityInputError(
            f"table {schema}.{name} lacks a column the suites read: {exc}"
        ) from None


def _iso_dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.strftime("%Y-%m-%d")


def parity_units(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per (day, hop) total and per (day, type, origin, hop) slice with expected > 0.

    fct_hop_parity_daily holds the slices only (SPEC section 6); the totals are summed from
    them here, which gives exactly fct_hop_parity_daily_totals (dbt test
    totals_add_up_to_slices on that mart), so the rule reads one table. A warehouse built
    before the split still carries `all`/`all` total rows in the slice mart: they are left out
    of the sum. Hops whose system is not in the stack (coverage unknown) are not judged at all.
    """
    mart = _read(con, "marts", "fct_hop_parity_daily", "select * from marts.fct_hop_parity_daily")
    columns = set(mart.columns)
    keep = (mart["conversion_type"] != "all") | (mart["origin"] != "all")
    if "coverage" in columns:
        keep &= mart["coverage"].fillna("known") != "unknown"
    if "is_covered" in columns:
        keep &= mart["is_covered"].fillna(True).astype(bool)
    slices = mart.loc[keep, ["conversion_date", "conversion_type", "origin", "hop"]].copy()
    slices["conversion_date"] = _iso_dates(slices["conversion_date"])
    slices["expected"] = mart.loc[keep, "expected"].fillna(0).astype("int64")
    slices["dropped"] = mart.loc[keep, "dropped"].fillna(0).astype("int64")
    slices["unit"] = "slice"
    totals = slices.groupby(["conversion_date", "hop"], as_index=False)[
        ["expected", "dropped"]
    ].sum()
    totals["conversion_type"] = "all"
    totals["origin"] = "all"
    totals["unit"] = "total"
    units = pd.concat([totals, slices], ignore_index=True)
    units = units[units["expected"] > 0].copy()
    units["discrepancy_pct"] = 100.0 * units["dropped"] / units["expected"]
    units["scope"] = (
        units["conversion_date"] + "|" + units["hop"] + "|" + units["conversion_type"] + "|"
        + units["origin"]
    )  # fmt: skip
    order = ["unit", "conversion_date", "hop", "conversion_type", "origin"]
    units = units.sort_values(order, ascending=[False, True, True, True, True])
    return units[
        ["scope", "unit", "conversion_date", "conversion_type", "origin", "hop", "expected",
         "dropped", "discrepancy_pct"]
    ].reset_index(drop=True)  # fmt: skip


def conversion_ids(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _read(con, "marts", "fct_conversions", "select conversion_id from marts.fct_conversions")


def latency_units(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per (day, type) with assigned conversions and their median latency in seconds.

    Read from fct_conversions because medians cannot be combined: fct_assignment_latency_daily
    holds (day, type, origin) slices and fct_assignment_latency_daily_totals whole days, and
    neither gives a (day, type) median. The same quantile as both marts (continuous).
    """
    frame = _read(
        con,
        "marts",
        "fct_conversions",
        """
        select
            cast(converted_at as date) as conversion_date,
            conversion_type,
            count(*) as assigned,
            median(assignment_latency_s) as median_s
        from marts.fct_conversions
        where assignment_latency_s is not null
        group by all
        order by all
        """,
    )
    frame["conversion_date"] = _iso_dates(frame["conversion_date"])
    frame["assigned"] = frame["assigned"].astype("int64")
    frame["median_s"] = frame["median_s"].astype("float64")
    frame["scope"] = frame["conversion_date"] + "|" + frame["conversion_type"]
    return frame[["scope", "conversion_date", "conversion_type", "assigned", "median_s"]]


def assignment_types(contract: Contract) -> list[str]:
    """Conversion types whose chain ends in someone being assigned (others cannot wait)."""
    return [
        rule.conversion_type
        for rule in contract.conversions
        if any(contract.hop(h).kind == "assignment" for h in rule.hops)
    ]


def high_intent_conversions(
    con: duckdb.DuckDBPyConnection, contract: Contract, as_of: datetime
) -> pd.DataFrame:
    """One row per conversion with an intent score, of a type that gets assigned.

    `unassigned_s` is how long it waited for an owner: its assignment latency, or the time
    from conversion to as_of when nobody has been assigned (dropped and pending ones too).
    """
    frame = _read(
        con,
        "marts",
        "fct_conversions",
        """
        select
            conversion_id,
            cast(converted_at as date) as conversion_date,
            conversion_type,
            origin,
            cast(intent_score as double) as intent_score,
            assignment_latency_s is null as is_unassigned,
            cast(
                coalesce(assignment_latency_s, date_diff('second', converted_at, ?)) as double
            ) as unassigned_s
        from marts.fct_conversions
        where intent_score is not null
            and list_contains(?, conversion_type)
        order by converted_at, conversion_id
        """,
        [as_of, assignment_types(contract)],
    )
    frame["conversion_date"] = _iso_dates(frame["conversion_date"])
    frame["is_unassigned"] = frame["is_unassigned"].astype(bool)
    return frame


def enrichment_units(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pd.DataFrame:
    """One row per conversion day: conversions with enrichment receipts, and how many succeeded.

    Success is some receipt `delivered` or `replayed` up to as_of (SPEC section 5, rule 4).
    """
    columns = ["scope", "conversion_date", "expected", "enriched", "success_pct"]
    if not relation_exists(con, *RECEIPTS_RELATION):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame = _read(
        con,
        "marts",
        "fct_conversions",
        """
        with enrichment as (
            select
                conversion_id,
                bool_or(outcome in ('delivered', 'replayed')) as is_enriched
            from main.stg_integration__receipts
            where hop = 'enrichment' and attempted_at <= ?
            group by conversion_id
        )
        select
            cast(conversions.converted_at as date) as conversion_date,
            count(*) as expected,
            count(*) filter (where enrichment.is_enriched) as enriched
        from enrichment
        inner join marts.fct_conversions as conversions
            on enrichment.conversion_id = conversions.conversion_id
        group by all
        order by all
        """,
        [as_of],
    )
    frame["conversion_date"] = _iso_dates(frame["conversion_date"])
    frame["expected"] = frame["expected"].astype("int64")
    frame["enriched"] = frame["enriched"].astype("int64")
    frame["success_pct"] = 100.0 * frame["enriched"] / frame["expected"]
    frame["scope"] = frame["conversion_date"]
    return frame[columns]


def dead_letters(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pd.DataFrame:
    """One row per dead-lettered (conversion_id, hop), with the first recovery after it.

    The date is that of the latest dead-lettering, the grain of fct_dead_letters_daily.
    """
    columns = ["conversion_id", "hop", "dead_lettered_date", "dead_lettered_at", "replayed_at"]
    if not relation_exists(con, *RECEIPTS_RELATION):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame = con.execute(
        """
        with receipts as (
            select conversion_id, hop, outcome, attempted_at
            from main.stg_integration__receipts
            where attempted_at <= ?
        ),

        parked as (
            select conversion_id, hop, max(attempted_at) as dead_lettered_at
            from receipts
            where outcome = 'dead_lettered'
            group by conversion_id, hop
        ),

        recovered as (
            select parked.conversion_id, parked.hop, min(receipts.attempted_at) as replayed_at
            from parked
            inner join receipts
                on parked.conversion_id = receipts.conversion_id
                and parked.hop = receipts.hop
                and receipts.outcome in ('replayed', 'delivered')
                and receipts.attempted_at >= parked.dead_lettered_at
            group by parked.conversion_id, parked.hop
        )

        select
            parked.conversion_id,
            parked.hop,
            cast(parked.dead_lettered_at as date) as dead_lettered_date,
            parked.dead_lettered_at,
            recovered.replayed_at
        from parked
        left join recovered
            on parked.conversion_id = recovered.conversion_id
            and parked.hop = recovered.hop
        order by parked.dead_lettered_at, parked.conversion_id, parked.hop
        """,
        [as_of],
    ).df()
    frame["dead_lettered_date"] = _iso_dates(frame["dead_lettered_date"])
    for column in ("dead_lettered_at", "replayed_at"):
        stamps = pd.to_datetime(frame[column])
        frame[column] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S").where(stamps.notna(), None)
    return frame[columns]


def quarantined(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Where each quarantined record came from and why (never its raw text: it may hold PII)."""
    return _read(
        con,
        "ops",
        "quarantined_records",
        "select source, file, position, reason from ops.quarantined_records "
        "order by source, file, position",
    )


def ledger(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _read(
        con,
        "ops",
        "ingestion_ledger",
        """
        select
            source,
            file,
            records_read,
            records_loaded + records_quarantined + duplicates as records_accounted
        from ops.ingestion_ledger
        order by source, file
        """,
    )
