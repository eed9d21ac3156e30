"""LMCache's lm:// protocol on ``serve --lm-listen``, driven by a client written from the
protocol's description (docs/compatibility.md; LMCache's lmcache/v1/protocol.py, pinned at
commit c1a02cc8): 186-byte requests, 36-byte replies, PUT without a reply, GET miss as 400 with
no payload, EXIST, LIST, HEALTH. The same objects are read over the native protocol and Redis.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ctxstore
from resp_servers import CTXSTORE, RespServer, serving

PUT, GET, EXIST, LIST, HEALTH = 1, 2, 3, 4, 5
REQUEST = struct.Struct("<9i150s")  # command length fmt dtype location shape0..3 key
REPLY = struct.Struct("<9i")  # code length fmt dtype shape0..3 location
LM_READY = re.compile(rb"lm: listening on 127\.0\.0\.1:(\d+)")
assert REQUEST.size == 186 and REPLY.size == 36


@dataclass
class Reply:
    """One lm:// reply header (and the payload that followed it)."""

    code: int
    length: int
    fmt: int
    dtype: int
    shape: tuple[int, int, int, int]
    location: int
    payload: bytes = b""


class LmClient:
    """lm:// as LMCache's remote connector speaks it: one request at a time on one socket."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)

    def close(self) -> None:
        self.sock.close()

    def send(
        self,
        command: int,
        key: str,
        length: int = 0,
        fmt: int = 0,
        dtype: int = 0,
        location: int = 0,
        shape: tuple[int, int, int, int] = (0, 0, 0, 0),
    ) -> None:
        self.sock.sendall(
            REQUEST.pack(command, length, fmt, dtype, location, *shape, key.encode().ljust(150))
        )

    def exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed by the server")
            data += chunk
        return data

    def reply(self, with_payload: bool = False) -> Reply:
        code, length, fmt, dtype, s0, s1, s2, s3, location = REPLY.unpack(self.exact(36))
        r = Reply(code, length, fmt, dtype, (s0, s1, s2, s3), location)
        if with_payload and code == 200:
            r.payload = self.exact(length)
        return r

    def put(
        self,
        key: str,
        value: bytes,
        fmt: int = 1,
        dtype: int = 3,
        location: int = 1,
        shape: tuple[int, int, int, int] = (2, 16, 256, 128),
    ) -> None:
        self.send(PUT, key, len(value), fmt, dtype, location, shape)
        self.sock.sendall(value)

    def get(self, key: str) -> Reply:
        self.send(GET, key)
        return self.reply(with_payload=True)

    def exist(self, key: str) -> int:
        self.send(EXIST, key)
        return self.reply().code


def lm_port(server: RespServer) -> int:
    m = LM_READY.search(server.log.read_bytes())
    assert m, server.log_text()
    return int(m.group(1))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RespServer]:
    """ctxstore with tokens and lm:// on a free port, in namespace default."""
    tmp = tmp_path_factory.mktemp("lm")
    with serving(CTXSTORE, tmp, "--lm-listen", "127.0.0.1:0", auth=True) as s:
        yield s


@pytest.fixture
def lm(server: RespServer) -> Iterator[LmClient]:
    client = LmClient(lm_port(server))
    yield client
    client.close()


def test_put_get_exist_round_trip_with_the_chunk_metadata(lm: LmClient, key: str) -> None:
    """A PUT has no reply; GET answers 200, the length, fmt, dtype, shape and location, then the
    bytes; EXIST answers 200 for it and 400 for a key never put."""
    value = os.urandom(1 << 20)
    lm.put(key, value, fmt=3, dtype=7, location=2, shape=(2, 32, 8, 128))
    assert lm.exist(key) == 200  # the first reply on the wire: the PUT sent none
    r = lm.get(key)
    assert (r.code, r.length, r.fmt, r.dtype, r.shape, r.location) == (
        200,
        len(value),
        3,
        7,
        (2, 32, 8, 128),
        2,
    )
    assert r.payload == value
    assert lm.exist(key + "-never") == 400


def test_a_miss_is_400_with_no_payload(lm: LmClient, key: str) -> None:
    """GET of a missing key: 400 and length 0, nothing after it (the next reply follows)."""
    r = lm.get(key)
    assert (r.code, r.length) == (400, 0)
    lm.send(HEALTH, "")
    assert lm.reply().code == 200


@pytest.mark.parametrize("size", [0, 1, 4 << 20])
def test_values_of_every_size(lm: LmClient, key: str, size: int) -> None:
    """Empty, one byte, and a 4 MiB KV chunk come back byte for byte."""
    value = os.urandom(size)
    lm.put(key, value)
    r = lm.get(key)
    assert r.code == 200 and r.payload == value


def test_a_key_of_150_bytes_and_a_second_put_replacing_the_first(lm: LmClient) -> None:
    """The key field holds 150 bytes; a PUT of a stored key replaces it (the reference server's
    dict does the same)."""
    key = "k" * 150
    lm.put(key, b"first")
    lm.put(key, b"second")
    assert lm.get(key).payload == b"second"


