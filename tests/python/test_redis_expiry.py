"""EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT), PERSIST, EXPIRETIME, PEXPIRETIME.

The conformance tests run against Debian's redis-server and ctxstore's Redis front end alike;
the last one is ctxstore's own: a new expiry is durable (it survives a restart).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from resp_servers import TARGETS, RespServer, serving, start_ctxstore


@pytest.fixture(scope="module", params=TARGETS)
def r(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[redis.Redis]:
    """A client of the module's server (no authentication): the reference, then ctxstore."""
    with serving(request.param, tmp_path_factory.mktemp(request.param)) as server:
        client = server.redis()
        yield client
        client.close()


def test_expire_and_pexpire_set_a_ttl(r: redis.Redis, key: str) -> None:
    """EXPIRE and PEXPIRE answer 1 and the TTL reads back; a missing key answers 0."""
    r.set(key, b"v")
    assert r.expire(key, 100) is True
    assert r.ttl(key) in (99, 100)
    assert r.pexpire(key, 50_000) is True
    assert 49_000 < r.pttl(key) <= 50_000
    assert r.get(key) == b"v"
    assert r.expire(key + "-missing", 100) is False


def test_expireat_pexpireat_and_expiretime(r: redis.Redis, key: str) -> None:
    """Absolute expiries, read back with EXPIRETIME and PEXPIRETIME (-1 none, -2 missing)."""
    r.set(key, b"v")
    assert r.execute_command("EXPIRETIME", key) == -1
    at = int(time.time()) + 100
    assert r.expireat(key, at) is True
    assert r.execute_command("EXPIRETIME", key) == at
    assert r.pexpireat(key, at * 1000 + 250) is True
    assert r.execute_command("PEXPIRETIME", key) == at * 1000 + 250
    assert r.execute_command("EXPIRETIME", key + "-missing") == -2


def test_persist_removes_the_expiry_once(r: redis.Redis, key: str) -> None:
    """PERSIST answers 1 when it removed an expiry, 0 when there was none or no key."""
    r.set(key, b"v", ex=100)
    assert r.persist(key) is True
    assert r.ttl(key) == -1
    assert r.persist(key) is False
    assert r.persist(key + "-missing") is False
    assert r.get(key) == b"v"


def test_a_time_already_past_deletes_the_key(r: redis.Redis, key: str) -> None:
    """EXPIRE 0 or a negative time, and EXPIREAT in the past, delete the key and answer 1."""
    for i, command in enumerate([("EXPIRE", 0), ("PEXPIRE", -5), ("EXPIREAT", 1)]):
        k = f"{key}-{i}"
        r.set(k, b"v")
        assert r.execute_command(command[0], k, command[1]) == 1
        assert r.exists(k) == 0


def test_an_expiry_expires(r: redis.Redis, key: str) -> None:
    """A PEXPIRE of 200 ms: the key is there, then gone."""
    r.set(key, b"v")
    assert r.pexpire(key, 200) is True
    assert r.get(key) == b"v"
    time.sleep(0.45)
    assert r.get(key) is None


def test_nx_xx_gt_lt(r: redis.Redis, key: str) -> None:
    """Redis 7.0's conditions: NX only without an expiry, XX only with one, GT only later
    (none counts as never), LT only sooner (none counts as never)."""
    r.set(key, b"v")
    assert r.execute_command("EXPIRE", key, 100, "XX") == 0
    assert r.execute_command("EXPIRE", key, 100, "GT") == 0
    assert r.execute_command("EXPIRE", key, 100, "NX") == 1
    assert r.execute_command("EXPIRE", key, 200, "NX") == 0
    assert r.execute_command("EXPIRE", key, 50, "GT") == 0
    assert r.execute_command("EXPIRE", key, 200, "GT") == 1
    assert r.execute_command("EXPIRE", key, 300, "LT") == 0
    assert r.execute_command("EXPIRE", key, 150, "LT") == 1
    assert r.execute_command("EXPIRE", key, 120, "XX") == 1
    assert r.ttl(key) in (119, 120)
    r.persist(key)
    assert r.execute_command("EXPIRE", key, 100, "LT") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (("EXPIRE", "k", "x"), "value is not an integer or out of range"),
        (
            ("EXPIRE", "k", 10, "NX", "XX"),
            "NX and XX, GT or LT options at the same time are not compatible",
        ),
        (("EXPIRE", "k", 10, "GT", "LT"), "GT and LT options at the same time are not compatible"),
        (("EXPIRE", "k", 10, "FOO"), "Unsupported option FOO"),
        (("EXPIRE", "k", 9223372036854775807), "invalid expire time in 'expire' command"),
        (("PEXPIRE", "k", 9223372036854775807), "invalid expire time in 'pexpire' command"),
        (("EXPIRE", "k"), "wrong number of arguments for 'expire' command"),
        (("PERSIST",), "wrong number of arguments for 'persist' command"),
    ],
)
def test_errors(r: redis.Redis, args: tuple[object, ...], message: str) -> None:
    """Bad times, options and arities answer Redis's texts."""
    r.set("k", b"v")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == message


def test_a_new_expiry_survives_a_restart(tmp_path: Path, key: str) -> None:
    """ctxstore only: EXPIRE and PERSIST are written as new versions, so a restart (from the
    checkpoint written at shutdown) keeps them."""
    server: RespServer = start_ctxstore(tmp_path)
    c = server.redis()
    c.set(key + "-expiring", b"e" * 100_000)
    c.set(key + "-persisted", b"p", ex=1000)
    assert c.expire(key + "-expiring", 500) is True
    assert c.persist(key + "-persisted") is True
    c.close()
    assert server.stop() == 0
    server = start_ctxstore(tmp_path)
    try:
        c = server.redis()
        assert c.ttl(key + "-expiring") in (498, 499, 500)
        assert c.get(key + "-expiring") == b"e" * 100_000
        assert c.ttl(key + "-persisted") == -1
        c.close()
    finally:
        assert server.stop() == 0
