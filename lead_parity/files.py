"""Files that readers may open at any moment: written beside their final name, then renamed.

A reader (dbt, the dashboard, another run) sees the previous file or the whole new one, never a
half-written one, and a crash leaves at most a dot-named temp file that no reader's glob matches.
The connectors' page landing (pipeline/connectors/landing.py) adds fsyncs and its own temp names
on top, for pages that must survive a power cut.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temp path beside `path` to write; renamed over `path` when the block ends without an
    error, removed when it raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
