"""Start the Streamlit dashboard on the published snapshot (`lead-parity dashboard`)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).with_name("app.py")
PUBLISHED_ENV = "LEAD_PARITY_PUBLISHED"


def published_dir() -> Path:
    """The snapshot folder this dashboard was started on (`-- --published DIR` of streamlit run)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--published", default=os.environ.get(PUBLISHED_ENV, "published"))
    args, _ = parser.parse_known_args()
    return Path(args.published)


def dashboard_command(published_dir: Path, port: int, address: str = "127.0.0.1") -> list[str]:
    """The `streamlit run` command line: headless, local only, no usage stats, no file watcher."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", address,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--theme.base", "light",
        "--client.toolbarMode", "viewer",
        "--", "--published", str(Path(published_dir).absolute()),
    ]  # fmt: skip


def _env(published_dir: Path) -> dict[str, str]:
    project_root = str(APP.parents[3])
    pythonpath = os.pathsep.join(p for p in (project_root, os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        PUBLISHED_ENV: str(Path(published_dir).absolute()),
        "PYTHONPATH": pythonpath,
    }


def start_dashboard(
    published_dir: Path, port: int, address: str = "127.0.0.1", **popen_kwargs
) -> subprocess.Popen:
    """Start the dashboard in the background; pair with wait_until_ready and terminate()."""
    return subprocess.Popen(
        dashboard_command(published_dir, port, address), env=_env(published_dir), **popen_kwargs
    )


def wait_until_ready(port: int, address: str = "127.0.0.1", timeout: float = 60.0) -> None:
    """Block until Streamlit's health endpoint answers; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    url = f"http://{address}:{port}/_stcore/health"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the dashboard did not answer on {url} within {timeout:.0f}s")


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


def stop_dashboard(process: subprocess.Popen, grace_s: float = 5.0) -> int:
    """Terminate the Streamlit child and wait for it; killed if it outlives `grace_s` (it
    stops in about a second; a session mid-query can hold it longer, and whoever stopped the
    dashboard should not wait on that)."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def launch(published_dir: Path, port: int = 8501, address: str = "127.0.0.1") -> int:
    """Run the dashboard in the foreground until it exits or this process is told to stop.

    SIGTERM (a service manager, `kill`), SIGHUP (a closed terminal) and SIGINT reach only this
    process, not the Streamlit child: without handing them on, the child would keep the port and
    serve on as an orphan.
    """
    from lead_parity.pipeline.publish import resolve_snapshot

    resolve_snapshot(published_dir)  # fail with a clear PublishError before starting a server
    print(f"lead-parity dashboard on http://{address}:{port} (snapshot {published_dir})")
    # SIGINT too: a process started in the background by a non-interactive shell inherits SIGINT
    # ignored, and `kill -INT` (or Ctrl-C after `fg`) must still stop the dashboard.
    handled = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in handled}
    process = None
    try:
        process = start_dashboard(published_dir, port, address)
        return process.wait()
    except _Stopped as stopped:
        return 128 + stopped.signum
    except KeyboardInterrupt:
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if process is not None:
            stop_dashboard(process)


__all__ = [
    "dashboard_command",
    "launch",
    "published_dir",
    "start_dashboard",
    "stop_dashboard",
    "wait_until_ready",
]
