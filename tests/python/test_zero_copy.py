"""Values land in the caller's memory, with no value-sized allocation; the GIL is free meanwhile;
a server restart under a live client gives clear errors, then the client reconnects."""

from __future__ import annotations

import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

import ctxstore
from conftest import Server, start_server

SIZE = 8 << 20


def test_get_into_and_put_allocate_nothing_value_sized(client: ctxstore.Client, key: str) -> None:
    value = np.random.default_rng(5).integers(0, 256, SIZE, dtype=np.uint8)
    out = np.zeros(SIZE, dtype=np.uint8)
    address = out.ctypes.data
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        assert client.put(key, value)
        assert client.get_into(key, out) == SIZE
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.ctypes.data == address  # the same array, filled in place
    assert np.array_equal(out, value)
    assert peak < SIZE // 64, f"{peak} bytes allocated by Python during put + get_into"


def test_other_threads_run_python_during_a_large_get_into(client: ctxstore.Client, key: str) -> None:
    client.put(key, np.ones(32 << 20, dtype=np.uint8))
    out = np.empty(32 << 20, dtype=np.uint8)
    stop = threading.Event()
    beats: list[float] = []

    def heart() -> None:
        while not stop.is_set():
            beats.append(time.monotonic())
            time.sleep(0)  # gives the GIL back at once when the caller wants it

    # A long switch interval: the other thread gets the GIL only when this
    # one gives it up, as a call waiting on the network must; the
    # interpreter's forced switches would otherwise let it run in the
    # Python parts of the call.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.5)
    t = threading.Thread(target=heart)
    t.start()
    inside = 0
    try:
        for _ in range(10):
            start = time.monotonic()
            client.get_into(key, out)
            end = time.monotonic()
            # Python ran on the other thread strictly inside the call.
            inside += sum(1 for b in beats[-100_000:] if start + 0.001 < b < end - 0.001)
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(interval)
    assert inside > 0


def test_a_server_restart_gives_clear_errors_then_the_client_reconnects(tmp_path: Path, key: str) -> None:
    server = start_server(tmp_path, "--no-auth")
    try:
        with ctxstore.Client(server.address, timeout_s=5) as c:
            assert c.put(key, b"kept", sync=True)
            assert server.stop() == 0
            try:
                c.get(key)
            except ctxstore.ConnectionError:
                pass  # the server is gone: a clear error, nothing else
            else:
                raise AssertionError("a call to a stopped server succeeded")
            server = start_server(tmp_path, "--no-auth", port=server.port)
            # A pooled connection may have died with the old server: at most
            # one more call sees it, then the pool connects anew.
            for attempt in range(3):
                try:
                    assert c.get(key) == b"kept"
                    break
                except ctxstore.ConnectionError:
                    assert attempt < 2
    finally:
        server.stop()
