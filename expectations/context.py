"""The Great Expectations context the suites run in: ephemeral, with a filesystem Data Docs site.

GX is driven in memory on pandas DataFrames (its DuckDB SQL path has known bugs); only the Data
Docs site touches disk. One context is kept per Data Docs folder for the life of the process,
because the site index lists only results its own context still holds: separate contexts per
check would each rewrite the index with their own suite alone.
"""

from __future__ import annotations

import threading
from pathlib import Path

import great_expectations as gx
from great_expectations.data_context.data_context.context_factory import set_context
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

SITE_NAME = "lead_parity"
DATASOURCE_NAME = "lead_parity_frames"

_contexts: dict[Path | None, object] = {}
_lock = threading.RLock()


def site_config(data_docs_dir: Path) -> dict:
    """A local Data Docs site writing static HTML into `data_docs_dir`."""
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(data_docs_dir),
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "show_how_to_buttons": False,
        },
    }


def quality_context(data_docs_dir: Path | None):
    """The process-wide ephemeral context whose Data Docs site is `data_docs_dir`.

    None gives a context with no site at all: rendering pages costs far more than validating,
    so callers that only need verdicts (rule tests, benchmarks) skip it.
    """
    key = Path(data_docs_dir).resolve() if data_docs_dir is not None else None
    with _lock:
        context = _contexts.get(key)
        if context is None:
            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(),
                analytics_enabled=False,
                progress_bars=ProgressBarsConfig(globally=False),
                data_docs_sites={SITE_NAME: site_config(key)} if key else {},
            )
            context = gx.get_context(mode="ephemeral", project_config=config)
            context.data_sources.add_pandas(DATASOURCE_NAME)
            _contexts[key] = context
        # Objects created below are bound to their owner context, but lookups by name in GX still
        # go through the current one; make it ours.
        set_context(context)
        return context


def context_lock() -> threading.RLock:
    """Held while a suite runs and the site is rebuilt, so index pages never interleave."""
    return _lock


def data_docs_index(data_docs_dir: Path) -> Path | None:
    """The site's index.html, or None when no suite has run into this folder yet."""
    index = Path(data_docs_dir).resolve() / "index.html"
    return index if index.is_file() else None


def data_docs_url(data_docs_dir: Path) -> str | None:
    """`file://` URL of the Data Docs index (what `lead-parity run` prints), or None."""
    index = data_docs_index(data_docs_dir)
    return index.as_uri() if index else None
