"""Servers that speak the Redis protocol, and a raw RESP connection, for the test_redis_* suites.

Two kinds of server: Debian's ``redis-server`` 7.0 (the reference: every expectation of the
conformance suite is checked against it too) and ``ctxstore serve --redis-listen``. Both run on
free loopback ports, one per test module (``serving``). ``RespConn`` talks RESP over a plain
socket, for what a client library hides: exact reply bytes, RESP3, inline commands, protocol
errors and the server closing the connection.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import redis

REDIS_READY = re.compile(rb"redis: listening on 127\.0\.0\.1:(\d+)")
NATIVE_READY = re.compile(rb"ready: listening on 127\.0\.0\.1:(\d+)")

# The reference server's and ctxstore's names as test ids: `-k redis-server` selects the
# conformance tests' reference runs alone (every module name contains "redis").
REFERENCE = "redis-server"
CTXSTORE = "ctxstore"
TARGETS = [REFERENCE, CTXSTORE]

START_TIMEOUT_S = 20.0


def tool(name: str) -> str:
    """The path of a Redis tool (scripts/setup.sh installs them): missing fails, never skips."""
    path = shutil.which(name)
    assert (
        path
    ), f"{name} is not installed: run scripts/setup.sh (Debian packages redis-server, redis-tools)"
    return path


@dataclass
class RespServer:
    """A running server that speaks RESP: ``redis-server`` or ``ctxstore serve --redis-listen``.

    ``password`` is what AUTH takes on a server that requires it: the requirepass of the
    reference, the admin token of ctxstore (valid in namespace "default"); None without auth.
    """

    kind: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    password: str | None = None
    native_port: int | None = None  # ctxstore's native listener
    data_dir: Path | None = None

    @property
    def native_address(self) -> str:
        assert self.native_port is not None, "the reference server has no native listener"
        return f"127.0.0.1:{self.native_port}"

    def admin_token(self) -> str:
        assert self.data_dir is not None, "only ctxstore has an admin token"
        return (self.data_dir / "admin.token").read_text().strip()

    def redis(self, **options: Any) -> redis.Redis:
        """A redis-py client of this server (its own connection pool)."""
        options.setdefault("socket_timeout", 30)
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def raw(self, timeout_s: float = 10.0) -> RespConn:
        """A new raw connection (not authenticated)."""
        return RespConn(self.port, timeout_s)

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_bytes(self) -> int:
        """The server process's resident set size."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit status (a kill after 30 s is a failure the caller sees)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers_ping(port: int) -> bool:
    """Whether a RESP server is up on the port: PING answers +PONG, or -NOAUTH (needs AUTH)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def start_reference(tmp: Path, *, auth: bool = False) -> RespServer:
    """Starts Debian's redis-server on a free port, without persistence; waits until PING works.

    ``--databases 1`` gives it ctxstore's one database, so SELECT 1 is out of range on both.
    With ``auth`` it requires a password (``requirepass``), as ctxstore requires a token.
    """
    binary = tool("redis-server")
    password = secrets.token_hex(16) if auth else None
    for _ in range(5):  # a free port can be taken between the probe and the bind
        port = _free_port()
        log = tmp / f"redis-{port}.log"
        args = [
            binary,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--bind",
            "127.0.0.1",
        ]
        args += ["--databases", "1", "--dir", str(tmp), "--logfile", ""]
        if password:
            args += ["--requirepass", password]
        with open(log, "wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            if _answers_ping(port):
                return RespServer(REFERENCE, process, port, log, password)
            time.sleep(0.02)
        if process.poll() is None:
            process.kill()
            process.wait()
    raise RuntimeError(f"redis-server did not start: {log.read_text(errors='replace')}")


def start_ctxstore(tmp: Path, *extra: str, auth: bool = False) -> RespServer:
    """Starts ``ctxstore serve --redis-listen 127.0.0.1:0`` from $CTXSTORE_BINARY.

    256 MiB of DRAM and 512 MiB of flash (room for a 64 MiB value); ``--no-auth`` unless
    ``auth``. Reads both ports from its log: ``redis: listening on 127.0.0.1:P`` comes before
    ``ready: listening on 127.0.0.1:N``.
    """
    binary = os.environ["CTXSTORE_BINARY"]
    data = tmp / "data"
    log = tmp / "server.log"
    args = [
        binary,
        "serve",
        "--data-dir",
        str(data),
        "--listen",
        "127.0.0.1:0",
        "--memory",
        "256MiB",
    ]
    args += ["--disk", "512MiB", "--redis-listen", "127.0.0.1:0", *extra]
    if not auth:
        args.append("--no-auth")
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_bytes()
        ready = NATIVE_READY.search(text)
        if ready:
            resp = REDIS_READY.search(text)
            if resp is None or resp.start() > ready.start():
                process.kill()
                process.wait()
                raise RuntimeError(
                    f"no 'redis: listening on' line before the ready line:\n{text!r}"
                )
            server = RespServer(
                CTXSTORE, process, int(resp.group(1)), log, None, int(ready.group(1)), data
            )
            if auth:
                server.password = server.admin_token()
            return server
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    process.wait()
    raise RuntimeError(f"ctxstore serve did not start: {log.read_text(errors='replace')}")


@contextlib.contextmanager
def serving(kind: str, tmp: Path, *extra: str, auth: bool = False) -> Iterator[RespServer]:
    """A server of the kind for the block; it must still be running at the end and exit cleanly.

    ``extra``: more ``ctxstore serve`` arguments (ctxstore only).
    """
    server = (
        start_reference(tmp, auth=auth)
        if kind == REFERENCE
        else start_ctxstore(tmp, *extra, auth=auth)
    )
    try:
        yield server
    finally:
        alive = server.alive()
        status = server.stop()
    assert alive, f"{kind} died during the tests (status {status}):\n{server.log_text()[-4000:]}"
    assert status == 0, f"{kind} exited with {status}:\n{server.log_text()[-4000:]}"


# Raw RESP -------------------------------------------------------------------------------------


class Simple(str):
    """A simple string reply: ``+OK``."""


class Error(str):
    """An error reply: ``-ERR ...`` (also RESP3's blob error ``!``)."""


class _Null:
    """RESP3's null, ``_``: distinct from RESP2's null bulk (None)."""

    def __repr__(self) -> str:
        return "NULL3"


NULL3 = _Null()


@dataclass
class Push:
    """A RESP3 push message, ``>``."""

    items: list[Any] = field(default_factory=list)


Reply = Union[Simple, Error, int, bytes, None, list[Any], dict[Any, Any], bool, float, _Null, Push]


def encode(*args: bytes | str | int) -> bytes:
    """One command as a RESP multibulk, as client libraries send it."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class PeerClosed(Exception):
    """The server closed the connection before a whole reply came."""


class RespConn:
    """A RESP connection over a plain socket that parses RESP2 and RESP3 replies.

    ``read()`` returns the reply as Python values (see ``Reply``); ``last_raw`` holds the bytes
    it was parsed from, for byte-exact assertions.
    """

    def __init__(self, port: int, timeout_s: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.last_raw = b""

    def __enter__(self) -> RespConn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_split(self, data: bytes, pause_s: float = 0.05) -> None:
        """Sends all of ``data`` but its last byte, pauses, then the last byte: the server has read
        everything before the byte that makes it fail, so its close cannot be a reset that loses
        the error reply (a close with unread input resets the connection)."""
        self.sock.sendall(data[:-1])
        time.sleep(pause_s)
        self.sock.sendall(data[-1:])

    def call(self, *args: bytes | str | int) -> Reply:
        """Sends one command and reads its reply."""
        self.send(encode(*args))
        return self.read()

    def call_raw(self, *args: bytes | str | int) -> bytes:
        """Sends one command and returns its reply's bytes."""
        self.call(*args)
        return self.last_raw

    def auth(self, password: str, username: str | None = None) -> None:
        reply = self.call("AUTH", *([username] if username else []), password)
        assert reply == "OK" and isinstance(reply, Simple), reply

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise PeerClosed(f"closed after {bytes(self.buf[self.pos:])!r}")
        self.buf += chunk

    def _line(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos : end])
                self.pos = end + 2
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos : self.pos + n])
        assert self.buf[self.pos + n : self.pos + n + 2] == b"\r\n", "a bulk reply without its CRLF"
        self.pos += n + 2
        return data

    def _value(self) -> Reply:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return Simple(rest.decode())
        if kind == b"-":
            return Error(rest.decode())
        if kind in (b":", b"("):
            return int(rest)
        if kind in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return None
            data = self._exact(n)
            if kind == b"=":
                return data[4:]  # "txt:" / "mkd:"
            return Error(data.decode()) if kind == b"!" else data
        if kind in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self._value() for _ in range(n)]
            return Push(items) if kind == b">" else items
        if kind == b"%":
            pairs = [(self._value(), self._value()) for _ in range(int(rest))]
            return {_hashable(k): v for k, v in pairs}
        if kind == b"|":  # attributes precede the reply they describe
            for _ in range(2 * int(rest)):
                self._value()
            return self._value()
        if kind == b"_":
            return NULL3
        if kind == b"#":
            return rest == b"t"
        if kind == b",":
            return float(rest)
        raise AssertionError(f"not a RESP reply: {line!r}")

    def read(self) -> Reply:
        """Reads one whole reply (blocking up to the socket's timeout)."""
        start = self.pos
        value = self._value()
        self.last_raw = bytes(self.buf[start : self.pos])
        del self.buf[: self.pos]
        self.pos = 0
        return value

    def read_raw(self) -> bytes:
        """Reads one whole reply and returns its bytes."""
        self.read()
        return self.last_raw

    def read_until_closed(self, timeout_s: float = 5.0) -> tuple[bytes, bool]:
        """Everything the server sends until it closes (True) or ``timeout_s`` passes (False)."""
        out = bytes(self.buf[self.pos :])
        self.buf.clear()
        self.pos = 0
        deadline = time.monotonic() + timeout_s
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    return out, True
                out += chunk
        except socket.timeout:
            return out, False
        except (ConnectionResetError, BrokenPipeError):
            return out, True
        return out, False

    def closed_by_peer(self, timeout_s: float = 5.0) -> bool:
        """Whether the server closes the connection within ``timeout_s``, sending nothing more."""
        rest, closed = self.read_until_closed(timeout_s)
        assert rest == b"", f"unexpected bytes before the close: {rest[:200]!r}"
        return closed


def _hashable(k: Any) -> Any:
    if isinstance(k, bytes):
        return k.decode(errors="replace")
    return tuple(k) if isinstance(k, list) else k


def pairs(flat: list[Any]) -> dict[str, Any]:
    """A RESP2 flat field/value array as a dict with str keys."""
    assert len(flat) % 2 == 0, flat
    return {_hashable(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


def shape(value: Any) -> Any:
    """A reply's structure without its values: types, and the keys of maps."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__
