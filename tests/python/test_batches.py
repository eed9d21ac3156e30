"""Batches and prefix lookups: one round trip each, per-item results."""

from __future__ import annotations

import numpy as np
import pytest

import ctxstore


def chain(key: str, n: int) -> list[str]:
    return [f"{key}:{i}" for i in range(n)]


def test_batch_put_then_batch_get(client: ctxstore.Client, key: str) -> None:
    keys = chain(key, 8)
    values = [np.full(1000 + i, i, dtype=np.uint8) for i in range(8)]
    assert client.batch_put(keys, values) == [True] * 8
    got = client.batch_get(keys + [key + ":missing"])
    assert got[-1] is None
    for v, g in zip(values, got[:-1]):
        assert g == v.tobytes()


def test_batch_put_reports_keys_already_there(client: ctxstore.Client, key: str) -> None:
    keys = chain(key, 3)
    client.put(keys[1], b"old")
    assert client.batch_put(keys, [b"a", b"b", b"c"]) == [True, False, True]
    assert client.get(keys[1]) == b"old"
    assert client.batch_put(keys, [b"a", b"b", b"c"], overwrite=True) == [True, True, True]
    assert client.get(keys[1]) == b"b"


def test_batch_put_needs_as_many_buffers_as_keys(client: ctxstore.Client, key: str) -> None:
    with pytest.raises(ctxstore.InvalidArgument, match="2 keys but 1 buffers"):
        client.batch_put(chain(key, 2), [b"a"])


def test_batch_put_chain_links_each_item_to_the_one_before(client: ctxstore.Client, key: str) -> None:
    keys = chain(key, 3)
    client.batch_put(keys, [b"a", b"b", b"c"], chain=True)
    info = client.stat(keys[2])
    assert info is not None and info.parent == keys[1].encode()


def test_batch_exists_and_match_prefix(client: ctxstore.Client, key: str) -> None:
    keys = chain(key, 6)
    client.batch_put(keys[:4], [b"x"] * 4)
    assert client.batch_exists(keys) == [True, True, True, True, False, False]
    count, lease = client.match_prefix(keys)
    assert (count, lease) == (4, None)
    client.delete(keys[1])
    assert client.match_prefix(keys) == (1, None)


def test_a_single_string_is_not_a_list_of_keys(client: ctxstore.Client, key: str) -> None:
    with pytest.raises(TypeError, match="sequence of keys"):
        client.batch_exists(key)  # type: ignore[arg-type]


def test_match_prefix_with_a_lease_protects_and_releases(client: ctxstore.Client, key: str) -> None:
    keys = chain(key, 3)
    client.batch_put(keys, [b"x"] * 3)
    count, lease = client.match_prefix(keys, lease_s=30)
    assert count == 3 and lease is not None
    with lease:
        info = client.stat(keys[0])
        assert info is not None and info.leases >= 1
    assert lease.release() is False  # already released by the with block
    count, none = client.match_prefix([key + ":absent"], lease_s=30)
    assert (count, none) == (0, None)


def test_batch_get_into_fills_slices_of_one_pool_in_place(client: ctxstore.Client, key: str) -> None:
    # An engine's host KV pool: one array, each chunk's value received into its own slot.
    keys = chain(key, 6)
    values = [np.random.default_rng(i).integers(0, 256, 64 * 1024, dtype=np.uint8) for i in range(5)]
    client.batch_put(keys[:5], values)
    pool = np.zeros((6, 64 * 1024), dtype=np.uint8)
    addresses = [pool[i].ctypes.data for i in range(6)]
    got = client.batch_get_into(keys, [pool[i] for i in range(6)])
    assert got == [64 * 1024] * 5 + [None]
    for i in range(5):
        assert np.array_equal(pool[i], values[i])
    assert not pool[5].any(), "a missing key's slot is left alone"
    assert [pool[i].ctypes.data for i in range(6)] == addresses


def test_batch_get_into_reports_a_buffer_too_small_and_still_fills_the_others(
    client: ctxstore.Client, key: str
) -> None:
    keys = chain(key, 3)
    client.batch_put(keys, [b"a" * 10, b"b" * 100, b"c" * 10])
    buffers = [bytearray(10), bytearray(b"\xee" * 50), bytearray(10)]
    with pytest.raises(ctxstore.BatchError) as caught:
        client.batch_get_into(keys, buffers)
    results = caught.value.results
    assert results[0] == 10 and results[2] == 10
    assert isinstance(results[1], ctxstore.TooLarge)
    assert "value of 100 bytes does not fit in a buffer of 50 bytes" in str(results[1])
    assert buffers[0] == b"a" * 10 and buffers[2] == b"c" * 10
    assert buffers[1] == b"\xee" * 50, "the small buffer is not written"


def test_batch_get_into_checks_its_arguments(client: ctxstore.Client, key: str) -> None:
    keys = chain(key, 2)
    with pytest.raises(ctxstore.InvalidArgument, match="2 keys but 1 buffers"):
        client.batch_get_into(keys, [bytearray(4)])
    with pytest.raises(ctxstore.InvalidArgument, match="batch_get_into's buffers"):
        client.batch_get_into(keys, [bytearray(4), b"read-only"])
    with pytest.raises(ctxstore.InvalidArgument, match="batch_get_into's buffers"):
        client.batch_get_into(keys, [bytearray(4), np.zeros((4, 4))[:, 0]])
    assert client.batch_get_into([], []) == []


async def test_async_batch_get_into(server, key: str) -> None:  # type: ignore[no-untyped-def]
    async with ctxstore.AsyncClient(server.unix_address) as c:
        keys = chain(key, 4)
        await c.batch_put(keys, [bytes([i]) * 1000 for i in range(4)])
        buffers = [bytearray(1000) for _ in range(4)]
        assert await c.batch_get_into(keys, buffers) == [1000] * 4
        assert [bytes(b) for b in buffers] == [bytes([i]) * 1000 for i in range(4)]
