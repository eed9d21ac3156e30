"""Listing, pins, groups and statistics."""

from __future__ import annotations

import ctxstore


def test_ls_pages_through_every_key_in_order(client: ctxstore.Client, key: str) -> None:
    keys = [f"{key}/{i:03d}" for i in range(25)]
    client.batch_put(keys, [b"v"] * 25)
    listed = [info.key for info in client.ls(prefix=key + "/", page_size=7)]
    assert listed == [k.encode() for k in keys]


def test_ls_by_group(client: ctxstore.Client, key: str) -> None:
    client.put(key + ":a", b"1", group="grp-" + key)
    client.put(key + ":b", b"2")
    assert [i.key for i in client.ls(prefix=key, group="grp-" + key)] == [(key + ":a").encode()]


def test_pin_and_unpin_a_key_and_a_group(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"v", group="pg-" + key)
    assert client.pin(key) == 1
    info = client.stat(key)
    assert info is not None and info.pinned
    assert client.unpin(key) is True
    assert client.unpin(key) is False
    assert client.pin("pg-" + key, group=True, dram=True) == 1
    assert client.unpin("pg-" + key, group=True) is True


def test_pin_of_a_missing_key_raises_not_found(client: ctxstore.Client, key: str) -> None:
    try:
        client.pin(key)
    except ctxstore.NotFound as e:
        assert e.code == "not_found"
    else:
        raise AssertionError("pin of a missing key succeeded")


def test_delete_group_deletes_its_objects(client: ctxstore.Client, key: str) -> None:
    client.batch_put([key + ":1", key + ":2"], [b"a", b"b"], group="dg-" + key)
    assert client.delete_group("dg-" + key) == 2
    assert client.batch_exists([key + ":1", key + ":2"]) == [False, False]


def test_stats_and_server_info(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"v")
    stats = client.stats()
    assert isinstance(stats, dict) and stats
    info = client.server_info
    assert info.server_version.startswith("ctxstore")
    assert info.max_value_bytes > 0 and info.max_batch_keys > 0
