"""File versions and the parsed-records cache: a file already ingested is not parsed again.

SPEC section 9 ("Runs over time"): a file already ingested and unchanged (same path, size and
content hash) is not parsed again; a changed file is re-ingested and supersedes its earlier
version. A version is (path, content hash). Its parsed records (valid and invalid, e-mails
normalised, before de-duplication, which spans files) are kept in the cache beside the landed
folder:

    landed/.parsed/<source>/<entity>/chunk-<id>.parquet   rows of the versions one run parsed,
                                                          each row tagged with its `_version`
    landed/.parsed/<source>/versions/<key>.json           written last: the version is complete
                                                          (path, size, hash, its chunk, file-
                                                          and line-level problems)

One chunk per run and entity, not one folder per version: a 1M-person stack has about 8,000
files per source, and a partitioned write keeps a buffer per partition (it ran out of memory).
A chunk stays while any version it holds is current; rows of its superseded versions are
filtered out on reading, and a full refresh starts the cache over.

Landing then de-duplicates and accounts the current versions' records as a fresh run would, so
the landed tables equal a fresh run's row for row. A crash anywhere leaves either a complete
version (its marker exists) or leftovers the next run ignores and overwrites.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lead_parity.files import write_text
from lead_parity.pipeline.ingest.listing import InputFile, open_regular

CACHE_DIR = ".parsed"
VERSIONS = "versions"
VERSION_COLUMN = "_version"


@dataclass(frozen=True)
class FileVersion:
    rel: str
    size: int
    sha256: str

    @property
    def key(self) -> str:
        """The cache key: the same content under another path is another version (rows carry
        their path)."""
        return hashlib.sha256(f"{self.rel}\0{self.sha256}".encode()).hexdigest()[:32]


@dataclass
class Plan:
    """What a run does with each listed file."""

    versions: dict[str, FileVersion] = field(default_factory=dict)  # rel -> its current version
    to_parse: list[InputFile] = field(default_factory=list)
    reused: list[FileVersion] = field(default_factory=list)
    kept: list[FileVersion] = field(default_factory=list)  # gone from the input, records kept
    problems: dict[str, list[dict]] = field(default_factory=dict)  # key -> cached problems


def digest(path: Path) -> tuple[int, str] | None:
    """(size, sha256 hex) of the file as stored, or None when it cannot be read (the parse then
    quarantines it with the reason)."""
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            sha = hashlib.file_digest(handle, "sha256")
            return handle.tell(), sha.hexdigest()
    except OSError:
        return None


class ParsedCache:
    """The parsed records of one source's file versions."""

    def __init__(self, landed_dir: Path, source: str):
        self.root = Path(landed_dir) / CACHE_DIR / source
        # Markers are written once and never changed: a run reads each at most once (planning,
        # problems and every entity's chunk list all ask), not once per question.
        self._read: dict[str, dict | None] = {}

    def marker(self, key: str) -> Path:
        return self.root / VERSIONS / f"{key}.json"

    def _load(self, key: str) -> dict | None:
        if key not in self._read:
            path = self.marker(key)
            self._read[key] = json.loads(path.read_text()) if path.is_file() else None
        return self._read[key]

    def has(self, key: str) -> bool:
        # A marker of the earlier one-folder-per-version layout names no chunk: parsed again.
        marker = self._load(key)
        return marker is not None and "chunk" in marker

    def read_marker(self, key: str) -> dict:
        marker = self._load(key)
        if marker is None:
            raise FileNotFoundError(self.marker(key))
        return marker

    def markers(self) -> dict[str, dict]:
        folder = self.root / VERSIONS
        if not folder.is_dir():
            return {}
        return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}

    def files(self, entity: str, keys: list[str]) -> list[str]:
        """The chunk files holding `entity`'s rows of these versions (and maybe of others:
        filter on `_version`)."""
        chunks = sorted({self.read_marker(key)["chunk"] for key in keys})
        return [str(p) for c in chunks if (p := self._chunk(entity, c)).is_file()]

    def _chunk(self, entity: str, chunk: str) -> Path:
        return self.root / entity / f"chunk-{chunk}.parquet"

    def commit(
        self,
        staged: Path,
        entities: list[str],
        chunk: str,
        versions: list[FileVersion],
        problems: dict[str, list[dict]],
    ) -> None:
        """Move the chunk written as `staged/<entity>.parquet` into the cache, then write each
        version's marker (the commit point)."""
        for entity in entities:
            src = staged / f"{entity}.parquet"
            if src.is_file():
                dst = self._chunk(entity, chunk)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
        (self.root / VERSIONS).mkdir(parents=True, exist_ok=True)
        for version in versions:
            body = {
                "rel": version.rel,
                "size": version.size,
                "sha256": version.sha256,
                "chunk": chunk,
                "problems": problems.get(version.rel, []),
            }
            write_text(self.marker(version.key), json.dumps(body, sort_keys=True))
            self._read[version.key] = body

    def prune(self, keep: set[str], entities: list[str]) -> int:
        """Forget every version not in `keep` (superseded, or dropped by a full refresh) and
        remove the chunks no kept version is in; markers first, so a crash midway leaves only
        chunks nothing points to, which the next prune removes."""
        removed = 0
        live: set[str] = set()
        for key, marker in self.markers().items():
            if key not in keep or "chunk" not in marker:
                self.marker(key).unlink(missing_ok=True)
                self._read.pop(key, None)
                removed += key not in keep
            else:
                live.add(marker["chunk"])
        for entity in entities:
            folder = self.root / entity
            if not folder.is_dir():
                continue
            for part in folder.iterdir():
                chunk = part.name.removeprefix("chunk-").removesuffix(".parquet")
                if not part.name.startswith("chunk-") or chunk not in live:
                    # Unreferenced, or a folder of the earlier per-version layout.
                    if part.is_dir():
                        shutil.rmtree(part, ignore_errors=True)
                    else:
                        part.unlink(missing_ok=True)
        return removed

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self._read.clear()


def plan(files: list[InputFile], cache: ParsedCache, previous_current: dict[str, str]) -> Plan:
    """Which listed files to parse and which cached versions to reuse.

    `previous_current` maps each file the previous run held current to its version key; those
    no longer listed keep their records (an export folder pruned of old files must not erase
    history) when their version is in the cache.
    """
    result = Plan()
    for entry in files:
        found = digest(entry.path) if entry.path is not None else None
        if found is None:
            # Unreadable or not a file: parsed (quarantined) again on every run, never cached.
            result.to_parse.append(entry)
            continue
        version = FileVersion(entry.rel, *found)
        result.versions[entry.rel] = version
        if cache.has(version.key):
            result.reused.append(version)
            result.problems[version.key] = cache.read_marker(version.key)["problems"]
        else:
            result.to_parse.append(entry)
    listed = {entry.rel for entry in files}
    for rel, key in sorted(previous_current.items()):
        if rel in listed or not cache.has(key):
            continue
        marker = cache.read_marker(key)
        version = FileVersion(rel, marker["size"], marker["sha256"])
        result.versions[rel] = version
        result.kept.append(version)
        result.problems[key] = marker["problems"]
    return result
