"""The baseline for the dbt build: the same logic as one DuckDB SQL script, without dbt.

Every enabled model's compiled SQL (from the manifest of a `dbt build` on the same stack) is
written, in dependency order, into one script of `create view` / `create table ... as` statements
and executed in a single DuckDB connection: no dbt start-up or parse, no per-model connection,
transaction or rename dance, no tests. The identity model's numpy union-find, the one step that
is not SQL, is run by this runner between the statements with the model's own function.

Taking the compiled SQL instead of a second hand-maintained copy keeps the baseline's logic equal
to the models' by construction; `compare` proves it on the data (every mart and ops table equal
to the dbt-built one).
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lead_parity.pipeline.paths import DBT_PROJECT_DIR


@dataclass
class Step:
    name: str
    schema: str
    language: str  # sql | python
    materialized: str
    code: str


def _ordered_models(manifest: dict) -> list[dict]:
    models = {
        uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"
    }
    done: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen:
            return
        seen.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            if parent in models:
                visit(parent)
        done.append(uid)

    for uid in sorted(models):
        visit(uid)
    return [models[uid] for uid in done]


def script_steps(manifest: dict) -> list[Step]:
    steps = []
    for node in _ordered_models(manifest):
        if node["language"] == "sql" and not node.get("compiled_code"):
            raise ValueError(f"{node['name']} has no compiled SQL: run dbt build first")
        steps.append(
            Step(
                name=node["name"],
                schema=node["schema"],
                language=node["language"],
                materialized=node["config"]["materialized"],
                code=node.get("compiled_code") or "",
            )
        )
    return steps


def statement(step: Step) -> str:
    kind = "view" if step.materialized == "view" else "table"
    return f'create or replace {kind} "{step.schema}"."{step.name}" as (\n{step.code}\n)'


def write_script(steps: list[Step], path: Path) -> Path:
    parts = []
    for step in steps:
        if step.language == "python":
            parts.append(
                f"-- {step.name}: the model's numpy union-find, run by benchmarks/sql_baseline.py"
            )
        else:
            parts.append(statement(step) + ";")
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return path


class _DbtShim:
    """What the identity Python model uses of dbt-duckdb's `dbt` object: config() and ref()."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str) -> None:
        self._con, self._schema = con, schema

    def config(self, **_: object) -> None:
        return None

    def ref(self, name: str):
        return self._con.table(f'"{self._schema}"."{name}"')


def _python_model(step: Step):
    path = next((DBT_PROJECT_DIR / "models").rglob(f"{step.name}.py"))
    spec = importlib.util.spec_from_file_location(step.name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(manifest_path: Path, database: Path, group_of) -> dict:
    """Execute the script into `database` (same file name as the dbt warehouse, so the compiled
    three-part names resolve); returns wall seconds in total and per model group."""
    manifest = json.loads(manifest_path.read_text())
    steps = script_steps(manifest)
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    write_script(steps, database.with_name("build.sql"))
    groups: dict[str, float] = {}
    started = time.perf_counter()
    # The same DuckDB settings as the dbt profile's, so only dbt itself differs.
    with duckdb.connect(str(database), config={"preserve_insertion_order": False}) as con:
        for schema in sorted({s.schema for s in steps}):
            con.execute(f'create schema if not exists "{schema}"')
        for step in steps:
            t0 = time.perf_counter()
            if step.language == "python":
                shim = _DbtShim(con, step.schema)
                result = _python_model(step).model(shim, con)
                con.register("python_model_result", result)
                con.execute(
                    f'create or replace table "{step.schema}"."{step.name}" as '
                    "select * from python_model_result"
                )
                con.unregister("python_model_result")
            else:
                con.execute(statement(step))
            group = group_of(step.name)
            groups[group] = groups.get(group, 0.0) + time.perf_counter() - t0
    return {"seconds": time.perf_counter() - started, "groups": groups, "models": len(steps)}


def compare(baseline: Path, built: Path, schemas=("marts", "ops")) -> dict[str, int]:
    """Rows in one database's table and not the other's (both directions), per table."""
    differences = {}
    with duckdb.connect(str(baseline), read_only=True) as con:
        # ATTACH takes no parameters: the path goes in as a quoted string literal.
        quoted = str(built).replace("'", "''")
        con.execute(f"attach '{quoted}' as built (read_only)")
        catalog = baseline.stem
        for schema in schemas:
            tables = con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = ? and table_schema = ? order by 1",
                [catalog, schema],
            ).fetchall()
            for (table,) in tables:
                ours = f'"{catalog}"."{schema}"."{table}"'
                theirs = f'built."{schema}"."{table}"'
                n = con.execute(
                    f"select (select count(*) from (from {ours} except all from {theirs}))"
                    f" + (select count(*) from (from {theirs} except all from {ours}))"
                ).fetchone()[0]
                differences[f"{schema}.{table}"] = n
    return differences
