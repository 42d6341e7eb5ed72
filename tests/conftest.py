"""Fixtures shared across test packages."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

WORKED = Path("/work/shared/examples/worked")
WORKED_AS_OF = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class WorkedBuild:
    """The worked examples (SPEC section 8) built once for the session: read, or copy `root`."""

    root: Path
    input_dir: Path
    warehouse: Path
    as_of: datetime


@pytest.fixture(scope="session")
def worked_build(tmp_path_factory) -> WorkedBuild:
    # One dbt build (~35 s) shared by the worked-example verdicts and the remediation test,
    # which copies it before changing anything.
    from lead_parity.pipeline.build import build_warehouse

    root = tmp_path_factory.mktemp("worked")
    shutil.copytree(WORKED, root / "input")
    warehouse = root / "wh" / "warehouse.duckdb"
    build_warehouse(root / "input", warehouse, as_of=WORKED_AS_OF)
    return WorkedBuild(root, root / "input", warehouse, WORKED_AS_OF)
