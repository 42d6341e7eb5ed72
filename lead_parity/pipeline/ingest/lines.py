"""Input files as bytes and JSON-lines files as Arrow string arrays, without copying the text.

A 200 MB Segment export splits into a million lines in a few hundred milliseconds: the lines are
offsets into the file's own buffer. DuckDB's string_split and trim over the same text took about
half of ingestion's parse time.
"""

from __future__ import annotations

import codecs
import gzip
import os
from pathlib import Path

import numpy as np
import pyarrow as pa

from lead_parity.pipeline.ingest.listing import open_regular

BOM = b"\xef\xbb\xbf"
NEWLINE = 10
# Bytes that make a line blank when it holds nothing else (JSON whitespace).
BLANK_BYTES = b" \t\r\n"


def read_input(path: Path) -> tuple[bytes | None, str | None]:
    """(bytes, None), or (None, reason) for a file that cannot be read; gzip by extension.

    `path` is opened only as a regular file (listing.open_regular). A leading UTF-8 byte-order
    mark is dropped, as `utf-8-sig` decoding would.
    """
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            data = handle.read()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return None, f"cannot read file: {exc.strerror if isinstance(exc, OSError) else exc}"
    return (data[len(BOM) :] if data.startswith(BOM) else data), None


def invalid_utf8_lines(data: bytes) -> list[tuple[int, int, int]]:
    """(0-based line number, start, end) of every line holding bytes that are not UTF-8.

    Called only for a file that failed the whole-buffer check: C-speed decodes hop from one bad
    line to the next, so a file with one bad line costs a few passes, not a Python loop per line.
    """
    bad, start, line = [], 0, 0
    view = memoryview(data)
    while start < len(data):
        try:
            codecs.utf_8_decode(view[start:], "strict", True)
            break
        except UnicodeDecodeError as exc:
            at = start + exc.start
        line_start = data.rfind(b"\n", start, at) + 1 or start
        line_end = data.find(b"\n", at)
        line_end = len(data) if line_end < 0 else line_end + 1
        line += data.count(b"\n", start, line_start)
        bad.append((line, line_start, line_end))
        start, line = line_end, line + 1
    return bad


def whole_text(data: bytes) -> pa.Array:
    """A one-value string array over `data`, without a copy (and without checking it)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    return pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])


def is_utf8(data: bytes) -> bool:
    """Validated by Arrow over the whole buffer at once, without decoding to a Python str."""
    try:
        whole_text(data).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def split_lines(data: bytes) -> tuple[pa.LargeStringArray, np.ndarray]:
    """The non-blank lines of `data` and their 0-based line numbers.

    Each line keeps its line ending ("\\n" or "\\r\\n"): JSON parsers take it as whitespace, and
    the offsets can then point into `data` as they are. Callers strip it where it shows (the raw
    text of a quarantined line).
    """
    if not data:
        return pa.array([], pa.large_string()), np.array([], dtype=np.int64)
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == NEWLINE)
    starts = np.concatenate(([0], newlines + 1))
    if starts[-1] == len(data):  # text after the last newline is empty: not a line
        starts = starts[:-1]
    offsets = np.append(starts, len(data)).astype(np.int64)
    lines = pa.Array.from_buffers(
        pa.large_string(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    positions = np.arange(len(starts), dtype=np.int64)
    blank = _blank_lines(data, offsets)
    if blank.any():
        keep = np.flatnonzero(~blank)
        return lines.take(pa.array(keep)), positions[keep]
    return lines, positions


def _blank_lines(data: bytes, offsets: np.ndarray) -> np.ndarray:
    """Mask of lines holding only whitespace; only lines starting with whitespace are looked at."""
    first = np.frombuffer(data, dtype=np.uint8)[offsets[:-1]]
    suspects = np.flatnonzero(np.isin(first, np.frombuffer(BLANK_BYTES, dtype=np.uint8)))
    blank = np.zeros(len(offsets) - 1, dtype=bool)
    for i in suspects:
        blank[i] = not data[offsets[i] : offsets[i + 1]].strip(BLANK_BYTES)
    return blank
