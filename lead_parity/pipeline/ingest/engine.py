"""Ingest one source folder into its landed folder: parse, quarantine, de-duplicate, account.

The work happens in a private in-memory DuckDB (never the warehouse) and lands as Parquet. The
landed folder of a source is swapped in whole, so readers see the previous or the new complete
set, never a mix, and a re-run on the same input writes identical tables.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lead_parity.pipeline.ingest.lines import (
    invalid_utf8_lines,
    is_utf8,
    read_input,
    split_lines,
    whole_text,
)
from lead_parity.pipeline.ingest.listing import InputFile, list_input_files
from lead_parity.pipeline.ingest.prefetch import prefetched
from lead_parity.pipeline.ingest.sources import SOURCES, Entity, Source
from lead_parity.pipeline.ingest.sql import (
    email_columns,
    page_records_sql,
    pages_sql,
    parse_sql,
    raw_emails_sql,
)
from lead_parity.pipeline.ingest.versions import VERSION_COLUMN, FileVersion, ParsedCache, plan
from lead_parity.pipeline.ingest.warehouse import ADAPTERS, LoaderTables, WarehouseInputError
from lead_parity.pipeline.ingest.warehouse.tables import literal

BATCH_BYTES = 96 * 1024 * 1024

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("position", pa.int64()),
        ("entity", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
LEDGER_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("records_read", pa.int64()),
        ("records_loaded", pa.int64()),
        ("records_quarantined", pa.int64()),
        ("duplicates", pa.int64()),
        # The version: size and sha256 of the file as stored (null when it could not be read).
        ("size_bytes", pa.int64()),
        ("content_hash", pa.string()),
        # False on the rows of versions a changed file superseded (history, SPEC section 9).
        ("is_current", pa.bool_()),
        # False for a file gone from the input whose records are kept.
        ("in_input", pa.bool_()),
    ]
)
MANIFEST_SCHEMA = pa.schema(
    [("source", pa.string()), ("is_present", pa.bool_()), ("files", pa.int64())]
)


@dataclass(frozen=True)
class IngestResult:
    source: str
    is_present: bool
    files: int
    records_read: int
    records_loaded: int
    records_quarantined: int
    duplicates: int
    loaded_by_entity: dict[str, int]
    landed_dir: Path
    files_parsed: int = 0
    files_reused: int = 0
    files_superseded: int = 0
    # Files a previous run ingested that are gone from the input; their records are kept.
    files_missing: tuple[str, ...] = ()


class LedgerMismatch(RuntimeError):
    """Records were read but not accounted for: a bug, never bad input."""


# DuckDB scans a registered Arrow table one record batch per thread: a file's lines in one batch
# would be parsed on one core.
CHUNK_LINES = 50_000
CHUNK_PAGES = 32


def _lines_part(rel: str, data: bytes, skip: np.ndarray | None = None) -> pa.Table:
    """The lines of one file; `skip` holds line numbers already quarantined (not UTF-8)."""
    lines, positions = split_lines(data)
    if skip is not None and len(skip):
        keep = np.flatnonzero(~np.isin(positions, skip))
        lines, positions = lines.take(pa.array(keep)), positions[keep]
    n = len(lines)
    table = pa.table(
        {
            "file": pa.DictionaryArray.from_arrays(np.zeros(n, dtype=np.int32), [rel]),
            "position": pa.array(positions),
            "rec": lines,
            "page_reason": pa.nulls(n, pa.string()),
            "form_guid": pa.nulls(n, pa.string()),
        }
    )
    return _rechunked(table, CHUNK_LINES)


def _rechunked(table: pa.Table, rows: int) -> pa.Table:
    return pa.Table.from_batches(table.to_batches(max_chunksize=rows), table.schema)


def _page_part(rel: str, guid: str | None, data: bytes) -> pa.Table:
    return pa.table(
        {
            "file": pa.array([rel], pa.string()),
            "form_guid": pa.array([guid], pa.string()),
            "text": whole_text(data),
        }
    )


def _undecodable_lines(rel: str, data: bytes) -> tuple[list[dict], np.ndarray]:
    """A quarantine entry per line that is not UTF-8, and their line numbers."""
    problems, numbers = [], []
    for line, start, end in invalid_utf8_lines(data):
        text = data[start:end].rstrip(b"\r\n")
        problems.append(
            {
                "file": rel,
                "position": line,
                "reason": "line is not valid UTF-8",
                # Undecodable bytes shown as \xNN escapes: the raw text keeps every byte.
                "raw": text.decode("utf-8", errors="backslashreplace"),
            }
        )
        numbers.append(line)
    return problems, np.array(numbers, dtype=np.int64)


def _batches(files: list[InputFile], source: Source) -> Iterator[tuple[pa.Table, int, list[dict]]]:
    """(records or pages, files in it, record- and file-level problems) per batch of about
    BATCH_BYTES.

    JSON-lines files arrive split into lines (file, position, rec), page files whole
    (file, form_guid, text). A file that must not or cannot be read is one problem; a line that
    is not UTF-8 is one problem and its neighbours are parsed.
    """
    parts, problems, size = [], [], 0
    for entry in files:
        rel = entry.rel
        if entry.path is None:
            problems.append({"file": rel, "reason": entry.problem})
            continue
        data, problem = read_input(entry.path)
        if data is None:
            problems.append({"file": rel, "reason": problem})
            continue
        skip = None
        if not is_utf8(data):
            if source.shape != "jsonl":
                # A page is one record: undecodable bytes make the page the bad record.
                raw = data.decode("utf-8", errors="backslashreplace")
                problems.append({"file": rel, "reason": "page is not valid UTF-8", "raw": raw})
                continue
            bad, skip = _undecodable_lines(rel, data)
            problems.extend(bad)
        if source.shape == "jsonl":
            parts.append(_lines_part(rel, data, skip))
        else:
            guid = Path(rel).parent.name if source.name == "hubspot_forms" else None
            parts.append(_page_part(rel, guid, data))
        size += len(data)
        if size >= BATCH_BYTES:
            yield pa.concat_tables(parts), len(parts), problems
            parts, problems, size = [], [], 0
    # The last batch may be empty: parsing it still gives each entity its (empty) part.
    yield _concat(parts, source), len(parts), problems


def _concat(parts: list[pa.Table], source: Source) -> pa.Table:
    if parts:
        return pa.concat_tables(parts)
    return (_lines_part("", b"") if source.shape == "jsonl" else _page_part("", None, b"")).slice(
        0, 0
    )


def normalise_emails(values: pa.Array) -> pa.Array:
    """NFKC, trim, lower-case (SPEC section 4); empty becomes null."""
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(pc.utf8_normalize(values, form="NFKC")))
    return pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.string()), norm)


def _normalise_non_ascii_emails(con, table: str, columns: list[str]) -> None:
    """Normalise the email values the parse left raw (non-ASCII ones, a few per thousand) in
    `table`: one Arrow call over their distinct values, then an update per column."""
    if not columns:
        return
    raw = con.execute(raw_emails_sql(table, columns)).to_arrow_table()
    if not raw.num_rows:
        return
    mapping = pa.table(
        {"raw": raw.column("raw"), "norm": normalise_emails(raw.column("raw").combine_chunks())}
    )
    con.register("email_map", mapping)
    for c in columns:
        con.execute(
            f'update {table} set "{c}" = email_map.norm from email_map '
            f'where {table}."{c}" = email_map.raw'
        )
    con.unregister("email_map")


class _Work:
    """Quarantine parts, written as bad records and files are found and merged at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.count = 0

    def _next_part(self, kind: str) -> Path:
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        self.count += 1
        return folder / f"part-{self.count:06d}.parquet"

    def write(self, kind: str, table: pa.Table) -> None:
        pq.write_table(table, self._next_part(kind))

    def parts(self, kind: str) -> list[str]:
        return sorted(str(p) for p in (self.root / kind).glob("part-*.parquet"))


