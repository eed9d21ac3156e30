"""One Client shared by threads, and the GIL released while a call waits on the network."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import ctxstore


def test_threads_share_one_client(client: ctxstore.Client, key: str) -> None:
    def work(t: int) -> None:
        rng = np.random.default_rng(t)
        out = np.empty(70_000, dtype=np.uint8)
        for i in range(30):
            value = rng.integers(0, 256, 70_000, dtype=np.uint8)
            k = f"{key}:{t}:{i}"
            assert client.put(k, value)
            assert client.get_into(k, out) == value.size
            assert np.array_equal(out, value)

    with ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(work, t) for t in range(8)]:
            f.result()


def test_the_gil_is_released_while_a_call_waits() -> None:
    # A listener that never answers: the client's HELLO waits 1 s for its timeout.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        failure: list[BaseException] = []
        calling = threading.Event()

        def connect() -> None:
            calling.set()
            try:
                ctxstore.Client(f"127.0.0.1:{port}", timeout_s=1.0)
            except BaseException as e:  # noqa: BLE001 (recorded for the assertion)
                failure.append(e)

        t = threading.Thread(target=connect)
        t.start()
        calling.wait()
        started = time.monotonic()
        ran_at: list[float] = []
        while t.is_alive():
            ran_at.append(time.monotonic() - started)
        t.join()
    assert len(failure) == 1 and isinstance(failure[0], ctxstore.ConnectionError), failure
    assert ran_at and ran_at[-1] >= 0.9
    # This thread ran Python in the middle of the other's wait: had the
    # waiting call held the GIL, nothing could have run here between the
    # call's start and its timeout.
    assert any(0.3 < t < 0.7 for t in ran_at)


def test_close_while_other_threads_call(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"v" * 100_000)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(200):
                client.get(key)
        except ctxstore.ConnectionError:
            pass  # closed under it: the expected way to stop
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    client.close()
    for t in threads:
        t.join()
    assert errors == []
    with pytest.raises(ctxstore.ConnectionError):
        client.get(key)
