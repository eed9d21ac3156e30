"""Hostile input to ctxstore's Redis front end over raw sockets: truncated commands, protocol
errors, binary garbage, unauthenticated clients that send too much, a client that never reads its
replies. Each connection's trouble stays its own: other clients are served, and at the end the
server still answers PING and exits cleanly.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator

import pytest

import ctxstore
from resp_servers import CTXSTORE, RespConn, RespServer, encode, serving

NIL = b"$-1\r\n"
NOAUTH = b"-NOAUTH Authentication required.\r\n"


def err(text: str) -> bytes:
    return b"-ERR " + text.encode() + b"\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RespServer]:
    """One ctxstore server with tokens for the whole module (it must survive all of it)."""
    with serving(CTXSTORE, tmp_path_factory.mktemp("hostile"), auth=True) as s:
        yield s


def authed(server: RespServer) -> RespConn:
    assert server.password
    c = server.raw()
    c.auth(server.password)
    return c


def still_serving(server: RespServer) -> None:
    """The server is alive and answers a new connection promptly."""
    assert server.alive(), server.log_text()[-4000:]
    with server.raw(timeout_s=5) as c:
        assert c.call_raw("PING") == b"+PONG\r\n"


def send_and_half_close(c: RespConn, data: bytes) -> tuple[bytes, bool]:
    """Sends ``data`` (as much as the server takes), shuts the write side, reads until the close."""
    try:
        c.sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        c.sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    return c.read_until_closed(timeout_s=5)


TRUNCATED = [
    b"*",
    b"*3",
    b"*3\r\n",
    b"*2\r\n$3\r\nGET",
    b"*2\r\n$3\r\nGET\r\n$",
    b"*2\r\n$3\r\nGET\r\n$4\r\nke",
    b"*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$10\r\nabc",
    b"*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$3\r\nabc",
    b"*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$3\r\nabc\r",
    b"PIN",
    b'SET truncated "abc',
]


@pytest.mark.parametrize("authenticate", [False, True], ids=["unauthenticated", "authenticated"])
@pytest.mark.parametrize("data", TRUNCATED, ids=[repr(d)[2:32] for d in TRUNCATED])
def test_truncated_commands_then_close(server: RespServer, data: bytes, authenticate: bool) -> None:
    """A command cut short by the client's close is dropped without a reply (but NOAUTH, which may
    come from the command's head before authentication); nothing is stored."""
    with authed(server) if authenticate else server.raw() as c:
        out, closed = send_and_half_close(c, data)
        assert closed and out in ((b"",) if authenticate else (b"", NOAUTH)), out
    with authed(server) as c:
        assert c.call_raw("GET", "truncated") == NIL
    still_serving(server)


