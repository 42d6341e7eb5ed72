"""Read what the connectors landed, de-duplicated by id the way SPEC section 2 asks.

A stand-in for the file-mode ingestion in tests that only need the record sets: newest version
of an id wins, a later file wins a tie. Pages that are not JSON are returned separately.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def page_files(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("*.json"))


def parsed_pages(folder: Path) -> tuple[list[tuple[Path, Any]], list[Path]]:
    good, bad = [], []
    for path in page_files(folder):
        try:
            good.append((path, json.loads(path.read_bytes())))
        except ValueError:
            bad.append(path)
    return good, bad


def contacts(input_dir: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for _, page in parsed_pages(Path(input_dir) / "hubspot_contacts")[0]:
        for rec in page["results"]:
            old = out.get(rec["id"])
            if old is None or rec["updatedAt"] >= old["updatedAt"]:
                out[rec["id"]] = rec
    return out


def tickets(input_dir: Path) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for _, page in parsed_pages(Path(input_dir) / "zendesk_tickets")[0]:
        for rec in page["tickets"]:
            old = out.get(rec["id"])
            if old is None or rec["updated_at"] >= old["updated_at"]:
                out[rec["id"]] = rec
    return out


def submissions(input_dir: Path) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    root = Path(input_dir) / "hubspot_forms"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        for _, page in parsed_pages(folder)[0]:
            for rec in page["results"]:
                out[(folder.name, rec["conversionId"])] = rec
    return out


def record_count(folder: Path, key: str) -> int:
    """Records over all parsable pages, duplicates included."""
    return sum(len(page[key]) for _, page in parsed_pages(folder)[0])
