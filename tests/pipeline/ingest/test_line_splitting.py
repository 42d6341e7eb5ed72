"""JSON-lines files split into lines over their own bytes: line numbers, blank lines, line
endings, byte-order marks and broken files, each as ingestion lands them."""

import gzip
import json

import duckdb
import pytest

from lead_parity.pipeline.ingest import ingest_source
from lead_parity.pipeline.ingest.lines import is_utf8, split_lines


def lines_of(data: bytes) -> list[tuple[int, str]]:
    lines, positions = split_lines(data)
    return list(zip(positions.tolist(), lines.to_pylist(), strict=True))


def test_lines_keep_their_numbers_and_endings_and_skip_blank_ones():
    data = b'{"a":1}\n\n  \t \r\n{"b":2}\r\n{"c":3}'
    assert lines_of(data) == [(0, '{"a":1}\n'), (3, '{"b":2}\r\n'), (4, '{"c":3}')]


@pytest.mark.parametrize("data", [b"", b"\n", b"\n\n  \n", b" "])
def test_a_file_of_nothing_but_whitespace_has_no_lines(data):
    assert lines_of(data) == []


def test_a_line_starting_with_a_space_is_still_a_line():
    assert lines_of(b' {"a":1}\n') == [(0, ' {"a":1}\n')]


def test_utf8_is_checked_over_the_whole_buffer():
    assert is_utf8("Zoë ＢＯＢ 😀".encode())
    assert not is_utf8(b'{"a":"\xff"}')
    assert not is_utf8("é".encode()[:1])


def write(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def message(mid: str) -> str:
    return json.dumps(
        {"type": "track", "messageId": mid, "timestamp": "2026-10-10T10:00:00Z", "event": "x"}
    )


def test_line_endings_bom_and_broken_files_are_all_accounted_for(tmp_path):
    inp = tmp_path / "input" / "segment"
    # Windows line endings, a byte-order mark, a whitespace-only line, no final newline.
    write(
        inp / "a.jsonl",
        b"\xef\xbb\xbf" + "\r\n".join([message("m1"), "{broken", "\t ", message("m2")]).encode(),
    )
    write(inp / "b.jsonl", message("m3").encode() + b'\n{"type": "track", "x": "\xff"}\n')
    write(inp / "c.jsonl.gz", gzip.compress((message("m4") + "\n").encode())[:-6])
    write(inp / "d.jsonl.gz", gzip.compress((message("m5") + "\n").encode()))
    landed = tmp_path / "landed"
    result = ingest_source("segment", tmp_path / "input", landed)
    with duckdb.connect() as con:
        loaded = con.execute(
            "select message_id, _file, _position from read_parquet(?) order by message_id",
            [str(landed / "segment" / "messages.parquet")],
        ).fetchall()
        bad = con.execute(
            "select file, position, reason, raw from read_parquet(?) order by file",
            [str(landed / "segment" / "quarantine.parquet")],
        ).fetchall()
        ledger = con.execute(
            "select file, records_read, records_loaded, records_quarantined from read_parquet(?)"
            " order by file",
            [str(landed / "segment" / "ledger.parquet")],
        ).fetchall()
    # The line that is not UTF-8 costs that line only: m3 beside it lands.
    assert loaded == [("m1", "segment/a.jsonl", 0), ("m2", "segment/a.jsonl", 3),
                      ("m3", "segment/b.jsonl", 0), ("m5", "segment/d.jsonl.gz", 0)]  # fmt: skip
    assert bad[0] == ("segment/a.jsonl", 1, "not valid JSON", "{broken")
    assert bad[1] == (
        "segment/b.jsonl",
        1,
        "line is not valid UTF-8",
        '{"type": "track", "x": "\\xff"}',
    )
    assert bad[2][0] == "segment/c.jsonl.gz" and bad[2][2].startswith("cannot read file")
    assert ledger == [("segment/a.jsonl", 3, 2, 1), ("segment/b.jsonl", 2, 1, 1),
                      ("segment/c.jsonl.gz", 1, 0, 1), ("segment/d.jsonl.gz", 1, 1, 0)]  # fmt: skip
    assert result.records_read == result.records_loaded + result.records_quarantined == 7
