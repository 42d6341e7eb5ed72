"""docs/bi.md, followed as written: its Python and SQL examples run against a published snapshot."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

DOC = Path(__file__).resolve().parents[2] / "docs" / "bi.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def _data_folder(tmp_path: Path, published: Path) -> Path:
    """A folder laid out as the doc assumes: data/published -> the snapshot."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "published").symlink_to(published.resolve())
    return tmp_path


def test_the_python_examples_run_as_written(synthetic_stack, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_data_folder(tmp_path, synthetic_stack["published"]))
    blocks = _blocks("python")
    assert blocks, "docs/bi.md lost its Python example"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})
    shown = capsys.readouterr().out
    assert "conversion_date" in shown and "hop" in shown


def test_the_sql_examples_run_on_the_snapshot(synthetic_stack):
    blocks = _blocks("sql")
    assert blocks
    snapshot = synthetic_stack["published"].resolve() / "lead_parity.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        for block in blocks:
            rows = con.execute(block).fetchall()
            assert rows, block


def test_the_parquet_queries_of_the_bi_tool_sections_read_the_current_snapshot(synthetic_stack):
    """The Metabase and Superset sections' native queries, with /data the data folder."""
    data_folder = synthetic_stack["published"].parent
    queries = re.findall(r"`(select \* from (?:read_parquet\()?'/data/[^`]+)`", DOC.read_text())
    assert len(queries) >= 2
    with duckdb.connect() as con:
        for query in queries:
            located = query.replace("'/data/", f"'{data_folder}/")
            assert con.execute(located).fetchall()
