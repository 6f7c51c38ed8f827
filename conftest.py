"""bqemulator on loopback, in its own environment, for the BigQuery warehouse tests.

bqemulator pins an sqlglot that conflicts with fakesnow's, so it runs from `uv tool run`. At
start-up it downloads DuckDB extensions, which cannot work offline: the launcher replaces the
two loaders with no-ops before starting it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

LAUNCHER = """
import sys
import bqemulator.storage.engine as engine
engine.DuckDBEngine._load_spatial = lambda self, *args, **kwargs: None
engine.DuckDBEngine._load_format_extensions = lambda self, *args, **kwargs: None
from bqemulator.cli import main
sys.exit(main())
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def bqemulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start bqemulator for the session; yields its REST endpoint; stops it at the end."""
    folder = tmp_path_factory.mktemp("bqemulator")
    launcher = folder / "launch.py"
    launcher.write_text(LAUNCHER)
    uv = shutil.which("uv") or f"{sys.executable} -m uv"
    rest, grpc = _free_port(), _free_port()
    command = [
        *uv.split(),
        "tool",
        "run",
        "--from",
        "bqemulator==1.4.0",
        "--with",
        "numpy",
        "python",
        str(launcher),
        "start",
        "--rest-host",
        "127.0.0.1",
        "--rest-port",
        str(rest),
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        str(grpc),
        "--project",
        "test",
        "--ephemeral",
    ]
    log = (folder / "bqemulator.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["TMPDIR"] = str(folder)  # its upload directory goes with the test's files
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    url = f"http://127.0.0.1:{rest}"
    deadline = time.monotonic() + 180  # the first run installs bqemulator's environment
    try:
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"bqemulator did not start; see {Path(log.name)}:\n"
                    + Path(log.name).read_text()[-2000:]
                )
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