# A source's parsed records stay in DuckDB until de-duplicated; past this it spills them to the
# scratch folder instead of growing (a 1M-person stack peaked at 4.8 GB without a limit). The
# run's value comes from the `lead_parity` resource (LEAD_PARITY_INGEST_MEMORY_LIMIT).
DEFAULT_MEMORY_LIMIT = "2GB"


def _connect(spill_dir: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={
            "threads": os.cpu_count() or 2,
            "memory_limit": memory_limit,
            "temp_directory": str(spill_dir),
        }
    )
    con.execute("set TimeZone = 'UTC'")
    # Landed tables are sets: nothing downstream reads them in file order.
    con.execute("set preserve_insertion_order = false")
    return con


def _parsed(entity: Entity) -> str:
    """The temp table collecting an entity's parsed records (valid or not) over all batches."""
    return f'"parsed_{entity.name}"'


def _parse_batch(con, source: Source, batch: pa.Table) -> None:
    """Parse a batch into each entity's temp table. The rows stay in DuckDB (which spills them
    to the scratch folder past its memory limit): no Parquet part to write and read back."""
    con.register("batch", batch)
    arrays = tuple(e.array for e in source.entities if e.array)
    if source.shape == "page":
        # Kept in Arrow in small batches, not a temp table: DuckDB scans a table one row group
        # (122,880 rows, so every page of a batch) per thread.
        pages = con.execute(pages_sql(arrays)).to_arrow_table()
        con.register("pages", _rechunked(pages, CHUNK_PAGES))
    for entity in source.entities:
        records = (
            "select * from batch" if source.shape == "jsonl" else page_records_sql(entity, arrays)
        )
        query = parse_sql(source, entity, records)
        con.execute(f"create temp table if not exists {_parsed(entity)} as {query} with no data")
        con.execute(f"insert into {_parsed(entity)} {query}")
    if source.shape == "page":
        con.unregister("pages")
    con.unregister("batch")