def test_one_store_under_every_protocol(server: RespServer, lm: LmClient, key: str) -> None:
    """An lm:// PUT is an object the native client and Redis read; a Redis SET is one lm:// GETs
    (with LMCache's 'undefined' format: it carried none)."""
    value = os.urandom(70_000)
    lm.put(key, value)
    assert lm.exist(key) == 200  # the PUT is stored before its connection's next reply
    admin = server.admin_token()
    with ctxstore.Client(server.native_address, token=admin) as native:
        assert native.get(key) == value
    r = server.redis(password=admin)
    assert r.get(key) == value
    r.set(key + "-resp", b"from redis")
    got = lm.get(key + "-resp")
    assert (got.code, got.payload, got.fmt, got.shape) == (200, b"from redis", 0, (0, 0, 0, 0))


def test_list_and_health(lm: LmClient, key: str) -> None:
    """LIST answers 200 and the keys separated by newlines; HEALTH answers 200."""
    lm.put(key + "-listed", b"x")
    lm.send(LIST, "")
    r = lm.reply(with_payload=True)
    assert r.code == 200 and (key + "-listed").encode() in r.payload.split(b"\n")
    lm.send(HEALTH, "")
    assert lm.reply().code == 200


def test_another_namespace_does_not_see_lm_objects(
    server: RespServer, lm: LmClient, key: str
) -> None:
    """lm:// writes only into its namespace: a tenant's token elsewhere cannot read them."""
    lm.put(key, b"default's")
    assert lm.exist(key) == 200
    admin = server.admin_token()
    with ctxstore.Client(server.native_address, token=admin) as c:
        c.create_namespace("lm-other")
        tenant = c.create_token("read", namespace="lm-other").token
    with ctxstore.Client(server.native_address, token=tenant) as other:
        assert not other.exists(key)


def test_a_malformed_header_closes_only_its_connection(server: RespServer, key: str) -> None:
    """An unknown command, a negative length or one past the max value closes the connection
    (a PUT cannot be answered, so framing is lost); other clients go on."""
    port = lm_port(server)
    survivor = LmClient(port)
    for command, length in [(9, 0), (PUT, -1), (PUT, 1 << 30)]:
        bad = LmClient(port)
        bad.send(command, key, length)
        with pytest.raises((ConnectionError, ConnectionResetError)):
            bad.reply()
        bad.close()
    survivor.put(key, b"still")
    assert survivor.get(key).payload == b"still"
    survivor.close()


def test_an_idle_connection_stays_open(tmp_path: Path) -> None:
    """LMCache's client never reconnects: an lm:// connection idle past --idle-timeout is kept
    (the Redis and native ones are closed)."""
    binary = os.environ["CTXSTORE_BINARY"]
    log = tmp_path / "idle.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                binary,
                "serve",
                "--data-dir",
                str(tmp_path / "idle"),
                "--listen",
                "127.0.0.1:0",
                "--memory",
                "64MiB",
                "--disk",
                "256MiB",
                "--no-auth",
                "--idle-timeout",
                "1s",
                "--lm-listen",
                "127.0.0.1:0",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while not LM_READY.search(log.read_bytes()) and time.monotonic() < deadline:
            time.sleep(0.02)
        client = LmClient(int(LM_READY.search(log.read_bytes()).group(1)))
        client.put("idle", b"v")
        time.sleep(2.5)
        assert client.get("idle").payload == b"v"
        client.close()
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lm-listen", "0.0.0.0:0"], "needs --lm-allow-remote"),
        (["--lm-listen", "127.0.0.1:0", "--lm-namespace", "nosuch"], "does not exist"),
    ],
)
def test_refused_configurations(tmp_path: Path, args: list[str], message: str) -> None:
    """A non-loopback lm:// listener without --lm-allow-remote, or a namespace that does not
    exist, stops the server at start with a clear error."""
    run = subprocess.run(
        [
            os.environ["CTXSTORE_BINARY"],
            "serve",
            "--data-dir",
            str(tmp_path / "d"),
            "--listen",
            "127.0.0.1:0",
            "--memory",
            "64MiB",
            "--disk",
            "256MiB",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert message in run.stdout + run.stderr


def test_redis_and_lm_clients_side_by_side(server: RespServer, lm: LmClient, key: str) -> None:
    """LMCache's redis layout and lm:// on one server: a chunk put by one is found by the other."""
    r = server.redis(password=server.admin_token())
    r.set(key + "kv_bytes", b"k" * 100)
    r.set(key + "metadata", struct.pack("<7i", 100, 1, 3, 1, 1, 1, 100))
    assert lm.exist(key + "kv_bytes") == 200
    lm.put(key + "-lm", b"via lm")
    # A PUT has no reply: a request after it on the same connection orders it.
    assert lm.exist(key + "-lm") == 200
    assert r.exists(key + "-lm") == 1