@pytest.mark.parametrize("size", [40_000, 1 << 20, 16 << 20], ids=["40KiB", "1MiB", "16MiB"])
def test_a_large_value_cut_short(server: RespServer, size: int) -> None:
    """A SET whose large value stops halfway (or lacks its final CRLF) stores nothing."""
    for sent in (size // 2, size):
        with authed(server) as c:
            head = b"*3\r\n$3\r\nSET\r\n$9\r\ntruncated\r\n$%d\r\n" % size
            assert send_and_half_close(c, head + b"v" * sent) == (b"", True)
    with authed(server) as c:
        assert c.call_raw("GET", "truncated") == NIL
        assert c.call_raw("EXISTS", "truncated") == b":0\r\n"
    still_serving(server)


PROTOCOL_ERRORS = [
    (b"*1\r\n$-1\r\n", "invalid bulk length"),
    (b"*2\r\n$3\r\nGET\r\n$-100\r\n", "invalid bulk length"),
    (b"*99999999999\r\n", "invalid multibulk length"),
    (b"*-99999999999999999999\r\n", "invalid multibulk length"),
    (b"*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n", "invalid bulk length"),
    (b"*1\r\n:5\r\n", "expected '$', got ':'"),
]


@pytest.mark.parametrize("authenticate", [False, True], ids=["unauthenticated", "authenticated"])
@pytest.mark.parametrize(
    ("data", "text"), PROTOCOL_ERRORS, ids=[repr(d)[2:28] for d, _ in PROTOCOL_ERRORS]
)
def test_protocol_errors(server: RespServer, data: bytes, text: str, authenticate: bool) -> None:
    """Negative or huge lengths and counts answer Redis's protocol error and a close."""
    with authed(server) if authenticate else server.raw() as c:
        c.send_split(data)
        assert c.read_until_closed() == (err(f"Protocol error: {text}"), True)
    still_serving(server)


def test_beyond_the_value_and_argument_limits(server: RespServer) -> None:
    """After AUTH, a bulk over the largest value (256 MiB) and a count far over the argument cap are
    refused from their header (Redis would wait for 512 MB and a million arguments)."""
    for data, text in [
        (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$300000000\r\n", "invalid bulk length"),
        (b"*1048577\r\n", "invalid multibulk length"),
    ]:
        with authed(server) as c:
            c.send_split(data)
            assert c.read_until_closed() == (err(f"Protocol error: {text}"), True)
    still_serving(server)


def garbage(seed: int, n: int, first: bytes = b"") -> bytes:
    rng = random.Random(seed)
    return first + bytes(rng.getrandbits(8) for _ in range(n))


GARBAGE = [
    garbage(1, 65_536),
    garbage(2, 65_536, b"*"),
    garbage(3, 65_536, b"*5\r\n$"),
    garbage(4, 4096, b"*3\r\n$3\r\nSET\r\n"),
    bytes(random.Random(5).choice(b"abc \t'\"\\") for _ in range(100_000)),
    b"\x00" * 100_000,
    b"\r\n" * 50_000,
    (b"*1\r\n$4\r\nPING\r\n" * 100) + garbage(6, 10_000),
]


@pytest.mark.parametrize("authenticate", [False, True], ids=["unauthenticated", "authenticated"])
@pytest.mark.parametrize("data", GARBAGE, ids=[f"garbage{i}" for i in range(len(GARBAGE))])
def test_binary_garbage(server: RespServer, data: bytes, authenticate: bool) -> None:
    """Random bytes, long lines and NULs get at most error replies and a close, never a hang."""
    with authed(server) if authenticate else server.raw() as c:
        out, closed = send_and_half_close(c, data)
        assert closed, f"still open after: {out[-200:]!r}"
        assert out == b"" or out.startswith((b"-", b"+", b"$", b":", b"*")), out[:200]
    still_serving(server)


def test_unauthenticated_large_bulk_is_cut_off(server: RespServer) -> None:
    """Before AUTH, a 16 MiB bulk is refused at its header and the connection closed at once: the
    server neither waits for nor takes in the value."""
    with server.raw() as c:
        c.send_split(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16777216\r\n")
        out, closed = c.read_until_closed()
        assert (out, closed) == (err("Protocol error: unauthenticated bulk length"), True)
        c.sock.settimeout(5)
        with pytest.raises(OSError):  # the peer is gone: a reset, a broken pipe
            for _ in range(256):
                c.sock.sendall(b"x" * 65_536)
    still_serving(server)


def test_unauthenticated_many_arguments_are_cut_off(server: RespServer) -> None:
    """Before AUTH, a million-argument count is refused at once."""
    with server.raw() as c:
        c.send_split(b"*1000000\r\n")
        out, closed = c.read_until_closed()
        assert (out, closed) == (err("Protocol error: unauthenticated multibulk length"), True)
    still_serving(server)


def test_a_client_that_never_reads(server: RespServer) -> None:
    """A client pipelines thousands of GETs of a 64 KiB value and never reads the replies: another
    client is still served promptly, the server's memory does not grow by the unread replies, and
    closing the stuck client frees it."""
    value = bytes(range(256)) * 256
    with authed(server) as setup:
        assert setup.call_raw("SET", "hostile:big", value) == b"+OK\r\n"
    rss_before = server.rss_bytes()
    stuck = authed(server)
    try:
        stuck.sock.setblocking(False)
        request = encode("GET", "hostile:big") * 5000  # 320 MiB of replies if all were buffered
        sent = 0
        deadline = time.monotonic() + 5
        while sent < len(request) and time.monotonic() < deadline:
            try:
                sent += stuck.sock.send(request[sent:])
            except BlockingIOError:
                time.sleep(0.01)
        assert sent > 0
        with authed(server) as other:
            worst = 0.0
            start = time.monotonic()
            for i in range(300):
                t = time.monotonic()
                assert other.call_raw("SET", f"hostile:other{i % 10}", str(i)) == b"+OK\r\n"
                assert other.call_raw("GET", f"hostile:other{i % 10}") == b"$%d\r\n%d\r\n" % (
                    len(str(i)),
                    i,
                )
                assert other.call_raw("PING") == b"+PONG\r\n"
                worst = max(worst, time.monotonic() - t)
            assert worst < 1.0 and time.monotonic() - start < 10
            grown = server.rss_bytes() - rss_before
            assert grown < 256 << 20, f"RSS grew by {grown >> 20} MiB with replies nobody reads"
            assert other.call_raw("DEL", *[f"hostile:other{i}" for i in range(10)]) == b":10\r\n"
    finally:
        stuck.close()
    still_serving(server)
    with authed(server) as c:
        assert c.call("DEL", "hostile:big") == 1


def test_clients_that_close_mid_reply(server: RespServer) -> None:
    """Clients that ask for a 16 MiB value and close before reading it leave the server serving."""
    with authed(server) as c:
        assert c.call_raw("SET", "hostile:16m", b"z" * (16 << 20)) == b"+OK\r\n"
    for _ in range(5):
        with authed(server) as c:
            c.send(encode("GET", "hostile:16m") * 4)
            c.sock.recv(1000)
    with authed(server) as c:
        assert c.call("STRLEN", "hostile:16m") == 16 << 20
        assert c.call("DEL", "hostile:16m") == 1
    still_serving(server)


def test_the_server_survived(server: RespServer) -> None:
    """After all of the above the process runs, PING answers over RESP, the native port serves."""
    still_serving(server)
    assert server.password
    with ctxstore.Client(server.native_address, token=server.password) as native:
        assert native.put("hostile:after", b"ok", overwrite=True) is True
    with authed(server) as c:
        assert c.call_raw("GETDEL", "hostile:after") == b"$2\r\nok\r\n"


# SETEX with a large value and one argument too many: the value's reservation asks for access
# before the arity is checked (the case that once left the connection open).
@pytest.mark.parametrize(
    "probe", [("GET", "k"), ("SETEX", "k", "10", "x" * 40_000, "extra"), ("INFO",)]
)
def test_a_revoked_token_ends_its_connections(server: RespServer, probe: tuple[str, ...]) -> None:
    """A token revoked while its connection is open: the next command (a read, a write whose
    large value arrives before its wrong arity is known, one without a native twin such as INFO)
    is refused and the connection closed."""
    with ctxstore.Client(server.native_address, token=server.admin_token()) as admin:
        created = admin.create_token("write", namespace="default")
    c = server.raw()
    c.auth(created.token)
    assert c.call_raw("SET", "revoked:k", "v") == b"+OK\r\n"
    with ctxstore.Client(server.native_address, token=server.admin_token()) as admin:
        assert admin.revoke_token(created.info.id)
    reply = c.call_raw(*probe)
    assert reply.startswith(b"-"), reply
    assert c.closed_by_peer(), "a revoked token's connection stayed open"
    c.close()
    still_serving(server)


def test_a_command_trickled_past_the_frame_timeout_is_cut_off(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The frame timeout runs from a command's first byte: a client that sends a large SET a byte
    at a time (holding its reservation) is closed after --frame-timeout, though bytes keep coming.
    """
    tmp = tmp_path_factory.mktemp("trickle")
    with serving(CTXSTORE, tmp, "--frame-timeout", "1s") as s:
        c = s.raw()
        c.send(b"*3\r\n$3\r\nSET\r\n$7\r\ntrickle\r\n$1048576\r\n")
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < 6:
            try:
                c.send(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.2)
        assert closed or c.closed_by_peer(timeout_s=1), "a trickling command held its connection"
        assert time.monotonic() - start < 5
        c.close()
        with s.raw() as other:
            assert other.call_raw("EXISTS", "trickle") == b":0\r\n"