def _parse_warehouse(con, source: Source, spec, progress) -> list[InputFile]:
    """Parse a loader's tables (docs/warehouse-inputs.md) into each entity's temp table, exactly
    as file mode parses its records; returns one ledger entry per table read."""
    where = f"{source.name} ({spec.kind} at {spec.path})"
    tables = LoaderTables(con, where, spec.path, spec.schema)
    read: list[InputFile] = []
    try:
        by_entity = ADAPTERS[spec.kind](tables, source.name)
        for entity in source.entities:
            parts = by_entity.get(entity.name, [])
            # An entity the layout has no table for still gets its (empty) landed table.
            selects = [
                f"select {literal(r.label)} as file, "
                "cast(row_number() over (order by _order nulls first, rec) - 1 as bigint) "
                "as position, rec, cast(null as varchar) as page_reason, form_guid "
                f"from ({r.sql})"
                for r in parts
            ] or [
                "select cast(null as varchar) as file, cast(null as bigint) as position, "
                "cast(null as varchar) as rec, cast(null as varchar) as page_reason, "
                "cast(null as varchar) as form_guid where false"
            ]
            for records in selects:
                query = parse_sql(source, entity, records)
                con.execute(
                    f"create temp table if not exists {_parsed(entity)} as {query} with no data"
                )
                con.execute(f"insert into {_parsed(entity)} {query}")
            read += [InputFile(r.label, None) for r in parts]
            if progress:
                progress(f"{source.name}: read {', '.join(r.label for r in parts)}")
    except duckdb.Error as exc:
        # A column of a type the layout never has (say, a struct where text belongs).
        first = str(exc).strip().splitlines()[0]
        raise WarehouseInputError(f"{where}: cannot read the tables: {first}") from None
    return read


def _account_parsed(con, source: Source, entity: Entity, work: _Work, read: Counter) -> None:
    """Count every parsed record per file and write the invalid ones to the quarantine."""
    table = _parsed(entity)
    for file, n in con.execute(f"select _file, count(*) from {table} group by _file").fetchall():
        read[file] += n
    bad = con.execute(
        f"select _file, _position, _reason, _raw from {table} where _reason is not null"
    ).to_arrow_table()
    if bad.num_rows:
        work.write(
            "_quarantine",
            pa.table(
                {
                    "source": pa.array([source.name] * bad.num_rows, pa.string()),
                    "file": bad.column("_file").cast(pa.string()),
                    "position": bad.column("_position").cast(pa.int64()),
                    "entity": pa.array([entity.name] * bad.num_rows, pa.string()),
                    "reason": bad.column("_reason").cast(pa.string()),
                    "raw": bad.column("_raw").cast(pa.string()),
                },
                schema=QUARANTINE_SCHEMA,
            ),
        )


