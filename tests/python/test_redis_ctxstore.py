"""ctxstore's Redis front end beyond Redis itself: tokens and namespaces behind AUTH, roles,
tenants that cannot see each other, one store under both protocols (RESP and the native client),
LMCache's redis-connector layouts, and the CTX.* commands.

Servers: one that requires tokens (namespaces "a" and "b" with write and read tokens, made with
the admin token through the native client) and one run with --no-auth.
"""

from __future__ import annotations

import secrets
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

import ctxstore
from resp_servers import CTXSTORE, NULL3, Error, RespConn, RespServer, encode, pairs, serving

NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
NIL = b"$-1\r\n"


@dataclass
class Tenants:
    """The token server and its tokens: namespaces a and b, each with a write and a read token."""

    server: RespServer
    admin: str
    a_write: str
    a_read: str
    b_write: str
    b_read: str

    def native(self, token: str, namespace: str | None = None) -> ctxstore.Client:
        return ctxstore.Client(self.server.native_address, token=token, namespace=namespace)

    def resp(self, token: str, namespace: str | None = None) -> RespConn:
        """A raw connection authenticated with the token (AUTH token, or AUTH namespace token)."""
        c = self.server.raw()
        c.auth(token, namespace)
        return c

    def redis(self, token: str, namespace: str | None = None) -> redis.Redis:
        return self.server.redis(username=namespace, password=token)


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    """A ctxstore server with tokens, namespaces a and b, and their tokens."""
    with serving(CTXSTORE, tmp_path_factory.mktemp("tokens"), auth=True) as server:
        admin = server.admin_token()
        with ctxstore.Client(server.native_address, token=admin) as c:
            tokens = {}
            for ns in ("a", "b"):
                c.create_namespace(ns)
                for role in ("write", "read"):
                    tokens[f"{ns}_{role}"] = c.create_token(
                        role, ns, label=f"resp-{ns}-{role}"
                    ).token
        yield Tenants(server, admin, **tokens)


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RespServer]:
    """A ctxstore server run with --no-auth."""
    with serving(CTXSTORE, tmp_path_factory.mktemp("no-auth")) as server:
        yield server


@pytest.fixture
def k(request: pytest.FixtureRequest) -> str:
    """A key prefix no other test uses."""
    return f"{request.node.name}:{time.monotonic_ns()}:"


def unknown_token() -> str:
    """A well-formed token the server never issued: ctx_ + 16 hex + _ + 64 hex."""
    return f"ctx_{secrets.token_hex(8)}_{secrets.token_hex(32)}"


# Authentication -----------------------------------------------------------------------------


def test_ping_needs_no_auth(tenants: Tenants) -> None:
    """PING is allowed before AUTH (Redis 7.0 answers NOAUTH; ctxstore lets health checks in)."""
    with tenants.server.raw() as c:
        assert c.call_raw("PING") == b"+PONG\r\n"
        assert c.call_raw("PING", "hi") == b"$2\r\nhi\r\n"
        assert c.call_raw("GET", "x") == NOAUTH
        assert c.call_raw("CTX.STAT", "x") == NOAUTH
        assert c.call_raw("CTX.MATCHPREFIX", "x", "y") == NOAUTH
        assert c.call_raw("PING") == b"+PONG\r\n"


@pytest.mark.parametrize(
    "command",
    [("RESET",), ("SELECT", "1"), ("CTX.MATCHPREFIX", "LEASE", "100", "x"), ("CTX.RELEASE", "1")],
    ids=["RESET", "SELECT 1", "CTX.MATCHPREFIX LEASE", "CTX.RELEASE"],
)
def test_only_auth_hello_ping_quit_before_auth(tenants: Tenants, command: tuple[str, ...]) -> None:
    """Before AUTH only AUTH, HELLO, PING and QUIT are served: RESET too answers NOAUTH (Redis 7.0
    serves RESET unauthenticated), and so do the CTX.* commands."""
    with tenants.server.raw() as c:
        assert c.call_raw(*command) == NOAUTH
        assert c.call_raw("GET", "x") == NOAUTH
        assert c.call_raw("PING") == b"+PONG\r\n"


def test_arity_is_checked_before_auth(tenants: Tenants) -> None:
    """As in Redis, a command is looked up and its arity checked before authentication: the
    ctxstore commands' arity errors come before NOAUTH too."""
    with tenants.server.raw() as c:
        assert c.call_raw("CTX.STAT", "x", "y") == (
            b"-ERR wrong number of arguments for 'ctx.stat' command\r\n"
        )
        assert c.call_raw("CTX.MATCHPREFIX") == (
            b"-ERR wrong number of arguments for 'ctx.matchprefix' command\r\n"
        )
        assert c.call_raw("GET", "x") == NOAUTH


