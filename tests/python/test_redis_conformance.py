"""Redis conformance: every test runs against Debian's redis-server 7.0 and against ctxstore's
Redis front end (``serve --redis-listen``) and asserts the same replies from both, so each
expectation here is Redis's own behaviour.

The reference runs with ``--databases 1`` (ctxstore has one database). Selecting only the
reference runs: ``-k redis-server``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from resp_servers import (
    CTXSTORE,
    REFERENCE,
    TARGETS,
    RespConn,
    RespServer,
    encode,
    pairs,
    serving,
    shape,
)

MISSING = "conformance:never-set"  # no test writes this key

HELLO_SHAPE = {
    "server": "bytes",
    "version": "bytes",
    "proto": "int",
    "id": "int",
    "mode": "bytes",
    "role": "bytes",
    "modules": "list",
}


def err(text: str) -> bytes:
    return b"-" + text.encode() + b"\r\n"


def arity(name: str) -> bytes:
    return err(f"ERR wrong number of arguments for '{name}' command")


def bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


SYNTAX = err("ERR syntax error")
NOT_INTEGER = err("ERR value is not an integer or out of range")
BAD_SET_EXPIRE = err("ERR invalid expire time in 'set' command")
OUT_OF_RANGE = err("ERR DB index is out of range")
NIL = b"$-1\r\n"


@pytest.fixture(scope="module", params=TARGETS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RespServer]:
    """The module's server without authentication: the reference, then ctxstore (--no-auth)."""
    with serving(request.param, tmp_path_factory.mktemp(request.param)) as server:
        yield server


@pytest.fixture(scope="module", params=[f"{t}-auth" for t in TARGETS])
def auth_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RespServer]:
    """A server that requires AUTH: the reference with requirepass, ctxstore with tokens."""
    kind = REFERENCE if request.param.startswith(REFERENCE) else CTXSTORE
    with serving(kind, tmp_path_factory.mktemp(request.param), auth=True) as server:
        yield server


@pytest.fixture
def r(target: RespServer) -> Iterator[redis.Redis]:
    """A redis-py client of the target."""
    client = target.redis()
    yield client
    client.close()


@pytest.fixture
def conn(target: RespServer) -> Iterator[RespConn]:
    """A raw RESP connection to the target."""
    with target.raw() as c:
        yield c


@pytest.fixture
def k(request: pytest.FixtureRequest) -> str:
    """A key prefix no other test uses."""
    return f"{request.node.name}:{time.monotonic_ns()}:"


# Replies to single commands, byte for byte --------------------------------------------------

