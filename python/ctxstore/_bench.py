"""The Python cells of ``ctxstore-bench run --sections python`` (src/bench/python_bench.cc).

The harness starts the server, stores the keys these cells read, measures the
C++ client on the same cells in-process, and runs this module with
``/usr/bin/python3 -m ctxstore._bench``; each cell prints one JSON row and the
harness reads them from stdout. Not a public API.

Cells (the keys are the harness's):
  get_into_4mib_x4   4 threads sharing one Client, get_into of 4 MiB values
  batch_exists_64    one thread, batch_exists of a 64-key chain; p50 latency
  get_into_1mib_threads64  64 threads sharing one Client, get_into of 1 MiB
  get_into_1mib_async64    64 coroutines on one AsyncClient, get_into of 1 MiB
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

import ctxstore

GET_KEYS_4MIB = [f"py-get4m-{i}" for i in range(16)]
GET_KEYS_1MIB = [f"py-get1m-{i}" for i in range(16)]
CHAIN_KEYS = [f"py-chain-{i}" for i in range(64)]


class Tally:
    """Operations, bytes and latencies of one round, summed over its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ops = 0
        self.bytes = 0
        self.latencies_us: list[float] = []

    def add(self, nbytes: int, latency_us: float) -> None:
        with self.lock:
            self.ops += 1
            self.bytes += nbytes
            self.latencies_us.append(latency_us)


def run_threads(threads: int, seconds: float, op: Callable[[int, int], int]) -> Tally:
    """``op(thread, iteration) -> bytes`` in a loop on each thread until ``seconds`` pass."""
    tally = Tally()
    deadline = time.perf_counter() + seconds
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        start.wait()
        i = 0
        while i == 0 or time.perf_counter() < deadline:  # at least one each, as the harness
            t0 = time.perf_counter()
            n = op(t, i)
            tally.add(n, (time.perf_counter() - t0) * 1e6)
            i += 1

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    for p in pool:
        p.join()
    return tally


def row(cell: str, rounds: list[tuple[Tally, float]]) -> dict[str, object]:
    """One JSON row: throughput as the median of the rounds', latency over every operation."""
    latencies = sorted(x for tally, _ in rounds for x in tally.latencies_us)
    return {
        "cell": cell,
        "ops": sum(t.ops for t, _ in rounds),
        "gbps": statistics.median(t.bytes / s / 1e9 for t, s in rounds),
        "ops_per_s": statistics.median(t.ops / s for t, s in rounds),
        "p50_us": latencies[len(latencies) // 2] if latencies else 0.0,
        "p99_us": latencies[len(latencies) * 99 // 100] if latencies else 0.0,
    }


def timed_rounds(rounds: int, seconds: float, one: Callable[[float], Tally]) -> list[tuple[Tally, float]]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        tally = one(seconds)
        out.append((tally, time.perf_counter() - t0))
    return out


def threaded_get_into(client: ctxstore.Client, threads: int, keys: list[str], size: int, seconds: float) -> Tally:
    buffers = [np.empty(size, dtype=np.uint8) for _ in range(threads)]
    return run_threads(threads, seconds, lambda t, i: client.get_into(keys[(t * 5 + i) % len(keys)], buffers[t]))


async def async_get_into(client: ctxstore.AsyncClient, tasks: int, keys: list[str], size: int, seconds: float) -> Tally:
    tally = Tally()
    buffers = [np.empty(size, dtype=np.uint8) for _ in range(tasks)]
    deadline = time.perf_counter() + seconds

    async def task(t: int) -> None:
        i = 0
        while i == 0 or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            n = await client.get_into(keys[(t * 5 + i) % len(keys)], buffers[t])
            tally.add(n, (time.perf_counter() - t0) * 1e6)
            i += 1

    await asyncio.gather(*(task(t) for t in range(tasks)))
    return tally


def measure(address: str, token: str, seconds: float, rounds: int) -> list[dict[str, object]]:
    per_round = seconds / rounds
    rows = []
    with ctxstore.Client(address, token=token, max_connections=64) as client:
        rows.append(row("get_into_4mib_x4", timed_rounds(
            rounds, per_round, lambda s: threaded_get_into(client, 4, GET_KEYS_4MIB, 4 << 20, s))))
        rows.append(row("batch_exists_64", timed_rounds(
            rounds, per_round, lambda s: run_threads(1, s, lambda t, i: client.batch_exists(CHAIN_KEYS) and 0))))
        rows.append(row("get_into_1mib_threads64", timed_rounds(
            rounds, per_round, lambda s: threaded_get_into(client, 64, GET_KEYS_1MIB, 1 << 20, s))))

    async def async_rounds() -> list[tuple[Tally, float]]:
        async with ctxstore.AsyncClient(address, token=token, max_connections=64) as aclient:
            await aclient.connect()
            out = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                tally = await async_get_into(aclient, 64, GET_KEYS_1MIB, 1 << 20, per_round)
                out.append((tally, time.perf_counter() - t0))
            return out

    rows.append(row("get_into_1mib_async64", asyncio.run(async_rounds())))
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ctxstore._bench")
    parser.add_argument("--address", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--seconds", type=float, default=6.0, help="per cell, all rounds together")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rows = measure(args.address, args.token, args.seconds, args.rounds)
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
