"""Keeps `import great_expectations` from ending the process when pyspark is installed.

GX probes `pyspark.sql.connect` at import and catches only ImportError. pyspark 4 takes a
`__main__` without `__spec__` and `__file__` (Dagster's spawned run worker, `python -c`) for a
doctest run and calls `sys.exit(0)` when Spark Connect's optional dependencies are missing: every
run launched from the Dagster UI or a schedule died with exit code 0 before its first step.
Nothing here uses Spark through GX (the suites run on pandas frames), so in exactly the processes
where pyspark would make that check, Spark Connect is refused with an ImportError instead.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

SPARK_CONNECT = "pyspark.sql.connect"


def main_looks_like_a_doctest() -> bool:
    """pyspark's own test (pyspark/sql/connect/utils.py, check_dependencies)."""
    main = sys.modules.get("__main__")
    return (
        main is not None
        and getattr(main, "__spec__", None) is None
        and not hasattr(main, "__file__")
        and not hasattr(sys, "ps1")
    )


class RefuseSparkConnect(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == SPARK_CONNECT or fullname.startswith(SPARK_CONNECT + "."):
            raise ImportError(f"{fullname} is not imported here (expectations.spark_connect_guard)")
        return None


def install() -> bool:
    """Refuse Spark Connect in this process if pyspark could exit it; True when installed."""
    if not main_looks_like_a_doctest() or importlib.util.find_spec("pyspark") is None:
        return False
    if not any(isinstance(finder, RefuseSparkConnect) for finder in sys.meta_path):
        sys.meta_path.insert(0, RefuseSparkConnect())
    return True