REPLIES: list[tuple[tuple[str, ...], bytes]] = [
    (("PING",), b"+PONG\r\n"),
    (("ping", "hi"), bulk(b"hi")),
    (("PING", ""), bulk(b"")),
    (("PING", "a", "b"), arity("ping")),
    (("ECHO", "x y"), bulk(b"x y")),
    (("ECHO", ""), bulk(b"")),
    (("ECHO",), arity("echo")),
    (("ECHO", "a", "b"), arity("echo")),
    (("SELECT", "0"), b"+OK\r\n"),
    (("SELECT", "1"), OUT_OF_RANGE),
    (("SELECT", "16"), OUT_OF_RANGE),
    (("SELECT", "-1"), OUT_OF_RANGE),
    (("SELECT", "x"), NOT_INTEGER),
    (("SELECT",), arity("select")),
    (("DBSIZE", "x"), arity("dbsize")),
    (("GET",), arity("get")),
    (("GET", "a", "b"), arity("get")),
    (("GET", MISSING), NIL),
    (("gEt", MISSING), NIL),
    (("SET", MISSING), arity("set")),
    (("SET", MISSING, "v", "NX", "XX"), SYNTAX),
    (("SET", MISSING, "v", "xx", "nx"), SYNTAX),
    (("SET", MISSING, "v", "EX", "10", "PX", "10"), SYNTAX),
    (("SET", MISSING, "v", "PX", "10", "EXAT", "10"), SYNTAX),
    (("SET", MISSING, "v", "EXAT", "10", "PXAT", "10"), SYNTAX),
    (("SET", MISSING, "v", "KEEPTTL", "EX", "10"), SYNTAX),
    (("SET", MISSING, "v", "PX", "10", "KEEPTTL"), SYNTAX),
    (("SET", MISSING, "v", "EX"), SYNTAX),
    (("SET", MISSING, "v", "FOO"), SYNTAX),
    (("SET", MISSING, "v", "GET", "BOGUS"), SYNTAX),
    (("SET", MISSING, "v", "NX", "XX", "EX", "x"), SYNTAX),
    (("SET", MISSING, "v", "EX", "x"), NOT_INTEGER),
    (("SET", MISSING, "v", "EX", "1.5"), NOT_INTEGER),
    (("SET", MISSING, "v", "EX", "+10"), NOT_INTEGER),
    (("SET", MISSING, "v", "EX", "010"), NOT_INTEGER),
    (("SET", MISSING, "v", "EX", " 10"), NOT_INTEGER),
    (("SET", MISSING, "v", "EX", ""), NOT_INTEGER),
    (("SET", MISSING, "v", "EX", "9223372036854775808"), NOT_INTEGER),
    (("SET", MISSING, "v", "EX", "0"), BAD_SET_EXPIRE),
    (("SET", MISSING, "v", "EX", "-1"), BAD_SET_EXPIRE),
    (("SET", MISSING, "v", "PX", "0"), BAD_SET_EXPIRE),
    (("SET", MISSING, "v", "EXAT", "0"), BAD_SET_EXPIRE),
    (("SET", MISSING, "v", "PXAT", "0"), BAD_SET_EXPIRE),
    (("SET", MISSING, "v", "EX", "9999999999999999"), BAD_SET_EXPIRE),
    (("SET", MISSING, "v", "PX", "9223372036854775807"), BAD_SET_EXPIRE),
    (("SETEX", MISSING, "10"), arity("setex")),
    (("SETEX", MISSING, "0", "v"), err("ERR invalid expire time in 'setex' command")),
    (("SETEX", MISSING, "-1", "v"), err("ERR invalid expire time in 'setex' command")),
    (("SETEX", MISSING, "x", "v"), NOT_INTEGER),
    (("PSETEX", MISSING, "0", "v"), err("ERR invalid expire time in 'psetex' command")),
    (("PSETEX", MISSING, "1"), arity("psetex")),
    (("GETDEL",), arity("getdel")),
    (("GETDEL", MISSING), NIL),
    (("MGET",), arity("mget")),
    (("MSET", MISSING), arity("mset")),
    (("MSET", MISSING, "1", "b"), arity("mset")),
    (("EXISTS",), arity("exists")),
    (("EXISTS", MISSING, MISSING), b":0\r\n"),
    (("DEL",), arity("del")),
    (("DEL", MISSING), b":0\r\n"),
    (("UNLINK",), arity("unlink")),
    (("UNLINK", MISSING), b":0\r\n"),
    (("TYPE",), arity("type")),
    (("TYPE", MISSING, "x"), arity("type")),
    (("TYPE", MISSING), b"+none\r\n"),
    (("STRLEN",), arity("strlen")),
    (("STRLEN", MISSING), b":0\r\n"),
    (("TTL",), arity("ttl")),
    (("TTL", MISSING), b":-2\r\n"),
    (("PTTL",), arity("pttl")),
    (("PTTL", MISSING), b":-2\r\n"),
    (("CLIENT",), arity("client")),
    (("CLIENT", "FOO"), err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")),
    (("client", "foo"), err("ERR unknown subcommand 'foo'. Try CLIENT HELP.")),
    (("CLIENT", "GETNAME", "x"), arity("client|getname")),
    (("CLIENT", "GETNAME"), NIL),
    (("CLIENT", "SETNAME"), arity("client|setname")),
    (
        ("CLIENT", "SETNAME", "a b"),
        err("ERR Client names cannot contain spaces, newlines or special characters."),
    ),
    (
        ("CLIENT", "SETNAME", "a\nb"),
        err("ERR Client names cannot contain spaces, newlines or special characters."),
    ),
    (("CLIENT", "ID", "x"), arity("client|id")),
    (("COMMAND", "COUNT", "x"), arity("command|count")),
    (("COMMAND", "FOO"), err("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")),
    (("COMMAND", "DOCS", "no-such-command"), b"*0\r\n"),
    (("CONFIG",), arity("config")),
    (("CONFIG", "GET"), arity("config|get")),
    (("CONFIG", "FOO"), err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")),
    (("CONFIG", "GET", "no-such-parameter"), b"*0\r\n"),
    (("RESET", "x"), arity("reset")),
    (("HELLO", "4"), err("NOPROTO unsupported protocol version")),
    (("HELLO", "1"), err("NOPROTO unsupported protocol version")),
    (("HELLO", "x"), err("ERR Protocol version is not an integer or out of range")),
    (("HELLO", "3", "AUTH"), err("ERR Syntax error in HELLO option 'AUTH'")),
    (("HELLO", "3", "AUTH", "default"), err("ERR Syntax error in HELLO option 'AUTH'")),
    (("HELLO", "3", "FOO"), err("ERR Syntax error in HELLO option 'FOO'")),
    (("foo",), err("ERR unknown command 'foo', with args beginning with: ")),
    (("foo", "a", "b"), err("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")),
    (("FOO", "x"), err("ERR unknown command 'FOO', with args beginning with: 'x' ")),
    # Redis cuts the name at 128 bytes, the arguments once 128 bytes of them are listed, and
    # turns CR and LF into spaces.
    (
        ("foo", "a" * 200, "b"),
        err(f"ERR unknown command 'foo', with args beginning with: '{'a' * 128}' "),
    ),
    (("f" * 200, "x"), err(f"ERR unknown command '{'f' * 128}', with args beginning with: 'x' ")),
    (
        ("foo", "a\r\nb", "c d"),
        err("ERR unknown command 'foo', with args beginning with: 'a  b' 'c d' "),
    ),
    (
        ("foo", *["x" * 40] * 5),
        err("ERR unknown command 'foo', with args beginning with: " + f"'{'x' * 40}' " * 3),
    ),
]


@pytest.mark.parametrize(
    ("command", "expected"), REPLIES, ids=[" ".join(c)[:60] for c, _ in REPLIES]
)
def test_reply_bytes(conn: RespConn, command: tuple[str, ...], expected: bytes) -> None:
    """One command's reply, byte for byte: errors, arity, missing keys, nils, subcommands."""
    try:
        assert conn.call_raw(*command) == expected
        assert conn.call_raw("PING") == b"+PONG\r\n"  # an error leaves the connection usable
    finally:
        conn.call("DEL", MISSING)  # a SET wrongly accepted must not leak into other tests


# Strings ------------------------------------------------------------------------------------


def test_set_overwrites_and_get_reads(r: redis.Redis, conn: RespConn, k: str) -> None:
    """SET stores and replaces (no put-if-absent), GET reads back the latest value; raw replies."""
    assert r.set(k, b"one") is True
    assert r.get(k) == b"one"
    assert r.set(k, b"two") is True
    assert r.get(k) == b"two"
    assert conn.call_raw("SET", k, "three") == b"+OK\r\n"
    assert conn.call_raw("GET", k) == bulk(b"three")
    assert r.delete(k) == 1


def test_set_nx_and_xx(r: redis.Redis, conn: RespConn, k: str) -> None:
    """NX sets only a missing key, XX only a present one; the refused SET answers nil."""
    assert r.set(k + "a", b"1", xx=True) is None
    assert r.exists(k + "a") == 0
    assert r.set(k + "a", b"1", nx=True) is True
    assert r.set(k + "a", b"2", nx=True) is None
    assert r.get(k + "a") == b"1"
    assert r.set(k + "a", b"3", xx=True) is True
    assert r.get(k + "a") == b"3"
    assert conn.call_raw("SET", k + "a", "4", "nx", "ex", "100") == NIL  # options in any case
    assert conn.call_raw("SET", k + "a", "4", "NX", "NX") == NIL  # a repeated option is allowed
    assert r.delete(k + "a") == 1


def test_set_get_option(r: redis.Redis, conn: RespConn, k: str) -> None:
    """SET ... GET answers the old value (nil when missing) and, in 7.0, combines with NX and XX."""
    assert r.set(k, b"old", get=True) is None
    assert r.get(k) == b"old"
    assert r.set(k, b"new", get=True) == b"old"
    assert r.set(k, b"newer", nx=True, get=True) == b"new"  # NX refused: nothing changes
    assert r.get(k) == b"new"
    assert r.set(k + "b", b"v", nx=True, get=True) is None  # NX on a missing key: stored
    assert r.get(k + "b") == b"v"
    assert r.set(k + "c", b"v", xx=True, get=True) is None  # XX on a missing key: not stored
    assert r.exists(k + "c") == 0
    assert r.set(k, b"x", xx=True, get=True) == b"new"
    assert conn.call_raw("SET", k, "y", "GET", "GET") == bulk(b"x")
    assert r.delete(k, k + "b") == 2


def test_set_expiry_options_and_ttls(r: redis.Redis, conn: RespConn, k: str) -> None:
    """EX, PX, EXAT, PXAT set TTLs; KEEPTTL keeps one; a plain SET clears it; the last EX wins."""
    now = time.time()
    assert r.set(k + "ex", b"v", ex=100) is True
    assert r.ttl(k + "ex") in (99, 100)
    assert 99_000 < r.pttl(k + "ex") <= 100_000
    assert r.set(k + "px", b"v", px=100_000) is True
    assert 99_000 < r.pttl(k + "px") <= 100_000
    assert r.set(k + "exat", b"v", exat=int(now) + 100) is True
    assert r.ttl(k + "exat") in (98, 99, 100)
    assert r.set(k + "pxat", b"v", pxat=int(now * 1000) + 100_000) is True
    assert 98_000 < r.pttl(k + "pxat") <= 100_000
    assert r.set(k + "ex", b"w", keepttl=True) is True
    assert r.ttl(k + "ex") in (99, 100)
    assert r.get(k + "ex") == b"w"
    assert r.set(k + "ex", b"x") is True
    assert r.ttl(k + "ex") == -1
    assert r.pttl(k + "ex") == -1
    assert conn.call_raw("SET", k + "ex", "v", "EX", "10", "EX", "100") == b"+OK\r\n"
    assert r.ttl(k + "ex") in (99, 100)
    assert conn.call_raw("SET", k + "ex", "v", "KEEPTTL", "KEEPTTL") == b"+OK\r\n"
    assert r.ttl(k + "ex") in (99, 100)
    assert r.setex(k + "setex", 100, b"v") is True
    assert r.ttl(k + "setex") in (99, 100)
    assert r.psetex(k + "psetex", 100_000, b"v") is True
    assert 99_000 < r.pttl(k + "psetex") <= 100_000
    assert r.get(k + "psetex") == b"v"
    assert r.delete(k + "ex", k + "px", k + "exat", k + "pxat", k + "setex", k + "psetex") == 6


def test_keys_expire(r: redis.Redis, k: str) -> None:
    """Keys set with PX, PSETEX, PXAT and SET ... GET PX are gone once their time passes."""
    r.set(k + "keep", b"v", ex=100)
    assert r.set(k + "px", b"v", px=200) is True
    assert r.psetex(k + "psetex", 200, b"v") is True
    assert r.set(k + "pxat", b"v", pxat=int(time.time() * 1000) + 200) is True
    r.set(k + "get", b"old")
    assert r.set(k + "get", b"new", px=200, get=True) == b"old"
    assert 0 < r.pttl(k + "px") <= 200
    assert r.mget([k + "px", k + "psetex", k + "pxat", k + "get"]) == [b"v", b"v", b"v", b"new"]
    time.sleep(0.45)
    for key in ("px", "psetex", "pxat", "get"):
        assert r.get(k + key) is None, key
        assert r.exists(k + key) == 0
        assert r.ttl(k + key) == -2
        assert r.pttl(k + key) == -2
        assert r.type(k + key) == b"none"
        assert r.strlen(k + key) == 0
        assert r.getdel(k + key) is None
    assert r.get(k + "keep") == b"v"
    assert r.delete(k + "keep") == 1


def test_absolute_expiry_in_the_past_deletes(r: redis.Redis, conn: RespConn, k: str) -> None:
    """EXAT/PXAT in the past answer OK (or the old value with GET) and leave no key."""
    r.set(k, b"v")
    assert conn.call_raw("SET", k, "w", "EXAT", "1") == b"+OK\r\n"
    assert r.exists(k) == 0
    r.set(k, b"v")
    assert conn.call_raw("SET", k, "w", "PXAT", "1", "GET") == bulk(b"v")
    assert r.get(k) is None
    assert r.ttl(k) == -2


def test_getdel(r: redis.Redis, k: str) -> None:
    """GETDEL answers the value and deletes the key; then nil."""
    r.set(k, b"value")
    assert r.getdel(k) == b"value"
    assert r.exists(k) == 0
    assert r.getdel(k) is None


def test_mset_and_mget(r: redis.Redis, conn: RespConn, k: str) -> None:
    """MSET sets every pair (a repeated key: last wins); MGET answers in order, nil if missing."""
    assert r.mset({k + "a": b"1", k + "b": b"2"}) is True
    assert conn.call_raw("MSET", k + "c", "x", k + "c", "3") == b"+OK\r\n"
    assert r.mget([k + "a", MISSING, k + "b", k + "c", k + "a"]) == [b"1", None, b"2", b"3", b"1"]
    assert conn.call_raw("MGET", MISSING, k + "b") == b"*2\r\n$-1\r\n$1\r\n2\r\n"
    assert r.mget([MISSING]) == [None]
    assert r.delete(k + "a", k + "b", k + "c") == 3


def test_exists_del_unlink_count(r: redis.Redis, k: str) -> None:
    """EXISTS counts every key named, repeats included; DEL and UNLINK count keys removed once."""
    r.mset({k + "a": b"1", k + "b": b"2", k + "c": b"3"})
    assert r.exists(k + "a") == 1
    assert r.exists(k + "a", k + "a", k + "b", MISSING) == 3
    assert r.delete(k + "a", k + "a", MISSING) == 1
    assert r.exists(k + "a", k + "b") == 1
    assert r.unlink(k + "b", k + "b", k + "c") == 2
    assert r.exists(k + "a", k + "b", k + "c") == 0
    assert r.delete(k + "a") == 0
    assert r.unlink(k + "a") == 0


def test_type_and_strlen(r: redis.Redis, k: str) -> None:
    """TYPE says string for a value and none for a missing key; STRLEN is the value's length."""
    r.set(k, b"\x00\r\n" * 7)
    assert r.type(k) == b"string"
    assert r.strlen(k) == 21
    r.set(k, b"")
    assert r.type(k) == b"string"
    assert r.strlen(k) == 0
    assert r.type(MISSING) == b"none"
    assert r.delete(k) == 1


def test_dbsize_counts_keys(r: redis.Redis, k: str) -> None:
    """DBSIZE rises with each new key, not with an overwrite, and falls with DEL. (Tried up to three
    times: expired keys of other tests may be reaped between two readings.)"""
    seen = []
    for _ in range(3):
        before = r.dbsize()
        assert isinstance(before, int)
        r.mset({k + "a": b"1", k + "b": b"2", k + "c": b"3"})
        r.set(k + "a", b"again")
        during = r.dbsize()
        assert r.delete(k + "a", k + "b", k + "c") == 3
        after = r.dbsize()
        seen.append((during - before, after - before))
        if seen[-1] == (3, 0):
            break
    assert seen[-1] == (3, 0), seen


def test_binary_keys_and_values(r: redis.Redis, conn: RespConn, k: str) -> None:
    """Keys and values with CR, LF, NUL and high bytes are stored and read back exactly."""
    key = k.encode() + b"\x00\r\n\xff key*?[]"
    value = b"\r\n\x00$5\r\n*1\r\n\xff\xfe" * 100
    assert r.set(key, value) is True
    assert r.get(key) == value
    assert r.strlen(key) == len(value)
    assert r.exists(key) == 1
    assert r.exists(key.replace(b"\x00", b"\x01")) == 0  # a NUL does not end the key
    assert conn.call_raw("GET", key) == bulk(value)
    assert r.mget([key, MISSING]) == [value, None]
    assert r.getdel(key) == value
    assert r.exists(key) == 0


SIZES = [0, 1, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 1 << 20]


@pytest.mark.parametrize("size", SIZES)
def test_value_sizes(r: redis.Redis, k: str, size: int) -> None:
    """Values of 0 B to 1 MiB, around the 32 KiB large-argument boundary, through SET, SETEX,
    MSET, GET, MGET, SET ... GET and GETDEL."""
    value = bytes((i * 7 + size) & 0xFF for i in range(size))
    assert r.set(k + "set", value) is True
    assert r.strlen(k + "set") == size
    assert r.get(k + "set") == value
    assert r.setex(k + "setex", 100, value) is True
    assert r.mset({k + "m1": value, k + "m2": value[::-1]}) is True
    assert r.mget([k + "setex", k + "m1", k + "m2"]) == [value, value, value[::-1]]
    assert r.set(k + "set", b"small", get=True) == value
    assert r.getdel(k + "m1") == value
    assert r.delete(k + "set", k + "setex", k + "m2") == 3


def test_a_64_mib_value(r: redis.Redis, k: str) -> None:
    """A 64 MiB value (the only one in the suite) is stored and read back whole."""
    value = (hashlib.sha256(b"64").digest() * 2)[:61] * ((64 << 20) // 61) + b"end"
    value += b"\x00" * ((64 << 20) - len(value))
    assert len(value) == 64 << 20
    assert r.set(k, value) is True
    assert r.strlen(k) == 64 << 20
    got = r.get(k)
    assert got is not None and len(got) == len(value)
    assert hashlib.sha256(got).digest() == hashlib.sha256(value).digest()
    del got
    assert r.delete(k) == 1


# Connection commands ------------------------------------------------------------------------


def test_ping_and_echo_through_redis_py(r: redis.Redis) -> None:
    """redis-py's ping() and echo() work as on Redis."""
    assert r.ping() is True
    assert r.echo(b"\x00hello\r\n") == b"\x00hello\r\n"


def test_client_name_and_id(target: RespServer) -> None:
    """CLIENT SETNAME/GETNAME (redis-py's client_name sends it on connect), an empty name clears,
    CLIENT ID differs between connections."""
    named = target.redis(client_name="conformance")
    try:
        assert named.client_getname() == "conformance"
        assert named.client_setname("renamed") is True
        assert named.client_getname() == "renamed"
        assert named.execute_command("CLIENT", "SETNAME", "") == b"OK"
        assert named.client_getname() is None
    finally:
        named.close()
    with target.raw() as a, target.raw() as b:
        ida, idb = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
        assert isinstance(ida, int) and isinstance(idb, int) and ida > 0 and idb > 0 and ida != idb
        assert a.call("client", "id") == ida
        hello = a.call("HELLO")
        assert isinstance(hello, list) and pairs(hello)["id"] == ida


def docs_map(reply: object, asked: set[str] | None) -> dict[str, object]:
    """A COMMAND DOCS reply in RESP2, a flat name/doc array, checked and read as a dict: each doc
    is a flat field/value array; with names asked, only those can appear."""
    assert isinstance(reply, list), reply
    docs = pairs(reply)
    assert asked is None or set(docs) <= asked, docs.keys()
    for doc in docs.values():
        assert isinstance(doc, list) and len(doc) % 2 == 0
        fields = pairs(doc)
        assert "summary" not in fields or isinstance(fields["summary"], bytes)
    return docs


def test_command_count_and_docs(conn: RespConn) -> None:
    """COMMAND COUNT is a positive integer; COMMAND DOCS answers name/doc pairs (a flat array in
    RESP2), for all commands or those named, as interactive redis-cli probes it. (Redis lists a
    summary per command; a server may list fewer: the shape is what clients rely on.)"""
    count = conn.call("COMMAND", "COUNT")
    assert isinstance(count, int) and count > 0
    docs_map(conn.call("COMMAND", "DOCS", "get"), {"get"})
    docs_map(conn.call("COMMAND", "DOCS", "GET", "no-such-command", "set"), {"get", "set"})
    docs_map(conn.call("COMMAND", "DOCS"), None)
    assert conn.call_raw("PING") == b"+PONG\r\n"


def test_config_get(r: redis.Redis, conn: RespConn) -> None:
    """CONFIG GET answers name/value pairs (redis-benchmark reads them), none for unknown names."""
    for name in ("save", "appendonly"):
        got = r.config_get(name)
        assert list(got) == [name] and isinstance(got[name], str), got
    both = conn.call("CONFIG", "GET", "save", "appendonly")
    assert isinstance(both, list) and sorted(pairs(both)) == ["appendonly", "save"]
    assert r.config_get("no-such-parameter") == {}


def test_quit_closes_after_its_reply(target: RespServer) -> None:
    """QUIT answers +OK and the server closes the connection; commands after it are not run."""
    with target.raw() as c:
        assert c.call_raw("QUIT") == b"+OK\r\n"
        assert c.closed_by_peer()
    with target.raw() as c:
        c.send(b"QUIT\r\nPING\r\n")
        assert c.read_until_closed() == (b"+OK\r\n", True)


def test_reset_restores_the_connection(conn: RespConn) -> None:
    """RESET answers +RESET and returns to RESP2 without a client name."""
    assert conn.call("CLIENT", "SETNAME", "before-reset") == "OK"
    assert isinstance(conn.call("HELLO", "3"), dict)
    assert conn.call_raw("RESET") == b"+RESET\r\n"
    assert conn.call_raw("GET", MISSING) == NIL
    assert conn.call_raw("CLIENT", "GETNAME") == NIL
    assert conn.call_raw("PING") == b"+PONG\r\n"


# Pipelines ----------------------------------------------------------------------------------


def test_pipeline_of_mixed_commands(r: redis.Redis, k: str) -> None:
    """A redis-py pipeline without MULTI: replies in order, an error in the middle in its place."""
    p = r.pipeline(transaction=False)
    p.set(k + "a", b"1")
    p.set(k + "a", b"2", nx=True)
    p.get(k + "a")
    p.execute_command("NOSUCHCOMMAND", k)
    p.mset({k + "b": b"x", k + "c": b"y"})
    p.mget([k + "a", MISSING, k + "c"])
    p.exists(k + "a", k + "b", MISSING)
    p.execute_command("SET", k + "d", b"v", "EX", "0")
    p.set(k + "e", b"v", px=100_000)
    p.strlen(k + "b")
    p.echo(b"e")
    p.ping()
    p.getdel(k + "b")
    p.delete(k + "a", k + "b", k + "c", k + "e")
    p.type(k + "a")
    results = p.execute(raise_on_error=False)
    errors = {i: str(v) for i, v in enumerate(results) if isinstance(v, Exception)}
    assert errors == {
        3: f"unknown command 'NOSUCHCOMMAND', with args beginning with: '{k}' ",
        7: "invalid expire time in 'set' command",
    }
    others = [v for v in results if not isinstance(v, Exception)]
    expected = [True, None, b"1", True, [b"1", None, b"y"], 2, True, 1, b"e", True, b"x", 3]
    assert others == expected + [b"none"]


def test_a_long_pipeline(r: redis.Redis, k: str) -> None:
    """2000 SETs then 2000 GETs sent as one pipeline all answer, in order."""
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.set(f"{k}{i}", str(i * i).encode())
    for i in range(2000):
        p.get(f"{k}{i}")
    results = p.execute()
    assert results[:2000] == [True] * 2000
    assert results[2000:] == [str(i * i).encode() for i in range(2000)]
    assert r.delete(*[f"{k}{i}" for i in range(2000)]) == 2000


def test_raw_pipeline_in_one_write(conn: RespConn, k: str) -> None:
    """Multibulk and inline commands in one write: one reply each, in order."""
    conn.send(
        b"PING\r\n"
        + encode("SET", k, "v1")
        + f"GET {k}\r\n".encode()
        + encode("EXISTS", k, k)
        + b"ECHO hi\r\n"
        + encode("DEL", k)
        + encode("GET", k)
    )
    replies = [conn.read_raw() for _ in range(7)]
    assert replies == [
        b"+PONG\r\n",
        b"+OK\r\n",
        bulk(b"v1"),
        b":2\r\n",
        bulk(b"hi"),
        b":1\r\n",
        NIL,
    ]


def test_commands_split_into_single_bytes(conn: RespConn, k: str) -> None:
    """Commands that arrive a byte at a time are parsed as if whole."""
    data = encode("SET", k, "x" * 50) + b"PING\r\n" + encode("GET", k) + encode("DEL", k)
    for i in range(len(data)):
        conn.send(data[i : i + 1])
    assert [conn.read_raw() for _ in range(4)] == [
        b"+OK\r\n",
        b"+PONG\r\n",
        bulk(b"x" * 50),
        b":1\r\n",
    ]


# Inline commands and protocol errors -------------------------------------------------------

INLINE: list[tuple[bytes, list[bytes]]] = [
    (b"PING\r\n", [b"+PONG\r\n"]),
    (b"PING\n", [b"+PONG\r\n"]),
    (b"  PING  \t \r\n", [b"+PONG\r\n"]),
    (b"\r\n\r\nPING\r\n", [b"+PONG\r\n"]),
    (b"*0\r\n*-1\r\nPING\r\n", [b"+PONG\r\n"]),
    (b"ping hello\r\n", [bulk(b"hello")]),
    (b'ECHO "x y"\r\n', [bulk(b"x y")]),
    (b'ECHO "a\\x41\\n\\"q\\""\r\n', [bulk(b'aA\n"q"')]),
    (b"ECHO 'it\\'s \\n'\r\n", [bulk(b"it's \\n")]),
    (b'ECHO ""\r\n', [bulk(b"")]),
    (b"GET conformance:never-set\r\n", [NIL]),
    (b"SET\r\n", [arity("set")]),
    (
        b"$4\r\nPING\r\n",
        [err("ERR unknown command '$4', with args beginning with: "), b"+PONG\r\n"],
    ),
]


@pytest.mark.parametrize(("sent", "replies"), INLINE, ids=[repr(s)[2:40] for s, _ in INLINE])
def test_inline_commands(conn: RespConn, sent: bytes, replies: list[bytes]) -> None:
    """Inline commands as telnet and redis-cli send them: blanks, quotes, escapes as Redis."""
    conn.send(sent)
    assert [conn.read_raw() for _ in replies] == replies
    assert conn.call_raw("PING") == b"+PONG\r\n"


def test_inline_set_with_quotes(conn: RespConn, k: str) -> None:
    """An inline SET with a quoted value stores the unquoted bytes."""
    conn.send(f'SET {k} "x y\\r\\n"\r\nGET {k}\r\nDEL {k}\r\n'.encode())
    assert [conn.read_raw() for _ in range(3)] == [b"+OK\r\n", bulk(b"x y\r\n"), b":1\r\n"]


# (sent, replies before the error, the error's text after "Protocol error: ")
PROTOCOL_ERRORS: list[tuple[bytes, bytes, str]] = [
    (b"*1\r\n$-1\r\n", b"", "invalid bulk length"),
    (b"*1\r\n$-5\r\n", b"", "invalid bulk length"),
    (b"*1\r\n$05\r\n", b"", "invalid bulk length"),
    (b"*1\r\n$ 5\r\n", b"", "invalid bulk length"),
    (b"*1\r\n$536870913\r\n", b"", "invalid bulk length"),
    (b"*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n", b"", "invalid bulk length"),
    (b"*2147483648\r\n", b"", "invalid multibulk length"),
    (b"*-99999999999999999999\r\n", b"", "invalid multibulk length"),
    (b"*01\r\n", b"", "invalid multibulk length"),
    (b"*1\r\n$4\r\nPING\r\n*x\r\n", b"+PONG\r\n", "invalid multibulk length"),
    (b"*1\r\nPING\r\n", b"", "expected '$', got 'P'"),
    (b"*1\r\n:5\r\n", b"", "expected '$', got ':'"),
    (b'ECHO "unbalanced\r\n', b"", "unbalanced quotes in request"),
    (b'ECHO "a"b\r\n', b"", "unbalanced quotes in request"),
    (b"a" * 70_000, b"", "too big inline request"),
    (b"*" + b"1" * 70_000, b"", "too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 70_000, b"", "too big bulk count string"),
]


@pytest.mark.parametrize(
    ("sent", "before", "text"), PROTOCOL_ERRORS, ids=[repr(s)[2:30] for s, _, _ in PROTOCOL_ERRORS]
)
def test_protocol_errors_close_the_connection(
    target: RespServer, sent: bytes, before: bytes, text: str
) -> None:
    """A malformed request answers ``-ERR Protocol error: ...``, then the server closes."""
    with target.raw() as c:
        c.send_split(sent)
        assert c.read_until_closed() == (before + err(f"ERR Protocol error: {text}"), True)
    with target.raw() as c:
        assert c.call_raw("PING") == b"+PONG\r\n"


# RESP3 --------------------------------------------------------------------------------------


def test_hello_3_switches_to_resp3(conn: RespConn, k: str) -> None:
    """HELLO 3 answers a map (server, version, proto 3, id, mode, role, modules); then nil is ``_``,
    CONFIG GET a map, and HELLO 2 goes back to RESP2."""
    hello = conn.call("HELLO", "3")
    assert conn.last_raw.startswith(b"%7\r\n")
    assert isinstance(hello, dict) and shape(hello) | {"modules": "list"} == HELLO_SHAPE
    assert hello["proto"] == 3 and hello["id"] == conn.call("CLIENT", "ID")
    assert conn.call_raw("GET", MISSING) == b"_\r\n"
    assert conn.call_raw("GETDEL", MISSING) == b"_\r\n"
    assert conn.call_raw("CLIENT", "GETNAME") == b"_\r\n"
    assert conn.call_raw("SET", k, "v", "GET") == b"_\r\n"
    assert conn.call_raw("MGET", k, MISSING) == b"*2\r\n$1\r\nv\r\n_\r\n"
    assert conn.call_raw("SET", k, "v", "NX") == b"_\r\n"
    assert conn.call_raw("EXISTS", k, MISSING) == b":1\r\n"
    assert conn.call_raw("TTL", MISSING) == b":-2\r\n"
    assert conn.call_raw("PING") == b"+PONG\r\n"
    assert conn.call_raw("ECHO", "e") == bulk(b"e")
    assert conn.call_raw("GET") == arity("get")
    assert conn.call_raw("CONFIG", "GET", "no-such-parameter") == b"%0\r\n"
    config = conn.call("CONFIG", "GET", "appendonly")
    assert conn.last_raw.startswith(b"%1\r\n") and isinstance(config, dict)
    assert list(config) == ["appendonly"]
    docs = conn.call("COMMAND", "DOCS", "get")
    assert conn.last_raw.startswith(b"%") and isinstance(docs, dict) and set(docs) <= {"get"}
    assert all(isinstance(doc, dict) for doc in docs.values())
    again = conn.call("HELLO", "3")
    assert isinstance(again, dict) and again["proto"] == 3
    back = conn.call("HELLO", "2")
    assert (
        conn.last_raw.startswith(b"*14\r\n")
        and isinstance(back, list)
        and pairs(back)["proto"] == 2
    )
    assert conn.call_raw("GET", MISSING) == NIL
    assert conn.call_raw("DEL", k) == b":1\r\n"


def test_hello_without_a_version_stays_resp2(conn: RespConn) -> None:
    """HELLO with no arguments answers the same fields as a RESP2 flat array."""
    hello = conn.call("HELLO")
    assert conn.last_raw.startswith(b"*14\r\n") and isinstance(hello, list)
    fields = pairs(hello)
    assert shape(fields) | {"modules": "list"} == HELLO_SHAPE and fields["proto"] == 2
    assert conn.call_raw("GET", MISSING) == NIL
    assert conn.call("HELLO", "3") is not None and conn.call_raw("GET", MISSING) == b"_\r\n"


# redis.asyncio ------------------------------------------------------------------------------


async def test_asyncio_concurrent_commands(target: RespServer, k: str) -> None:
    """redis.asyncio: 64 concurrent SET/GET/EXISTS tasks over a pool, then an async pipeline."""
    client: redis.asyncio.Redis = redis.asyncio.Redis(
        host="127.0.0.1", port=target.port, socket_timeout=30
    )
    try:

        async def one(i: int) -> bytes | None:
            assert await client.set(f"{k}{i}", str(i).encode() * (i + 1)) is True
            assert await client.exists(f"{k}{i}") == 1
            return await client.get(f"{k}{i}")

        got = await asyncio.gather(*(one(i) for i in range(64)))
        assert got == [str(i).encode() * (i + 1) for i in range(64)]
        async with client.pipeline(transaction=False) as p:
            p.mget([f"{k}0", MISSING, f"{k}2"])
            p.set(f"{k}0", b"new", get=True)
            p.delete(*[f"{k}{i}" for i in range(64)])
            p.get(f"{k}0")
            assert await p.execute() == [[b"0", None, b"222"], b"0", 64, None]
    finally:
        await client.close()


async def test_asyncio_large_values_and_errors(auth_target: RespServer, k: str) -> None:
    """redis.asyncio with a password: 16 concurrent 200 KB values round-trip; an error reply raises
    ResponseError with Redis's text and the connection goes on."""
    client: redis.asyncio.Redis = redis.asyncio.Redis(
        host="127.0.0.1", port=auth_target.port, password=auth_target.password, socket_timeout=30
    )
    try:
        values = [bytes([i]) * 200_000 for i in range(16)]
        await asyncio.gather(*(client.set(f"{k}{i}", v) for i, v in enumerate(values)))
        assert await asyncio.gather(*(client.get(f"{k}{i}") for i in range(16))) == values
        with pytest.raises(redis.ResponseError, match="^invalid expire time in 'set' command$"):
            await client.set(k, b"v", ex=0)
        with pytest.raises(redis.ResponseError, match="^unknown command 'NOSUCH', with args"):
            await client.execute_command("NOSUCH", "x")
        assert await client.delete(*[f"{k}{i}" for i in range(16)]) == 16
    finally:
        await client.close()


# Authentication (the reference with requirepass, ctxstore with tokens) ----------------------

NOAUTH = err("NOAUTH Authentication required.")
WRONGPASS = err("WRONGPASS invalid username-password pair or user is disabled.")
HELLO_NOAUTH = err(
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
    "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
    "version at the same time"
)

BEFORE_AUTH: list[tuple[tuple[str, ...], bytes]] = [
    (("GET", MISSING), NOAUTH),
    (("SET", MISSING, "v"), NOAUTH),
    (("ECHO", "x"), NOAUTH),
    (("SELECT", "0"), NOAUTH),
    (("DBSIZE",), NOAUTH),
    (("CLIENT", "SETNAME", "x"), NOAUTH),
    (("COMMAND", "COUNT"), NOAUTH),
    (("CONFIG", "GET", "save"), NOAUTH),
    (("EXISTS", *[MISSING] * 9), NOAUTH),
    (("MGET", MISSING, MISSING), NOAUTH),
    (("HELLO", "3"), HELLO_NOAUTH),
    (("HELLO",), HELLO_NOAUTH),
    (("AUTH",), arity("auth")),
    (("AUTH", "a", "b", "c"), SYNTAX),
    # Redis looks the command up and checks its arity before it checks authentication.
    (("GET",), arity("get")),
    (("foo", "a"), err("ERR unknown command 'foo', with args beginning with: 'a' ")),
    # Not compared: Redis 7.0 serves RESET unauthenticated (+RESET); ctxstore answers NOAUTH
    # (test_redis_ctxstore.py).
]


@pytest.mark.parametrize(
    ("command", "expected"), BEFORE_AUTH, ids=[" ".join(c)[:40] for c, _ in BEFORE_AUTH]
)
def test_before_auth(auth_target: RespServer, command: tuple[str, ...], expected: bytes) -> None:
    """Before AUTH a command answers NOAUTH (or a lookup or arity error); the connection stays."""
    assert auth_target.password
    with auth_target.raw() as c:
        assert c.call_raw(*command) == expected
        assert c.call_raw("AUTH", auth_target.password) == b"+OK\r\n"
        assert c.call_raw("GET", MISSING) == NIL


def test_quit_before_auth(auth_target: RespServer) -> None:
    """QUIT needs no authentication: +OK, then the server closes."""
    with auth_target.raw() as c:
        assert c.call_raw("QUIT") == b"+OK\r\n"
        assert c.closed_by_peer()


@pytest.mark.parametrize(
    "command",
    [
        ("AUTH", "wrong-password"),
        ("AUTH", "default", "wrong-password"),
        ("HELLO", "3", "AUTH", "default", "wrong"),
    ],
    ids=["AUTH password", "AUTH user password", "HELLO 3 AUTH"],
)
def test_a_wrong_password_is_wrongpass(auth_target: RespServer, command: tuple[str, ...]) -> None:
    """A wrong password answers Redis's WRONGPASS text (closing or not is not compared)."""
    with auth_target.raw() as c:
        assert c.call_raw(*command) == WRONGPASS


def test_auth_forms(auth_target: RespServer, k: str) -> None:
    """AUTH password, AUTH default password, HELLO 3/2 AUTH default password all authenticate."""
    pw = auth_target.password
    assert pw
    with auth_target.raw() as c:
        assert c.call_raw("AUTH", pw) == b"+OK\r\n"
        assert c.call_raw("SET", k, "v") == b"+OK\r\n"
    with auth_target.raw() as c:
        assert c.call_raw("AUTH", "default", pw) == b"+OK\r\n"
        assert c.call_raw("GET", k) == bulk(b"v")
    with auth_target.raw() as c:
        hello = c.call("HELLO", "3", "AUTH", "default", pw)
        assert isinstance(hello, dict) and shape(hello) | {"modules": "list"} == HELLO_SHAPE
        assert hello["proto"] == 3
        assert c.call_raw("GET", MISSING) == b"_\r\n"
    with auth_target.raw() as c:
        hello = c.call("HELLO", "2", "AUTH", "default", pw)
        assert isinstance(hello, list) and pairs(hello)["proto"] == 2
        assert c.call_raw("DEL", k) == b":1\r\n"


def test_redis_py_authenticates(auth_target: RespServer) -> None:
    """redis-py with password, or username and password, connects; a wrong one raises WRONGPASS."""
    for options in (
        {"password": auth_target.password},
        {"username": "default", "password": auth_target.password},
    ):
        client = auth_target.redis(**options)
        try:
            assert client.ping() is True
            assert client.get(MISSING) is None
        finally:
            client.close()
    wrong = auth_target.redis(password="wrong-password")
    try:
        with pytest.raises(redis.ResponseError, match="^WRONGPASS invalid username-password pair"):
            wrong.ping()
    finally:
        wrong.close()
    unauthenticated = auth_target.redis()
    try:
        with pytest.raises(redis.AuthenticationError, match="Authentication required"):
            unauthenticated.get(MISSING)
    finally:
        unauthenticated.close()


def test_reset_forgets_authentication(auth_target: RespServer) -> None:
    """RESET after AUTH answers +RESET and the connection must authenticate again."""
    assert auth_target.password
    with auth_target.raw() as c:
        c.auth(auth_target.password)
        assert c.call_raw("RESET") == b"+RESET\r\n"
        assert c.call_raw("GET", MISSING) == NOAUTH


@pytest.mark.parametrize(
    ("sent", "text"),
    [
        (b"*11\r\n", "unauthenticated multibulk length"),
        (b"*1000000\r\n", "unauthenticated multibulk length"),
        (b"*2\r\n$4\r\nECHO\r\n$16385\r\n", "unauthenticated bulk length"),
        (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16777216\r\n", "unauthenticated bulk length"),
        (b"*2\r\n$3\r\nGET\r\n$-100\r\n", "invalid bulk length"),
        (b"*99999999999\r\n", "invalid multibulk length"),
    ],
    ids=["11 arguments", "a million", "a 16385-byte bulk", "a 16 MiB bulk", "negative", "huge"],
)
def test_unauthenticated_limits(auth_target: RespServer, sent: bytes, text: str) -> None:
    """Before AUTH, over 10 arguments or a bulk over 16384 bytes is a protocol error and a close."""
    with auth_target.raw() as c:
        c.send(sent)
        assert c.read_until_closed() == (err(f"ERR Protocol error: {text}"), True)


def test_unauthenticated_limits_are_inclusive_and_lift_after_auth(
    auth_target: RespServer, k: str
) -> None:
    """10 arguments and 16384-byte bulks pass before AUTH (NOAUTH); after AUTH, larger ones work."""
    assert auth_target.password
    with auth_target.raw() as c:
        assert c.call_raw("EXISTS", *[MISSING] * 9) == NOAUTH
        assert c.call_raw("ECHO", "x" * 16384) == NOAUTH
        c.auth(auth_target.password)
        assert c.call_raw("MSET", *[f"{k}{i // 2}" for i in range(12)]) == b"+OK\r\n"
        assert c.call_raw("ECHO", "y" * 20_000) == bulk(b"y" * 20_000)
        assert c.call_raw("DEL", *[f"{k}{i}" for i in range(6)]) == b":6\r\n"


def test_connections_are_independent(auth_target: RespServer) -> None:
    """One connection's AUTH does not authenticate another."""
    assert auth_target.password
    with auth_target.raw() as a, auth_target.raw() as b:
        a.auth(auth_target.password)
        assert b.call_raw("GET", MISSING) == NOAUTH
        assert a.call_raw("GET", MISSING) == NIL