@pytest.mark.parametrize(
    "command",
    [
        ("AUTH", "wrong"),
        ("AUTH", "UNKNOWN"),
        ("AUTH", "a", "UNKNOWN"),
        ("AUTH", "default", "UNKNOWN"),
        ("HELLO", "3", "AUTH", "a", "UNKNOWN"),
        ("HELLO", "2", "AUTH", "b", "wrong"),
        ("AUTH", "ctx_0000000000000000_" + "0" * 63),
    ],
    ids=[
        "garbage",
        "unknown token",
        "ns+unknown",
        "default+unknown",
        "HELLO 3",
        "HELLO 2",
        "short",
    ],
)
def test_a_wrong_token_is_wrongpass_and_closes(tenants: Tenants, command: tuple[str, ...]) -> None:
    """A wrong, unknown or malformed token answers WRONGPASS; the server closes the connection."""
    token = unknown_token()
    with tenants.server.raw() as c:
        assert c.call_raw(*[token if a == "UNKNOWN" else a for a in command]) == WRONGPASS
        assert c.closed_by_peer()
    with tenants.server.raw() as c:
        assert c.call_raw("PING") == b"+PONG\r\n"


def test_a_token_is_valid_only_in_its_namespace(tenants: Tenants) -> None:
    """AUTH b <a's token> is refused with WRONGPASS; AUTH a <a's token> is accepted."""
    with tenants.server.raw() as c:
        assert c.call_raw("AUTH", "b", tenants.a_write) == WRONGPASS
    with tenants.server.raw() as c:
        assert c.call_raw("AUTH", "no-such-namespace", tenants.a_write) == WRONGPASS
    with tenants.server.raw() as c:
        assert c.call_raw("AUTH", "a", tenants.a_write) == b"+OK\r\n"


def test_auth_with_a_token_acts_in_its_namespace(tenants: Tenants, k: str) -> None:
    """AUTH <token> without a namespace works in the token's namespace: the native client of that
    namespace reads the value, the other namespace's does not."""
    with tenants.resp(tenants.a_write) as c:
        assert c.call_raw("SET", k, "in-a") == b"+OK\r\n"
    with tenants.native(tenants.a_read) as a, tenants.native(tenants.b_read) as b:
        assert a.get(k) == b"in-a"
        assert b.get(k) is None
    with tenants.native(tenants.admin, namespace="a") as admin_in_a:
        assert admin_in_a.get(k) == b"in-a"


def test_admin_token_acts_in_default(tenants: Tenants, k: str) -> None:
    """AUTH <admin token> acts in namespace default; AUTH default <admin token> too."""
    with tenants.resp(tenants.admin) as c:
        assert c.call_raw("SET", k, "in-default") == b"+OK\r\n"
    with tenants.native(tenants.admin) as native:
        assert native.get(k) == b"in-default"
    with tenants.native(tenants.a_read) as a:
        assert a.get(k) is None
    with tenants.resp(tenants.admin, "default") as c:
        assert c.call_raw("GET", k) == b"$10\r\nin-default\r\n"
        assert c.call_raw("DEL", k) == b":1\r\n"


def test_hello_auth_with_a_namespace(tenants: Tenants, k: str) -> None:
    """HELLO 3 AUTH a <token> authenticates and switches to RESP3; HELLO 2 AUTH stays in RESP2."""
    with tenants.server.raw() as c:
        hello = c.call("HELLO", "3", "AUTH", "a", tenants.a_write)
        assert isinstance(hello, dict) and hello["proto"] == 3 and isinstance(hello["id"], int)
        assert c.call_raw("GET", k) == b"_\r\n"
        assert c.call_raw("SET", k, "v") == b"+OK\r\n"
    with tenants.server.raw() as c:
        hello = c.call("HELLO", "2", "AUTH", "a", tenants.a_read)
        assert isinstance(hello, list) and pairs(hello)["proto"] == 2
        assert c.call_raw("GET", k) == b"$1\r\nv\r\n"
    with tenants.resp(tenants.a_write, "a") as c:
        assert c.call_raw("DEL", k) == b":1\r\n"


