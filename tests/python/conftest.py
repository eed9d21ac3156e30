"""Fixtures: real ctxstore servers (the binary in $CTXSTORE_BINARY) on free loopback ports.

The package under test is the build tree's (PYTHONPATH=BUILD/python, set by
run_pytest.sh), never an installed copy: the session checks it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ctxstore

READY = re.compile(rb"ready: listening on 127\.0\.0\.1:(\d+)")

# Fewer tests than this collected means files failed to import or tests were
# lost: the run fails instead of passing with less.
MIN_TESTS = 40


@dataclass
class Server:
    """A running `ctxstore serve`: its address, data folder and admin token."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path
    unix_path: Path | None = None  # with --unix

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def unix_address(self) -> str:
        assert self.unix_path is not None, "started without --unix"
        return f"unix://{self.unix_path}"

    def admin_token(self) -> str:
        return (self.data_dir / "admin.token").read_text().strip()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(tmp: Path, *extra: str, port: int = 0) -> Server:
    """Starts a server with a 64 MiB DRAM tier and 256 MiB of flash; waits for its ready line.

    ``port`` 0 takes any free port; a restart passes the previous one.
    """
    binary = os.environ["CTXSTORE_BINARY"]
    data = tmp / "data"
    log = tmp / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}", "--memory", "64MiB",
             "--disk", "256MiB", *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        m = READY.search(log.read_bytes())
        if m:
            unix = Path(extra[extra.index("--unix") + 1]) if "--unix" in extra else None
            return Server(process, int(m.group(1)), data, log, unix)
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"ctxstore serve did not start: {log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """One server without authentication, shared by the tests that use their own keys."""
    with tempfile.TemporaryDirectory(prefix="ctxstore-py-") as tmp:
        s = start_server(Path(tmp), "--no-auth", "--unix", f"{tmp}/ctx.sock")
        yield s
        assert s.stop() == 0, Path(s.log).read_text(errors="replace")


@pytest.fixture
def auth_server(tmp_path: Path) -> Iterator[Server]:
    """A server of its own that requires tokens (its admin token in admin.token)."""
    s = start_server(tmp_path)
    yield s
    assert s.stop() == 0, s.log.read_text(errors="replace")


@pytest.fixture(params=["tcp", "unix"])
def client(server: Server, request: pytest.FixtureRequest) -> Iterator[ctxstore.Client]:
    """A client of the shared server, over TCP and over its Unix socket in turn."""
    with ctxstore.Client(server.address if request.param == "tcp" else server.unix_address) as c:
        yield c


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A key no other test uses."""
    return f"{request.node.name}:{time.monotonic_ns()}"


def pytest_collection_finish(session: pytest.Session) -> None:
    build_python = os.environ.get("CTXSTORE_PYTHONPATH", "")
    # The native module is a file of the build tree (the .py files there are links).
    native = Path(ctxstore._ctxstore.__file__).resolve()
    if build_python and not native.is_relative_to(Path(build_python).resolve()):
        pytest.exit(f"testing {native}, not the build tree's package under {build_python}", 1)
    if len(session.items) < MIN_TESTS and not session.config.option.keyword:
        pytest.exit(f"only {len(session.items)} tests collected (expected at least {MIN_TESTS})", 1)
