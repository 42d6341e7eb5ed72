"""`lead-parity dashboard` takes its Streamlit child down with it on SIGTERM, SIGINT and SIGHUP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lead_parity.readers.dashboard import wait_until_ready

CLI = [sys.executable, "-m", "lead_parity.cli.main"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(c) for c in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_the_streamlit_child_and_frees_the_port(synthetic_stack, tmp_path, signum):
    port = _free_port()
    with open(tmp_path / "dashboard.log", "w") as log:
        cli = subprocess.Popen(
            [*CLI, "dashboard", "--published", str(synthetic_stack["published"]),
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    child = None
    try:
        wait_until_ready(port, timeout=120)
        children = _children(cli.pid)
        assert len(children) == 1, children
        child = children[0]
        os.kill(cli.pid, signum)
        assert cli.wait(timeout=15) == 128 + signum or (
            signum == signal.SIGINT and cli.returncode == 130
        )
        assert _wait_for(lambda: not _alive(child), 5), "the Streamlit child outlived the CLI"
        assert _wait_for(lambda: _port_is_free(port), 5), f"port {port} is still taken"
    finally:
        for pid in (cli.pid, child):
            if pid is not None and _alive(pid):
                os.kill(pid, signal.SIGKILL)
        cli.wait(timeout=10)
    assert "Traceback" not in (tmp_path / "dashboard.log").read_text()