def test_redis_py_username_is_the_namespace(tenants: Tenants, k: str) -> None:
    """redis-py with username=namespace and password=token, and from a redis:// URL as LMCache
    builds it, works in that namespace."""
    client = tenants.redis(tenants.b_write, "b")
    try:
        assert client.set(k, b"in-b") is True
    finally:
        client.close()
    port = tenants.server.port
    url = redis.Redis.from_url(f"redis://b:{tenants.b_read}@127.0.0.1:{port}/0", socket_timeout=30)
    try:
        assert url.get(k) == b"in-b"
        assert url.ping() is True
    finally:
        url.close()
    with tenants.native(tenants.b_read) as native:
        assert native.get(k) == b"in-b"


def test_a_read_token_cannot_write(tenants: Tenants, k: str) -> None:
    """A read token reads (GET, MGET, EXISTS, TYPE, STRLEN, TTL, DBSIZE, CTX.*) but every write
    answers NOPERM, changes nothing, and leaves the connection usable, even after a large value."""
    with tenants.resp(tenants.a_write) as w:
        assert w.call_raw("SET", k, "kept") == b"+OK\r\n"
    with tenants.resp(tenants.a_read) as c:
        assert c.call_raw("GET", k) == b"$4\r\nkept\r\n"
        assert c.call("MGET", k, k + "missing") == [b"kept", None]
        assert c.call("EXISTS", k, k) == 2
        assert c.call_raw("TYPE", k) == b"+string\r\n"
        assert c.call("STRLEN", k) == 4
        assert c.call("TTL", k) == -1
        assert isinstance(c.call("DBSIZE"), int)
        assert c.call("CTX.MATCHPREFIX", k) == 1
        assert isinstance(c.call("CTX.STAT", k), list)
        writes = [
            ("SET", k, "new"),
            ("SET", k + "new", "v", "NX"),
            ("SETEX", k, "100", "new"),
            ("PSETEX", k, "100000", "new"),
            ("MSET", k, "new", k + "2", "v"),
            ("DEL", k),
            ("UNLINK", k),
            ("GETDEL", k),
            ("GETDEL", k + "missing"),
            ("SET", k, "x" * 100_000),
            ("SET", k, "y" * (2 << 20)),
            ("MSET", k, "z" * 40_000, k + "2", "w" * 40_000),
        ]
        for command in writes:
            reply = c.call(*command)
            assert isinstance(reply, str) and reply.startswith("NOPERM"), (command[:3], reply)
            assert c.call_raw("PING") == b"+PONG\r\n"
        assert c.call_raw("GET", k) == b"$4\r\nkept\r\n"
        assert c.call("EXISTS", k + "new", k + "2") == 0
    client = tenants.redis(tenants.a_read)
    try:
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set(k, b"through redis-py")
        assert client.get(k) == b"kept"
    finally:
        client.close()


def test_namespaces_cannot_see_each_other(tenants: Tenants, k: str) -> None:
    """b can neither read nor detect a's key (GET, MGET, EXISTS, TYPE, STRLEN, TTL, CTX.*), nor
    delete it; the same key name holds a separate value in each namespace."""
    with tenants.resp(tenants.a_write) as a, tenants.resp(tenants.b_write) as b:
        assert a.call_raw("SET", k, "secret-of-a", "EX", "1000") == b"+OK\r\n"
        assert b.call_raw("GET", k) == NIL
        assert b.call("MGET", k, k) == [None, None]
        assert b.call("EXISTS", k) == 0
        assert b.call_raw("TYPE", k) == b"+none\r\n"
        assert b.call("STRLEN", k) == 0
        assert b.call("TTL", k) == -2
        assert b.call("PTTL", k) == -2
        assert b.call_raw("CTX.STAT", k) == NIL
        assert b.call("CTX.MATCHPREFIX", k) == 0
        assert b.call("DEL", k) == 0
        assert b.call("UNLINK", k) == 0
        assert b.call_raw("GETDEL", k) == NIL
        assert a.call_raw("GET", k) == b"$11\r\nsecret-of-a\r\n"
        assert b.call_raw("SET", k, "of-b") == b"+OK\r\n"
        assert a.call_raw("GET", k) == b"$11\r\nsecret-of-a\r\n"
        assert b.call_raw("GET", k) == b"$4\r\nof-b\r\n"
        assert b.call("DEL", k) == 1
        assert a.call("EXISTS", k) == 1
        assert b.call_raw("SET", k, "x", "XX") == NIL  # XX: b has no such key
        assert b.call("EXISTS", k) == 0
        assert a.call_raw("GET", k) == b"$11\r\nsecret-of-a\r\n"
        assert a.call("DEL", k) == 1


