"""put, get, get_into, exists, delete through a real server, with every kind of buffer."""

from __future__ import annotations

import numpy as np
import pytest

import ctxstore


def test_put_then_get_returns_the_same_bytes(client: ctxstore.Client, key: str) -> None:
    value = bytes(range(256)) * 300
    assert client.put(key, value) is True
    assert client.get(key) == value


def test_get_of_a_missing_key_is_none(client: ctxstore.Client, key: str) -> None:
    assert client.get(key) is None
    assert client.exists(key) is False


def test_put_without_overwrite_keeps_the_first_value(client: ctxstore.Client, key: str) -> None:
    assert client.put(key, b"first") is True
    assert client.put(key, b"second") is False
    assert client.get(key) == b"first"
    assert client.put(key, b"second", overwrite=True) is True
    assert client.get(key) == b"second"


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 65537, 4 << 20])
def test_sizes_round_trip(client: ctxstore.Client, key: str, size: int) -> None:
    value = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8)
    assert client.put(key, value)
    out = np.zeros(size, dtype=np.uint8)
    assert client.get_into(key, out) == size
    assert np.array_equal(out, value)


def test_numpy_float_arrays_round_trip_without_a_copy_step(client: ctxstore.Client, key: str) -> None:
    kv = np.random.default_rng(1).standard_normal((2, 8, 128), dtype=np.float32)
    assert client.put(key, kv)
    out = np.empty_like(kv)
    assert client.get_into(key, out) == kv.nbytes
    assert np.array_equal(out, kv)


def test_bytearray_and_memoryview_work_both_ways(client: ctxstore.Client, key: str) -> None:
    source = bytearray(b"abc" * 1000)
    assert client.put(key, memoryview(source)[3:])
    into = bytearray(len(source))
    n = client.get_into(key, memoryview(into))
    assert bytes(into[:n]) == bytes(source[3:])


def test_get_into_a_larger_buffer_fills_only_the_value(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"x" * 10)
    out = bytearray(b"\x55" * 20)
    assert client.get_into(key, out) == 10
    assert out == b"x" * 10 + b"\x55" * 10


def test_get_into_a_too_small_buffer_says_the_size_needed(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"y" * 1000)
    with pytest.raises(ctxstore.TooLarge) as e:
        client.get_into(key, bytearray(10))
    assert "1000" in str(e.value)
    assert isinstance(e.value, ValueError)
    assert client.get(key) == b"y" * 1000  # the connection pool is still usable


def test_get_into_of_a_missing_key_raises_not_found(client: ctxstore.Client, key: str) -> None:
    with pytest.raises(ctxstore.NotFound):
        client.get_into(key, bytearray(10))


def test_get_into_a_read_only_buffer_is_refused(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"z" * 8)
    with pytest.raises(ctxstore.InvalidArgument, match="writable"):
        client.get_into(key, b"\0" * 8)
    frozen = np.zeros(8, dtype=np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(ctxstore.InvalidArgument, match="writable"):
        client.get_into(key, frozen)


def test_non_contiguous_arrays_are_refused(client: ctxstore.Client, key: str) -> None:
    strided = np.zeros((4, 4), dtype=np.uint8)[:, ::2]
    with pytest.raises(ctxstore.InvalidArgument, match="contiguous"):
        client.put(key, strided)
    with pytest.raises(ctxstore.InvalidArgument, match="contiguous"):
        client.get_into(key, strided)
    assert client.exists(key) is False


def test_objects_without_bytes_are_type_errors(client: ctxstore.Client, key: str) -> None:
    with pytest.raises(TypeError, match="bytes-like"):
        client.put(key, "a str is not bytes")
    with pytest.raises(TypeError, match="objects"):
        client.put(key, np.array([object()], dtype=object))
    with pytest.raises(TypeError):
        client.put(12, b"a key must be str or bytes")  # type: ignore[arg-type]


def test_a_value_that_is_not_whole_elements_is_refused(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"\0" * 10)
    with pytest.raises(ctxstore.InvalidArgument, match="whole number"):
        client.get_into(key, np.zeros(4, dtype=np.float32))


def test_bytes_keys_and_str_keys_name_the_same_object(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"v")
    assert client.get(key.encode()) == b"v"
    binary = key.encode() + b"\xff\x00"
    client.put(binary, b"w")
    assert client.get(binary) == b"w"


def test_a_key_too_long_is_a_clear_error(client: ctxstore.Client) -> None:
    with pytest.raises((ctxstore.InvalidArgument, ctxstore.TooLarge)) as e:
        client.put("k" * 100_000, b"v")
    assert "key" in str(e.value).lower()


def test_delete_reports_whether_the_key_was_there(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"v")
    assert client.delete(key) is True
    assert client.delete(key) is False
    assert client.get(key) is None


def test_sync_put_and_flush(client: ctxstore.Client, key: str) -> None:
    assert client.put(key, b"durable", sync=True)
    client.flush()
    info = client.stat(key)
    assert info is not None and info.durable


def test_ttl_group_parent_and_meta_are_stored(client: ctxstore.Client, key: str) -> None:
    client.put(key + ":0", b"first", group="g-" + key)
    client.put(key + ":1", b"second", ttl_s=600, group="g-" + key, parent=key + ":0", meta=b'{"m": 1}')
    info = client.stat(key + ":1")
    assert info is not None
    assert info.value_len == 6
    assert info.group == ("g-" + key).encode()
    assert info.parent == (key + ":0").encode()
    assert info.meta == b'{"m": 1}'
    assert info.expires_ms > info.created_ms
    assert client.stat(key + ":missing") is None


def test_a_zero_or_negative_ttl_is_refused(client: ctxstore.Client, key: str) -> None:
    for ttl in (0, -1.0):
        with pytest.raises(ctxstore.InvalidArgument, match="ttl_s"):
            client.put(key, b"v", ttl_s=ttl)
