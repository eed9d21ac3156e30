"""The commands on a whole keyspace (SCAN, KEYS, DBSIZE, FLUSHDB, INFO) and CTX.PIN/CTX.UNPIN.

Each server here is its own (FLUSHDB empties it): the conformance tests run against Debian's
redis-server and ctxstore's Redis front end alike; the tenancy tests against a ctxstore server
with tokens, where a namespace is a keyspace of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

import ctxstore
from resp_servers import CTXSTORE, TARGETS, RespServer, serving


@pytest.fixture(scope="module", params=TARGETS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RespServer]:
    """A server of this module's own (no authentication): the reference, then ctxstore."""
    with serving(request.param, tmp_path_factory.mktemp(request.param)) as server:
        yield server


@pytest.fixture
def r(target: RespServer) -> Iterator[redis.Redis]:
    """A client of an emptied keyspace."""
    client = target.redis()
    client.flushdb()
    yield client
    client.close()


def test_scan_visits_every_key_once(r: redis.Redis) -> None:
    """SCAN with a small COUNT, followed cursor to cursor until 0, returns each key exactly once."""
    keys = {f"scan:{i:05d}".encode() for i in range(1500)}
    pipe = r.pipeline(transaction=False)
    for k in keys:
        pipe.set(k, b"v")
    pipe.execute()
    seen: list[bytes] = []
    cursor = 0
    for _ in range(2000):
        cursor, page = r.scan(cursor=cursor, count=50)
        seen.extend(page)
        if cursor == 0:
            break
    assert cursor == 0
    assert set(seen) == keys
    assert len(seen) == len(set(seen))


def test_scan_match_and_type(r: redis.Redis) -> None:
    """MATCH filters with Redis's glob; TYPE string keeps every value, other types none."""
    r.mset({"m:a1": b"1", "m:a2": b"2", "m:b1": b"3", "other": b"4"})
    assert sorted(r.scan_iter(match="m:a*", count=1000)) == [b"m:a1", b"m:a2"]
    assert sorted(r.scan_iter(match="m:?1")) == [b"m:a1", b"m:b1"]
    assert sorted(r.scan_iter(_type="string")) == [b"m:a1", b"m:a2", b"m:b1", b"other"]
    assert list(r.scan_iter(_type="hash")) == []


def test_scan_errors(r: redis.Redis) -> None:
    """A cursor that is not a number, a bad COUNT and an unknown option answer Redis's errors."""
    with pytest.raises(redis.ResponseError, match="^invalid cursor$"):
        r.execute_command("SCAN", "abc")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("SCAN", "0", "COUNT", "x")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SCAN", "0", "COUNT", "0")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SCAN", "0", "BOGUS", "1")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SCAN", "0", "MATCH")


def test_keys_dbsize_and_flushdb(r: redis.Redis) -> None:
    """KEYS lists what matches, DBSIZE counts, FLUSHDB empties the keyspace."""
    r.mset({"k:1": b"a", "k:2": b"b", "x": b"c"})
    assert sorted(r.keys("k:*")) == [b"k:1", b"k:2"]
    assert sorted(r.keys()) == [b"k:1", b"k:2", b"x"]
    assert r.keys("nothing*") == []
    assert r.dbsize() == 3
    assert r.flushdb() is True
    assert r.dbsize() == 0
    assert r.get("x") is None
    assert r.execute_command("FLUSHALL") is True
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("FLUSHDB", "NOW")


def test_info_sections(r: redis.Redis) -> None:
    """INFO answers Redis's sections with the figures clients read."""
    r.set("info:k", b"v")
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["connected_clients"] >= 1
    assert "used_memory" in info and "maxmemory" in info
    assert info["db0"]["keys"] >= 1
    assert "keyspace_hits" in r.info("all") or "keyspace_hits" in r.info("stats")


# ctxstore only ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RespServer, dict[str, str]]]:
    """A ctxstore server with tokens: admin, and write/read tokens of namespaces a and b."""
    with serving(CTXSTORE, tmp_path_factory.mktemp("keyspace-tokens"), auth=True) as server:
        admin = server.admin_token()
        made = {"admin": admin}
        with ctxstore.Client(server.native_address, token=admin) as c:
            for ns in ("a", "b"):
                c.create_namespace(ns)
                for role in ("write", "read"):
                    made[f"{ns}-{role}"] = c.create_token(role, namespace=ns).token
        yield server, made


def test_scan_keys_and_dbsize_stay_in_their_namespace(
    tokens: tuple[RespServer, dict[str, str]],
) -> None:
    """A namespace's SCAN, KEYS and DBSIZE show its keys only; its cursors mean nothing elsewhere."""
    server, t = tokens
    a = server.redis(username="a", password=t["a-write"])
    b = server.redis(username="b", password=t["b-write"])
    for first in range(0, 1200, 400):  # more than one SCAN page (1,000 keys)
        a.mset({f"a:{i}": b"x" for i in range(first, first + 400)})
    b.set("b:only", b"y")
    cursor, page = a.scan(cursor=0, count=100)
    assert cursor != 0 and all(k.startswith(b"a:") for k in page)
    with pytest.raises(redis.ResponseError, match="^invalid cursor$"):
        b.scan(cursor=cursor)  # a's cursor, in b
    assert sorted(b.scan_iter()) == [b"b:only"]
    assert b.keys("*") == [b"b:only"]
    assert b.dbsize() == 1
    assert a.dbsize() == 1200
    assert b.info("keyspace")["db0"]["keys"] == 1


def test_flushdb_needs_an_admin_token_and_empties_one_namespace(
    tokens: tuple[RespServer, dict[str, str]],
) -> None:
    """FLUSHDB is an admin's; it empties the namespace it runs in and no other."""
    server, t = tokens
    b = server.redis(username="b", password=t["b-write"])
    b.set("keep", b"1")
    with pytest.raises(redis.exceptions.NoPermissionError):
        b.flushdb()
    admin_a = server.redis(username="a", password=t["admin"])
    admin_a.set("gone", b"1")
    assert admin_a.flushdb() is True
    assert admin_a.dbsize() == 0
    assert b.get("keep") == b"1"


def test_info_shows_store_figures_to_admins_only(
    tokens: tuple[RespServer, dict[str, str]],
) -> None:
    """INFO's store-wide stats are an admin's; a tenant's token sees its own keyspace."""
    server, t = tokens
    reader = server.redis(username="a", password=t["a-read"])
    assert "keyspace_hits" not in reader.info()
    assert "keyspace_hits" in server.redis(password=t["admin"]).info()


def test_ctx_pin_and_unpin(tokens: tuple[RespServer, dict[str, str]]) -> None:
    """CTX.PIN pins a key (or a group) and says how many objects; CTX.UNPIN ends it; read may not."""
    server, t = tokens
    a = server.redis(username="a", password=t["a-write"])
    a.set("pinned", b"v")
    assert a.execute_command("CTX.PIN", "pinned", "TTL", "60000") == 1
    fields = iter(a.execute_command("CTX.STAT", "pinned"))
    stat = dict(zip(fields, fields))  # RESP2: the map as field, value, ...
    assert stat[b"pinned"] == 1
    assert a.execute_command("CTX.UNPIN", "pinned") == b"OK"
    with pytest.raises(redis.ResponseError, match="no such pin"):
        a.execute_command("CTX.UNPIN", "pinned")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        a.execute_command("CTX.PIN", "pinned", "FOREVER")
    reader = server.redis(username="a", password=t["a-read"])
    with pytest.raises(redis.exceptions.NoPermissionError):
        reader.execute_command("CTX.PIN", "pinned")