def test_dbsize_counts_only_the_namespace(tenants: Tenants, k: str) -> None:
    """DBSIZE counts the connection's namespace alone."""
    with ctxstore.Client(tenants.server.native_address, token=tenants.admin) as admin:
        tokens = []
        for ns in ("count-1", "count-2"):
            admin.create_namespace(ns)
            tokens.append(admin.create_token("write", ns).token)
    with tenants.resp(tokens[0]) as one, tenants.resp(tokens[1]) as two:
        assert one.call("DBSIZE") == 0 and two.call("DBSIZE") == 0
        assert one.call_raw("MSET", *[f"{k}{i // 2}" for i in range(6)]) == b"+OK\r\n"
        assert two.call_raw("MSET", *[f"{k}{i // 2}" for i in range(10)]) == b"+OK\r\n"
        assert one.call("DBSIZE") == 3
        assert two.call("DBSIZE") == 5
        assert two.call("DEL", f"{k}0", f"{k}1") == 2
        assert one.call("DBSIZE") == 3 and two.call("DBSIZE") == 3


def test_key_lengths(tenants: Tenants, k: str) -> None:
    """Keys are 1 to 512 bytes: an empty or 513-byte key reads as absent and a write of one is an
    error (Redis takes any length); a 512-byte key works."""
    with tenants.resp(tenants.a_write) as c:
        for bad in ("", "k" * 513):
            assert c.call_raw("GET", bad) == NIL
            assert c.call("EXISTS", bad) == 0
            assert c.call("STRLEN", bad) == 0
            reply = c.call("SET", bad, "v")
            assert isinstance(reply, Error) and reply.startswith("ERR"), reply
            assert c.call_raw("PING") == b"+PONG\r\n"
        longest = (k + "k" * 512)[:512]
        assert c.call_raw("SET", longest, "v") == b"+OK\r\n"
        assert c.call_raw("GET", longest) == b"$1\r\nv\r\n"
        assert c.call("DEL", longest) == 1


def test_client_setinfo(tenants: Tenants) -> None:
    """CLIENT SETINFO lib-name/lib-ver (sent by newer client libraries) answers +OK, as Redis 7.2
    does (7.0 does not know it)."""
    with tenants.resp(tenants.a_read) as c:
        assert c.call_raw("CLIENT", "SETINFO", "lib-name", "redis-py") == b"+OK\r\n"
        assert c.call_raw("CLIENT", "SETINFO", "lib-ver", "5.0.1") == b"+OK\r\n"
        assert c.call_raw("PING") == b"+PONG\r\n"


# One store, two protocols -------------------------------------------------------------------


def test_resp_set_is_a_native_object(tenants: Tenants, k: str) -> None:
    """A value SET over RESP (small, past 32 KiB, 1 MiB; binary key) is the native client's object:
    get, stat's length and TTL; the native put-if-absent then refuses it, and RESP DEL removes it.
    """
    values = {
        k.encode() + b"small": b"v\r\n\x00",
        k.encode() + b"\x00\xff\r\nbinary": b"\x01" * 40_000,
        k.encode() + b"large": bytes(range(256)) * 4096,
    }
    with tenants.resp(tenants.a_write) as c, tenants.native(tenants.a_write) as native:
        for key, value in values.items():
            assert c.call_raw("SET", key, value, "EX", "1000") == b"+OK\r\n"
            assert native.get(key) == value
            info = native.stat(key)
            assert info is not None and info.value_len == len(value)
            assert abs(info.expires_ms - (time.time() + 1000) * 1000) < 5000
            assert native.put(key, b"native") is False  # put-if-absent: the RESP value stays
            assert c.call("GET", key) == value
            assert c.call("DEL", key) == 1
            assert native.get(key) is None


