"""Where a run's files live, all derived from the warehouse path so one variable names a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


ENGINES = ("duckdb", "spark")
# DuckDB names a database after its file's stem but renames these three (`main` becomes
# `main_db`); dbt-duckdb derives the name from the path and then finds no such catalog.
RESERVED_STEMS = ("main", "temp", "system")


def warehouse_name_problem(warehouse: Path) -> str | None:
    """Why a DuckDB warehouse file cannot have this name, in one line; None when it can."""
    if warehouse.stem.lower() in RESERVED_STEMS:
        return (
            f"warehouse {warehouse.name}: DuckDB reserves the name {warehouse.stem!r}; "
            f"name the file otherwise, e.g. {warehouse.with_name('lead_parity.duckdb')}"
        )
    return None


@dataclass(frozen=True)
class RunPaths:
    """`warehouse` is a DuckDB file (engine duckdb) or a Spark warehouse directory (spark)."""

    warehouse: Path
    engine: str = "duckdb"

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine {self.engine!r} is not one of {', '.join(ENGINES)}")

    @property
    def data_dir(self) -> Path:
        # A DuckDB file sits in the run's folder; a Spark warehouse directory is the folder.
        return self.warehouse if self.engine == "spark" else self.warehouse.parent

    def mart_parquet(self, table: str, schema: str = "marts") -> Path:
        """Where Spark writes a table: <warehouse>/<schema>.db/<table>/*.parquet."""
        return self.warehouse / f"{schema}.db" / table

    @property
    def landed(self) -> Path:
        return self.data_dir / "landed"

    @property
    def contract_tables(self) -> Path:
        return self.landed / "_contract"

    @property
    def published(self) -> Path:
        return self.data_dir / "published"

    @property
    def dbt_target(self) -> Path:
        return self.data_dir / "dbt_target"

    @property
    def history(self) -> Path:
        """Append-only records kept across runs (SLO evaluations, incidents, outbox)."""
        return self.data_dir / "history"

    @property
    def data_docs(self) -> Path:
        return self.data_dir / "data_docs"

    def dbt_env(self) -> dict[str, str]:
        return {
            "LEAD_PARITY_WAREHOUSE": str(self.warehouse),
            "LEAD_PARITY_LANDED_DIR": str(self.landed),
        }