def _file_problems(source: Source, problems: list[dict], work: _Work, read: Counter) -> None:
    if not problems:
        return
    for p in problems:
        read[p["file"]] += 1
    work.write(
        "_quarantine",
        pa.table(
            {
                "source": [source.name] * len(problems),
                "file": [p["file"] for p in problems],
                "position": pa.array([p.get("position", 0) for p in problems], pa.int64()),
                "entity": [source.entities[0].name] * len(problems),
                "reason": [p["reason"] for p in problems],
                "raw": pa.array([p.get("raw") for p in problems], pa.string()),
            },
            schema=QUARANTINE_SCHEMA,
        ),
    )


def _duplicates_sql(entity: Entity) -> str:
    """(_file, _position) of every valid record that repeats an earlier-kept one, read from the
    key and order columns only (the window never holds the wide rows)."""
    keys = ", ".join(f'"{k}"' for k in entity.dedup_key)
    # Exports are chronological and their timestamps have whole seconds: of two versions with
    # the same updated time, the later copy is the newer one. Without a version time, the first
    # delivery is the message (Segment, receipts, forms).
    if entity.newest_by:
        order = f'"{entity.newest_by}" desc nulls last, _file desc, _position desc'
    else:
        order = "_file, _position"
    # Records without a key (e.g. Segment page views with no messageId) are all distinct.
    any_null = " or ".join(f'"{k}" is null' for k in entity.dedup_key)
    # Only keys seen more than once are ranked: a hash aggregate finds them in half the time the
    # window took to sort every record.
    return f"""
        with keyed as (
            select * from {_parsed(entity)} where _reason is null and not ({any_null})
        ),
        repeated as (
            select {keys} from keyed group by all having count(*) > 1
        )
        select _file, _position
        from (
            select _file, _position,
                row_number() over (partition by {keys} order by {order}) as _rank
            from keyed semi join repeated using ({keys})
        )
        where _rank > 1
    """


def _finalize_entity(con, entity: Entity, out: Path, counts: dict) -> int:
    """De-duplicate the entity's valid records into `<entity>.parquet`; count kept and dropped
    per file."""
    table = _parsed(entity)
    if entity.dedup_key:
        con.execute(f"create or replace temp table duplicates as {_duplicates_sql(entity)}")
    else:
        con.execute("create or replace temp table duplicates (_file varchar, _position bigint)")
    loaded = 0
    for file, n in con.execute(
        f"select _file, count(*) from {table} where _reason is null group by _file"
    ).fetchall():
        counts["loaded"][file] += n
        loaded += n
    for file, n in con.execute("select _file, count(*) from duplicates group by _file").fetchall():
        counts["loaded"][file] -= n
        counts["duplicates"][file] += n
        loaded -= n
    # Not sorted: ordering the wide rows of a 1M-person stack's Segment messages cost 20 s, and
    # every reader groups or filters (_file, _position say where each row came from). Columns
    # with over a thousand values in a row group (ids, emails) are written plain: trying a
    # dictionary for them first was a third of the write's CPU, for a bigger file.
    con.execute(
        f"""
        copy (
            select p.* exclude (_reason, _raw)
            from {table} as p
            anti join duplicates as d on p._file = d._file and p._position = d._position
            where p._reason is null
        ) to ? (format parquet, dictionary_size_limit 1000)
        """,
        [str(out / f"{entity.name}.parquet")],
    )
    con.execute(f"drop table {table}")
    return loaded


def _swap_in(new: Path, target: Path) -> None:
    """Replace `target` folder by `new` with renames, so a reader never sees half of each."""
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _cache_new_versions(
    con,
    source: Source,
    cache: ParsedCache,
    versions: list[FileVersion],
    problems: list[dict],
    staged: Path,
) -> None:
    """Write the just-parsed rows of `versions` into the cache: one chunk per entity."""
    if not versions:
        return
    staged.mkdir(parents=True, exist_ok=True)
    con.register(
        "version_keys",
        pa.table({"rel": [v.rel for v in versions], "key": [v.key for v in versions]}),
    )
    for entity in source.entities:
        con.execute(
            f"""
            copy (
                select p.*, k.key as {VERSION_COLUMN}
                from {_parsed(entity)} as p
                inner join version_keys as k on p._file = k.rel
            ) to ? (format parquet, dictionary_size_limit 1000)
            """,
            [str(staged / f"{entity.name}.parquet")],
        )
    con.unregister("version_keys")
    by_file: dict[str, list[dict]] = {}
    for problem in problems:
        by_file.setdefault(problem["file"], []).append(problem)
    entities = [e.name for e in source.entities]
    cache.commit(staged, entities, uuid.uuid4().hex[:16], versions, by_file)