def test_native_put_is_readable_over_resp(tenants: Tenants, k: str) -> None:
    """A value put natively (str or bytes key, with a TTL) is read by GET/MGET/STRLEN/TTL; RESP SET
    overwrites it and the native client sees the new value; a native delete is seen by EXISTS."""
    value = bytes(range(256)) * 1024
    with tenants.native(tenants.a_write) as native, tenants.resp(tenants.a_write) as c:
        assert native.put(k + "str", value) is True
        assert native.put((k + "bytes").encode(), b"b", ttl_s=100) is True
        assert c.call("GET", k + "str") == value
        assert c.call("MGET", k + "str", k + "bytes", k + "none") == [value, b"b", None]
        assert c.call("STRLEN", k + "str") == len(value)
        assert c.call("TTL", k + "str") == -1
        assert c.call("TTL", k + "bytes") in (99, 100)
        assert c.call_raw("SET", k + "str", "over") == b"+OK\r\n"
        assert native.get(k + "str") == b"over"
        assert native.delete(k + "bytes") is True
        assert c.call("EXISTS", k + "bytes", k + "str") == 1
        assert c.call("DEL", k + "str") == 1


def test_no_auth_server_uses_namespace_default(open_server: RespServer, k: str) -> None:
    """With --no-auth, RESP clients need no AUTH and share namespace default with native clients."""
    with open_server.raw() as c, ctxstore.Client(open_server.native_address, token="") as native:
        assert c.call_raw("SET", k, "from-resp") == b"+OK\r\n"
        assert native.get(k) == b"from-resp"
        assert native.put(k + "n", b"from-native") is True
        assert c.call_raw("GET", k + "n") == b"$11\r\nfrom-native\r\n"
        size = c.call("DBSIZE")
        assert isinstance(size, int) and size >= 2
        assert c.call("DEL", k, k + "n") == 2


# LMCache's redis connector ------------------------------------------------------------------


def chunk_key(i: int) -> str:
    """An LMCache-style chunk key: model@world_size@worker_id@chunk_hash@dtype."""
    return f"llama-3-8b@1@0@{(0x9E3779B97F4A7C15 * (i + 1)) & (2**64 - 1):016x}@bfloat16"


def test_lmcache_two_key_layout(tenants: Tenants, k: str) -> None:
    """LMCache's connector: SET <key>kv_bytes then <key>metadata (little-endian int32s), EXISTS on
    the metadata key as the chunk check, leading hits counted in a pipeline (and CTX.MATCHPREFIX),
    GET metadata then kv_bytes; a metadata key without its kv_bytes is deleted."""
    port = tenants.server.port
    client = redis.Redis.from_url(
        f"redis://a:{tenants.a_write}@127.0.0.1:{port}", socket_timeout=30
    )
    try:
        assert client.ping() is True
        keys = [k + chunk_key(i) for i in range(6)]
        chunks = {}
        for i, key in enumerate(keys[:4]):
            kv = bytes([i]) * 1000 + secrets.token_bytes(200_000)
            meta = struct.pack("<7i", len(kv), 1, 3, 2, 16, 256, 8)
            assert client.set(key + "kv_bytes", kv) is True
            assert client.set(key + "metadata", meta) is True
            chunks[key] = kv
        assert client.exists(keys[0] + "metadata") == 1
        assert client.exists(keys[4] + "metadata") == 0

        p = client.pipeline(transaction=False)
        for key in keys:
            p.exists(key + "metadata")
        found = p.execute()
        assert found == [1, 1, 1, 1, 0, 0]
        leading = next(i for i, f in enumerate(found + [0]) if not f)
        assert leading == 4
        assert client.execute_command("CTX.MATCHPREFIX", *[key + "metadata" for key in keys]) == 4

        for key, kv in chunks.items():
            got = client.get(key + "metadata")
            assert got is not None and len(got) == 28
            length, fmt, dtype, *shape = struct.unpack("<7i", got)
            assert (length, fmt, dtype, shape) == (len(kv), 1, 3, [2, 16, 256, 8])
            assert client.get(key + "kv_bytes") == kv

        # A chunk whose kv_bytes never landed: the connector deletes its metadata key.
        orphan = keys[5]
        client.set(orphan + "metadata", struct.pack("<7i", 10, 1, 3, 0, 0, 0, 0))
        assert client.get(orphan + "kv_bytes") is None
        assert client.delete(orphan + "metadata") == 1
        assert client.exists(orphan + "metadata") == 0
        assert (
            client.delete(
                *[key + suffix for key in keys[:4] for suffix in ("kv_bytes", "metadata")]
            )
            == 8
        )
    finally:
        client.close()


