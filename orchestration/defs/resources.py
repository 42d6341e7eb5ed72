"""The one project resource: where a run reads, writes, which contract and which as_of.

Configured from the environment (`dg.EnvVar`), so `dagster dev`, the schedule and the
`lead-parity` CLI all run the same definitions against the same files.
"""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from lead_parity.contract import Contract, load_contract
from lead_parity.pipeline.paths import RunPaths
from lead_parity.pipeline.timeparse import parse_as_of


class LeadParityConfig(dg.ConfigurableResource):
    """Input folder, warehouse file, routing contract and as_of of a pipeline run."""

    input_dir: str
    warehouse: str
    contract_path: str = ""
    as_of: str = ""  # ISO-8601; empty = now (UTC), fixed once per run by the contract asset
    engine: str = "duckdb"  # dbt target: duckdb (a file) or spark (a warehouse directory)

    def paths(self) -> RunPaths:
        return RunPaths(Path(self.warehouse).resolve(), self.engine or "duckdb")

    def duckdb_paths(self, stage: str) -> RunPaths:
        """Paths for a stage that reads the DuckDB warehouse file (SLO checks, incidents)."""
        paths = self.paths()
        if paths.engine != "duckdb":
            raise dg.Failure(
                f"{stage} reads the DuckDB warehouse and does not run on engine "
                f"{paths.engine!r}; `lead-parity run --engine {paths.engine}` builds the marts "
                "only (docs/running-at-scale.md)"
            )
        return paths

    def contract(self) -> Contract:
        return load_contract(self.contract_path or None)

    def as_of_datetime(self) -> datetime:
        return parse_as_of(self.as_of) if self.as_of else datetime.now(UTC).replace(microsecond=0)


lead_parity_config = LeadParityConfig(
    input_dir=dg.EnvVar("LEAD_PARITY_INPUT_DIR"),
    warehouse=dg.EnvVar("LEAD_PARITY_WAREHOUSE"),
    contract_path=dg.EnvVar("LEAD_PARITY_CONTRACT"),
    as_of=dg.EnvVar("LEAD_PARITY_AS_OF"),
    engine=dg.EnvVar("LEAD_PARITY_ENGINE"),
)
