"""AsyncClient: the same calls as coroutines, the event loop never blocked by one."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import numpy as np
import pytest

import ctxstore
from conftest import Server


class Ticker:
    """A coroutine that records the time every ``period_s`` until stopped: gaps show a blocked loop."""

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self.ticks: list[float] = []
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while not self._done.is_set():
            self.ticks.append(time.monotonic())
            await asyncio.sleep(self.period_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._done.set()
        assert self._task is not None
        await self._task

    def largest_gap_s(self) -> float:
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:]))


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
        ticker = Ticker(0.01)
        ticker.start()
        await asyncio.sleep(0.05)  # ticking before the call starts
        started = time.monotonic()
        with pytest.raises(ctxstore.ConnectionError):
            await c.connect()
        waited = time.monotonic() - started
        await ticker.stop()
        await c.aclose()
    assert waited >= 0.9
    # The ticker ran every 10 ms or so all through the wait; a call that
    # blocked the loop would leave a gap as long as the wait.
    assert ticker.largest_gap_s() < 0.3
    assert sum(1 for t in ticker.ticks if started < t < started + waited) > 30


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


def _threads() -> int:
    """Threads of this process, C++ workers included (threading sees only Python's)."""
    return len(os.listdir("/proc/self/task"))


async def test_no_thread_per_request(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address, workers=4) as c:
        await c.put(key, np.ones(1 << 20, dtype=np.uint8))
        before = _threads()
        outs = [np.empty(1 << 20, dtype=np.uint8) for _ in range(128)]
        calls = asyncio.gather(*(c.get_into(key, o) for o in outs))
        await asyncio.sleep(0)  # every call submitted
        during = _threads()
        assert await calls == [1 << 20] * 128
        assert all(o.all() for o in outs)
    # The pool's 4 workers were started at connect; 128 calls add none
    # (the admin helper pool may start its second thread: at most 1).
    assert during - before <= 1


async def test_the_loop_runs_during_large_transfers(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address) as c:
        await c.put(key, np.ones(4 << 20, dtype=np.uint8))
        ticker = Ticker(0.005)
        ticker.start()
        outs = [np.empty(4 << 20, dtype=np.uint8) for _ in range(32)]
        for _ in range(3):
            assert await asyncio.gather(*(c.get_into(key, o) for o in outs)) == [4 << 20] * 32
        await ticker.stop()
    # 384 transfers of 4 MiB took a while; the loop ticked all along. No
    # value was copied on the loop's thread (the workers receive without
    # the GIL), so no gap is as long as a batch.
    assert len(ticker.ticks) > 10
    assert ticker.largest_gap_s() < 0.25


async def test_aclose_waits_for_calls_in_flight(server: Server, key: str) -> None:
    c = ctxstore.AsyncClient(server.address, workers=2)
    await c.put(key, np.full(1 << 20, 7, dtype=np.uint8))
    outs = [np.zeros(1 << 20, dtype=np.uint8) for _ in range(16)]
    calls = asyncio.gather(*(c.get_into(key, o) for o in outs))
    await asyncio.sleep(0)
    await c.aclose()
    # Every call submitted before aclose finished (aclose waited for the
    # workers), with its bytes in place.
    assert all((o == 7).all() for o in outs)
    assert await calls == [1 << 20] * 16
    assert all((o == 7).all() for o in outs)
    with pytest.raises(ctxstore.ConnectionError, match="closed"):
        await c.exists(key)


async def test_a_cancelled_get_into_still_fills_its_buffer_and_the_rest_complete(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address, workers=1) as c:
        await c.put(key, np.full(2 << 20, 5, dtype=np.uint8))
        outs = [np.zeros(2 << 20, dtype=np.uint8) for _ in range(4)]
        tasks = [asyncio.create_task(c.get_into(key, o)) for o in outs]
        await asyncio.sleep(0)
        tasks[1].cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(results[1], asyncio.CancelledError)
        assert [results[i] for i in (0, 2, 3)] == [2 << 20] * 3
        # The cancelled call ran to its end on the worker (a request half
        # sent cannot be taken back): its buffer holds the value too.
        assert await c.exists(key)
        assert (outs[1] == 5).all()


async def test_bad_arguments_raise_at_the_call(server: Server, key: str) -> None:
    async with ctxstore.AsyncClient(server.address) as c:
        with pytest.raises(TypeError, match="key"):
            await c.get(42)  # type: ignore[arg-type]
        with pytest.raises(ctxstore.InvalidArgument, match="writable"):
            await c.get_into(key, b"read-only")
        with pytest.raises(ctxstore.InvalidArgument, match="2 keys but 1 buffers"):
            await c.batch_put([key, key + "x"], [b"a"])
        await c.put(key, b"abc")
        with pytest.raises(ctxstore.BatchError) as e:
            await c.batch_get_into([key, key + ":missing"], [bytearray(1), bytearray(1)])
        assert isinstance(e.value.results[0], ctxstore.TooLarge) and e.value.results[1] is None
        assert c._core is not None and c._core.outstanding == 0


def test_one_client_one_event_loop(server: Server, key: str) -> None:
    c = ctxstore.AsyncClient(server.address)

    async def use() -> bool:
        return await c.exists(key)

    assert asyncio.run(use()) is False
    with pytest.raises(RuntimeError, match="another event loop"):
        asyncio.run(use())