def test_lmcache_single_key_layout(tenants: Tenants, k: str) -> None:
    """The newest connector: one bare key holding exactly the chunk, found with STRLEN, read by a
    hand-written client that expects the reply header ``$<chunk size>`` exactly."""
    chunk_size = 256 * 1024
    kv = secrets.token_bytes(chunk_size)
    key = k + chunk_key(0)
    with tenants.resp(tenants.a_write, "a") as c:
        assert c.call_raw("SET", key, kv) == b"+OK\r\n"
        assert c.call("STRLEN", key) == chunk_size
        assert c.call("STRLEN", key + "x") == 0
        c.send(encode("GET", key))
        header = b""
        while not header.endswith(b"\r\n"):
            header += c.sock.recv(1)
        assert header == b"$%d\r\n" % chunk_size
        body = b""
        while len(body) < chunk_size + 2:
            body += c.sock.recv(chunk_size + 2 - len(body))
        assert body == kv + b"\r\n"
        assert c.call("DEL", key) == 1


# CTX.MATCHPREFIX and CTX.STAT ---------------------------------------------------------------


def test_ctx_matchprefix_counts_leading_keys(tenants: Tenants, k: str) -> None:
    """CTX.MATCHPREFIX answers how many leading keys are present: it stops at the first missing."""
    keys = [f"{k}chunk{i}" for i in range(6)]
    with tenants.resp(tenants.a_write) as c:
        assert (
            c.call_raw("MSET", *[x for key in keys[:3] + keys[4:] for x in (key, "v")])
            == b"+OK\r\n"
        )
        assert c.call_raw("CTX.MATCHPREFIX", *keys) == b":3\r\n"
        assert c.call("CTX.MATCHPREFIX", *keys[:3]) == 3
        assert c.call("CTX.MATCHPREFIX", keys[0]) == 1
        assert c.call("CTX.MATCHPREFIX", keys[3]) == 0
        assert c.call("CTX.MATCHPREFIX", keys[3], *keys[:3]) == 0
        assert c.call("ctx.matchprefix", keys[4], keys[5], keys[0]) == 3
        assert c.call("CTX.MATCHPREFIX", keys[0], keys[0], keys[1]) == 3
        assert c.call_raw("CTX.MATCHPREFIX") == (
            b"-ERR wrong number of arguments for 'ctx.matchprefix' command\r\n"
        )
        assert c.call("HELLO", "3") is not None
        assert c.call_raw("CTX.MATCHPREFIX", *keys) == b":3\r\n"
        assert c.call("DEL", *keys) == 5
        assert c.call("CTX.MATCHPREFIX", *keys) == 0


def test_ctx_matchprefix_in_a_pipeline(tenants: Tenants, k: str) -> None:
    """CTX.MATCHPREFIX through redis-py, pipelined with the SETs that make its chain."""
    client = tenants.redis(tenants.a_write, "a")
    try:
        keys = [f"{k}{i}" for i in range(100)]
        p = client.pipeline(transaction=False)
        for i, key in enumerate(keys):
            p.execute_command("CTX.MATCHPREFIX", *keys)
            p.set(key, b"x" * i)
        p.execute_command("CTX.MATCHPREFIX", *keys)
        results = p.execute()
        assert results[0::2] == list(range(101))
        assert client.delete(*keys) == 100
    finally:
        client.close()


def test_ctx_stat(tenants: Tenants, k: str) -> None:
    """CTX.STAT answers the object's fields (a flat array in RESP2, a map in RESP3) with value_len
    as the native stat has it; nil (``_`` in RESP3) for a missing key."""
    value = b"s" * 1000
    with tenants.resp(tenants.a_write) as c, tenants.native(tenants.a_read) as native:
        assert c.call_raw("SET", k, value) == b"+OK\r\n"
        flat = c.call("CTX.STAT", k)
        assert isinstance(flat, list)
        fields = pairs(flat)
        assert fields["value_len"] == 1000
        info = native.stat(k)
        assert info is not None and info.value_len == fields["value_len"]
        assert c.call_raw("CTX.STAT", k + "missing") == NIL
        assert (
            c.call_raw("ctx.stat") == b"-ERR wrong number of arguments for 'ctx.stat' command\r\n"
        )
        assert (
            c.call_raw("CTX.STAT", k, k)
            == b"-ERR wrong number of arguments for 'ctx.stat' command\r\n"
        )
        assert isinstance(c.call("HELLO", "3"), dict)
        stat3 = c.call("CTX.STAT", k)
        assert c.last_raw.startswith(b"%") and isinstance(stat3, dict)
        assert stat3["value_len"] == 1000 and set(stat3) == set(fields)
        assert c.call("CTX.STAT", k + "missing") is NULL3
        assert c.call("DEL", k) == 1
        assert c.call("CTX.STAT", k) is NULL3
