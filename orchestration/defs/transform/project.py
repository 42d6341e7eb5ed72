"""The dbt project, parsed once: its manifest drives the asset graph."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib.paths import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> Path:
    """Parse the project when no manifest exists yet (fresh clone), so the graph can load."""
    if not dbt_project.manifest_path.exists():
        # Parsing needs the env vars the profile and sources name, not real files behind them.
        env = {
            "LEAD_PARITY_WAREHOUSE": "parse-only.duckdb",
            "LEAD_PARITY_LANDED_DIR": "parse-only",
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet",
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
    return dbt_project.manifest_path