def _add_cached(con, source: Source, cache: ParsedCache, keys: list[str]) -> None:
    """Append the cached rows of unchanged versions to the parsed tables."""
    if not keys:
        return
    con.register("reused_keys", pa.table({"key": keys}))
    try:
        for entity in source.entities:
            files = cache.files(entity.name, keys)
            if files:
                con.execute(
                    f"insert into {_parsed(entity)} by name "
                    f"select * exclude ({VERSION_COLUMN}) "
                    "from read_parquet(?, hive_partitioning = false) "
                    f"where {VERSION_COLUMN} in (select key from reused_keys)",
                    [files],
                )
    finally:
        con.unregister("reused_keys")


def _previous_ledger(folder: Path) -> list[dict]:
    path = folder / "ledger.parquet"
    if not path.is_file():
        return []
    table = pq.read_table(path)
    if "content_hash" not in table.column_names:
        return []  # written before versions were kept: nothing to reuse or carry
    return table.to_pylist()


def ingest_source(
    name: str,
    input_dir: Path,
    landed_dir: Path,
    progress: Callable[[str], None] | None = None,
    spec=None,
    *,
    full_refresh: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> IngestResult:
    """Land one source of `input_dir` (SPEC section 2) into `landed_dir/<name>/`; with a
    `spec` (the contract's `sources.<name>`) of a loader kind, from that loader's tables.

    Files whose version (path, size, content hash) an earlier run parsed are not parsed again
    (versions.py); `full_refresh` forgets the cache and reads the input folder as it is now.
    Loader tables have no versions: they are read whole on every run. `memory_limit` caps the
    private DuckDB that parses and de-duplicates (DuckDB's syntax: `2GB`, `512MB`).
    """
    source = SOURCES[name]
    input_dir, landed_dir = Path(input_dir), Path(landed_dir)
    folder = input_dir / name
    from_tables = spec is not None and spec.kind != "files"
    files = [] if from_tables else list_input_files(input_dir, source)
    landed_dir.mkdir(parents=True, exist_ok=True)
    cache = ParsedCache(landed_dir, name)
    previous = _previous_ledger(landed_dir / name)
    if full_refresh:
        cache.clear()
    previous_current = {
        r["file"]: FileVersion(r["file"], r["size_bytes"], r["content_hash"]).key
        for r in previous
        if r["is_current"] and r["content_hash"] is not None and not full_refresh
    }
    work_plan = plan(files, cache, previous_current)
    scratch = landed_dir / f".{name}.work-{uuid.uuid4().hex}"
    out = scratch / "out"
    out.mkdir(parents=True)
    work = _Work(scratch / "parts")
    read: Counter = Counter()
    con = _connect(scratch / "spill", memory_limit)
    try:
        total = len(work_plan.to_parse)
        seen = 0
        new_problems: list[dict] = []
        if from_tables:
            files = _parse_warehouse(con, source, spec, progress)
        for batch, batch_files, problems in (
            [] if from_tables else prefetched(_batches(work_plan.to_parse, source))
        ):
            _parse_batch(con, source, batch)
            _file_problems(source, problems, work, read)
            new_problems.extend(problems)
            # Line-level problems (with a position) belong to files counted in the batch.
            seen += batch_files + sum(1 for p in problems if "position" not in p)
            if progress and total:
                progress(f"{name}: parsed {seen}/{total} files")
        for entity in source.entities:
            _normalise_non_ascii_emails(con, _parsed(entity), email_columns(source, entity))
        new_versions = [
            work_plan.versions[e.rel] for e in work_plan.to_parse if e.rel in work_plan.versions
        ]
        _cache_new_versions(con, source, cache, new_versions, new_problems, scratch / "staged")
        unchanged = work_plan.reused + work_plan.kept
        _add_cached(con, source, cache, [v.key for v in unchanged])
        for version in unchanged:
            _file_problems(source, work_plan.problems[version.key], work, read)
        if progress and unchanged:
            progress(f"{name}: {len(unchanged)} unchanged files reused, not parsed again")
        for entity in source.entities:
            _account_parsed(con, source, entity, work, read)
        counts = {"loaded": Counter(), "duplicates": Counter()}
        loaded_by_entity = {e.name: _finalize_entity(con, e, out, counts) for e in source.entities}
        loaded_by_file, dupes = counts["loaded"], counts["duplicates"]
        quarantine_parts = work.parts("_quarantine")
        if quarantine_parts:
            quarantine = con.execute(
                "select * from read_parquet(?) order by file, position, entity", [quarantine_parts]
            ).to_arrow_table()
        else:
            quarantine = QUARANTINE_SCHEMA.empty_table()
        quarantined = Counter(quarantine.column("file").to_pylist())
        listed = {entry.rel for entry in files}
        entries = sorted({entry.rel for entry in files} | {v.rel for v in work_plan.kept})
        current = [(rel, work_plan.versions.get(rel), rel in listed) for rel in entries]
        ledger = _ledger(source, current, read, loaded_by_file, quarantined, dupes, previous)
        pq.write_table(quarantine.cast(QUARANTINE_SCHEMA), out / "quarantine.parquet")
        pq.write_table(ledger, out / "ledger.parquet")
        present = from_tables or folder.is_dir()
        pq.write_table(
            pa.table(
                {"source": [name], "is_present": [present], "files": [len(files)]},
                schema=MANIFEST_SCHEMA,
            ),
            out / "manifest.parquet",
        )
        _swap_in(out, landed_dir / name)
        cache.prune({v.key for v in work_plan.versions.values()}, [e.name for e in source.entities])
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    current_rows = [r for r in ledger.to_pylist() if r["is_current"]]
    return IngestResult(
        source=name,
        is_present=present,
        files=len(files),
        records_read=sum(r["records_read"] for r in current_rows),
        records_loaded=sum(r["records_loaded"] for r in current_rows),
        records_quarantined=sum(r["records_quarantined"] for r in current_rows),
        duplicates=sum(r["duplicates"] for r in current_rows),
        loaded_by_entity=loaded_by_entity,
        landed_dir=landed_dir / name,
        files_parsed=len(work_plan.to_parse),
        files_reused=len(work_plan.reused),
        files_superseded=sum(
            1
            for rel, key in previous_current.items()
            if rel in work_plan.versions and work_plan.versions[rel].key != key
        ),
        files_missing=tuple(sorted(set(previous_current) - listed)),
    )


def _ledger(source, current, read, loaded, quarantined, dupes, previous) -> pa.Table:
    """One row per current file version, then the history: every earlier version a changed
    file superseded (SPEC section 9), each once."""
    rows = []
    for rel, version, in_input in current:
        row = (read[rel], loaded[rel], quarantined[rel], dupes[rel])
        if row[0] != row[1] + row[2] + row[3]:
            raise LedgerMismatch(
                f"{source.name} {rel}: read {row[0]} != loaded {row[1]} + quarantined {row[2]}"
                f" + duplicates {row[3]}"
            )
        rows.append(
            {
                "source": source.name,
                "file": rel,
                "records_read": row[0],
                "records_loaded": row[1],
                "records_quarantined": row[2],
                "duplicates": row[3],
                "size_bytes": version.size if version else None,
                "content_hash": version.sha256 if version else None,
                "is_current": True,
                "in_input": in_input,
            }
        )
    now = {(r["file"], r["content_hash"]) for r in rows}
    history, seen = [], set()
    for old in previous:
        identity = (old["file"], old["content_hash"])
        if old["content_hash"] is None or identity in now or identity in seen:
            continue
        seen.add(identity)
        history.append({**old, "is_current": False, "in_input": False})
    history.sort(key=lambda r: (r["file"], r["content_hash"]))
    return pa.Table.from_pylist(rows + history, schema=LEDGER_SCHEMA)
