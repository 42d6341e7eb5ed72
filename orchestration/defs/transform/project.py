"""The dbt project, parsed when its files change: its manifest drives the asset graph."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from lead_parity.pipeline.build import dbt_vars
from lead_parity.pipeline.paths import DBT_PROJECT_DIR
from orchestration.defs.resources import DEPLOYMENT_ENV, LeadParityConfig

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")


def _newest_project_file() -> float:
    newest = 0.0
    for name in _PROJECT_FILES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def ensure_manifest() -> Path:
    """Parse the project when its manifest is missing or older than any model, macro or test.

    A stale manifest would describe a graph that the next `dbt build` no longer has.
    """
    manifest = dbt_project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_project_file():
        return manifest
    # Parse with exactly the profile, sources and vars a run on this code location's default
    # warehouse uses: dbt keeps a partial parse only while those match, so every such run
    # (dagster-dbt copies this partial_parse.msgpack into its target folder) skips the full parse.
    defaults = LeadParityConfig()
    env = {
        **DEPLOYMENT_ENV,
        **defaults.paths().dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=manifest.parent) as tmp:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet",
             "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", tmp, "--target", defaults.engine,
             "--vars", dbt_vars(defaults.contract())],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"dbt parse failed: {(done.stdout + done.stderr)[-2000:]}")
        # Other processes may be loading the graph: swap the whole file in at once.
        os.replace(Path(tmp) / "partial_parse.msgpack", manifest.with_name("partial_parse.msgpack"))
        os.replace(Path(tmp) / "manifest.json", manifest)
    return manifest
