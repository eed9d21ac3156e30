"""AsyncClient: the same calls as coroutines, the event loop never blocked by one."""

from __future__ import annotations

import asyncio
import socket
import time

import numpy as np
import pytest

import ctxstore
from conftest import Server


async def test_put_get_and_get_into(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address) as c:
        value = np.random.default_rng(3).integers(0, 256, 300_000, dtype=np.uint8)
        assert await c.put(key, value) is True
        assert await c.put(key, value) is False
        assert await c.get(key) == value.tobytes()
        out = np.empty_like(value)
        assert await c.get_into(key, out) == value.size
        assert np.array_equal(out, value)
        assert await c.exists(key) is True
        assert await c.delete(key) is True
        assert await c.get(key) is None
        assert c.server_info.server_version.startswith("ctxstore")


async def test_many_concurrent_calls_on_a_few_workers(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address, workers=4) as c:
        values = [np.full(100_000, i, dtype=np.uint8) for i in range(64)]
        assert all(await asyncio.gather(*(c.put(f"{key}:{i}", v) for i, v in enumerate(values))))
        outs = [np.empty(100_000, dtype=np.uint8) for _ in range(64)]
        sizes = await asyncio.gather(*(c.get_into(f"{key}:{i}", o) for i, o in enumerate(outs)))
        assert sizes == [100_000] * 64
        for i, o in enumerate(outs):
            assert (o == i).all()


async def test_batches_match_prefix_and_an_async_lease(server: Server, key: str) -> None:
    keys = [f"{key}:{i}" for i in range(5)]
    async with ctxstore.AsyncClient(server.address) as c:
        assert await c.batch_put(keys[:3], [b"a", b"b", b"c"]) == [True] * 3
        assert await c.batch_exists(keys) == [True, True, True, False, False]
        assert await c.batch_get(keys[:4]) == [b"a", b"b", b"c", None]
        count, lease = await c.match_prefix(keys, lease_s=30)
        assert count == 3 and lease is not None
        async with lease:
            info = await c.stat(keys[0])
            assert info is not None and info.leases >= 1
        assert lease.id == 0
        assert [i.key async for i in c.ls(prefix=key + ":", page_size=2)] == [k.encode() for k in keys[:3]]


async def test_errors_are_the_same_classes(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address) as c:
        await c.put(key, b"x" * 100)
        with pytest.raises(ctxstore.TooLarge):
            await c.get_into(key, bytearray(10))
        with pytest.raises(ctxstore.NotFound):
            await c.get_into(key + ":missing", bytearray(10))
    with pytest.raises(ctxstore.ConnectionError, match="closed"):
        await c.get(key)


async def test_the_loop_runs_while_a_call_waits() -> None:
    # A listener that never answers: connecting waits 1 s for its timeout.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        c = ctxstore.AsyncClient(f"127.0.0.1:{listener.getsockname()[1]}", timeout_s=1.0)
        ticks: list[float] = []
        done = asyncio.Event()

        async def tick() -> None:
            while not done.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.05)  # ticking before the call starts
        started = time.monotonic()
        with pytest.raises(ctxstore.ConnectionError):
            await c.connect()
        waited = time.monotonic() - started
        done.set()
        await ticker
        await c.aclose()
    assert waited >= 0.9
    # The ticker ran every 10 ms or so all through the wait; a call that
    # blocked the loop would leave a gap as long as the wait.
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.3
    assert sum(1 for t in ticks if started < t < started + waited) > 30


async def test_a_cancelled_call_leaves_the_client_usable(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address) as c:
        await c.put(key, b"v" * 1_000_000)
        task = asyncio.create_task(c.get(key))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await c.get(key) == b"v" * 1_000_000


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers"):
        ctxstore.AsyncClient(workers=0)
