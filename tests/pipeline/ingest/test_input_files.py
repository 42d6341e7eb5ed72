"""Input files must resolve inside the input folder; everything else is accounted for, unread."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pytest

from lead_parity.pipeline.ingest import ingest_source
from lead_parity.pipeline.ingest.lines import read_input

SECRET = "outside-secret-7f3a"


def track(mid: str) -> str:
    return json.dumps(
        {"type": "track", "messageId": mid, "timestamp": "2026-10-10T10:00:00Z", "event": "x"}
    )


def table(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql.replace("T", f"read_parquet('{path}')", 1)).fetchall()


class OpenWatch:
    """A FIFO that records whether anything ever opened it for reading.

    Opening a FIFO for writing without blocking succeeds only while a reader has it open, so a
    writer polling it proves (or disproves) that the ingestion opened the file.
    """

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path, self.opened, self._stop = path, False, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.005)
                continue
            self.opened = True
            os.write(fd, (track(SECRET) + "\n").encode())
            os.close(fd)

    def stop(self) -> bool:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.opened


@pytest.fixture
def hostile_input(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.jsonl").write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\n")
    (outside / "forms").mkdir()
    (outside / "forms" / "p1.json").write_text(json.dumps({"results": [], "secret": SECRET}))
    (outside / "tickets").mkdir()
    (outside / "tickets" / "p1.json").write_text(json.dumps({"tickets": [], "secret": SECRET}))
    watch = OpenWatch(outside / "pipe.jsonl")

    inp = tmp_path / "input"
    seg = inp / "segment"
    seg.mkdir(parents=True)
    (seg / "a_good.jsonl").write_text(track("m1") + "\n" + track("m2") + "\n")
    (inp / "archive").mkdir()
    (inp / "archive" / "today.jsonl").write_text(track("m3") + "\n")
    (seg / "b_link_inside.jsonl").symlink_to(inp / "archive" / "today.jsonl")
    (seg / "c_link_outside.jsonl").symlink_to(outside / "passwd.jsonl")
    (seg / "d_link_to_outside_fifo.jsonl").symlink_to(outside / "pipe.jsonl")
    (seg / "e_dangling.jsonl").symlink_to(inp / "archive" / "gone.jsonl")
    os.mkfifo(seg / "f_fifo.jsonl")
    (seg / "g_folder.jsonl").mkdir()
    (seg / "g_folder.jsonl" / "inner.jsonl").write_text(track("m9") + "\n")
    (seg / "h_relative_escape.jsonl").symlink_to(Path("..") / ".." / "outside" / "passwd.jsonl")
    (seg / "i_loop.jsonl").symlink_to(seg / "i_loop.jsonl")
    (seg / "j_link_to_fifo.jsonl").symlink_to(seg / "f_fifo.jsonl")
    forms = inp / "hubspot_forms"
    forms.mkdir()
    (forms / "guid1").symlink_to(outside / "forms", target_is_directory=True)
    (inp / "zendesk_tickets").symlink_to(outside / "tickets", target_is_directory=True)
    yield {"input": inp, "watch": watch}
    watch.stop()


def test_only_files_inside_the_input_folder_are_read_and_every_entry_is_accounted_for(
    hostile_input, tmp_path
):
    inp = hostile_input["input"]
    landed = tmp_path / "landed"
    started = time.monotonic()
    results = {s: ingest_source(s, inp, landed) for s in ("segment", "hubspot_forms",
                                                          "zendesk_tickets")}  # fmt: skip
    assert time.monotonic() - started < 60  # nothing blocked on a FIFO
    assert hostile_input["watch"].stop() is False, "the FIFO outside the input folder was opened"

    seg = landed / "segment"
    assert table(seg / "messages.parquet", "select message_id from T order by 1") == [
        ("m1",), ("m2",), ("m3",),
    ]  # fmt: skip
    reasons = dict(table(seg / "quarantine.parquet", "select file, reason from T"))
    assert reasons == {
        "segment/c_link_outside.jsonl": "symbolic link pointing outside the input folder; not read",
        "segment/d_link_to_outside_fifo.jsonl":
            "symbolic link pointing outside the input folder; not read",
        "segment/e_dangling.jsonl": "dangling symbolic link (its target does not exist)",
        "segment/f_fifo.jsonl": "a FIFO (named pipe), not a file; not read",
        "segment/g_folder.jsonl": "a folder, not a file; not read",
        "segment/h_relative_escape.jsonl":
            "symbolic link pointing outside the input folder; not read",
        "segment/i_loop.jsonl":
            "symbolic link cannot be followed: Too many levels of symbolic links",
        "segment/j_link_to_fifo.jsonl": "symbolic link to a FIFO (named pipe); not read",
    }  # fmt: skip
    ledger = table(
        seg / "ledger.parquet",
        "select file, records_read, records_loaded, records_quarantined, duplicates from T"
        " order by file",
    )
    assert [r[0] for r in ledger] == sorted(["segment/a_good.jsonl", "segment/b_link_inside.jsonl",
                                             *reasons])  # fmt: skip
    for file, read, loaded, quarantined, duplicates in ledger:
        assert read == loaded + quarantined + duplicates, file
        assert (loaded, quarantined) == ((0, 1) if file in reasons else (read, 0)), file

    forms = table(landed / "hubspot_forms" / "quarantine.parquet", "select file, reason from T")
    assert forms == [
        ("hubspot_forms/guid1/p1.json",
         "resolves outside the input folder (a linked folder); not read"),
    ]  # fmt: skip
    tickets = table(landed / "zendesk_tickets" / "quarantine.parquet", "select file, reason from T")
    assert tickets == [("zendesk_tickets/", "source folder links outside the input folder")]
    assert results["zendesk_tickets"].records_read == 1

    for path in landed.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
            if path.suffix == ".parquet":  # the parsed cache also holds .json version markers
                assert SECRET not in str(table(path, "select * from T")), path


def test_a_device_node_is_never_opened(tmp_path):
    seg = tmp_path / "input" / "segment"
    seg.mkdir(parents=True)
    (seg / "a.jsonl").write_text(track("m1") + "\n")
    try:
        # /dev/zero's numbers: read, it would never end.
        os.mknod(seg / "zero.jsonl", stat.S_IFCHR | 0o644, os.makedev(1, 5))
    except PermissionError:
        # Without CAP_MKNOD, a socket is the special file anyone can make.
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(seg / "zero.jsonl"))
    landed = tmp_path / "landed"
    result = ingest_source("segment", tmp_path / "input", landed)
    assert (result.records_read, result.records_loaded, result.records_quarantined) == (2, 1, 1)
    reason = table(landed / "segment" / "quarantine.parquet", "select reason from T")[0][0]
    assert reason in ("a character device, not a file; not read", "a socket, not a file; not read")


def test_a_file_swapped_for_a_fifo_after_listing_is_not_read(tmp_path):
    path = tmp_path / "x.jsonl"
    os.mkfifo(path)
    data, problem = read_input(path)  # would block forever if opened for reading plainly
    assert data is None and problem == "cannot read file: not a regular file"


def test_a_file_swapped_for_a_link_after_listing_is_not_followed(tmp_path):
    (tmp_path / "real.jsonl").write_text(track("m1"))
    (tmp_path / "x.jsonl").symlink_to(tmp_path / "real.jsonl")
    data, problem = read_input(tmp_path / "x.jsonl")
    assert data is None and problem == "cannot read file: Too many levels of symbolic links"


UNREADABLE_RUN = """
import json, sys
from lead_parity.pipeline.ingest import ingest_source
r = ingest_source("segment", sys.argv[1], sys.argv[2])
print(json.dumps([r.records_read, r.records_loaded, r.records_quarantined]))
"""
# Root reads any file through CAP_DAC_OVERRIDE: the ingestion runs as root without it (and
# without CAP_DAC_READ_SEARCH), so mode 000 means unreadable while root still owns the venv (a
# switch to `nobody` failed where the checkout sits in a folder only root may enter).
WITHOUT_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def test_an_unreadable_file_is_quarantined_by_a_user_who_cannot_read_it():
    root = Path(tempfile.mkdtemp(prefix="lp-unreadable-"))
    try:
        root.chmod(0o777)
        seg = root / "input" / "segment"
        seg.mkdir(parents=True)
        (root / "input").chmod(0o755)
        seg.chmod(0o755)
        (seg / "a.jsonl").write_text(track("m1") + "\n")
        (seg / "a.jsonl").chmod(0o644)
        (seg / "b.jsonl").write_text(track("m2") + "\n")
        (seg / "b.jsonl").chmod(0o000)
        prefix = WITHOUT_DAC if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, sys.executable, "-c", UNREADABLE_RUN, str(root / "input"),
             str(root / "landed")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [2, 1, 1]
        assert table(
            root / "landed" / "segment" / "quarantine.parquet", "select file, reason from T"
        ) == [("segment/b.jsonl", "cannot read file: Permission denied")]
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)
