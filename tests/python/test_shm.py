"""The shared-memory path from Python: alloc_shared, register, and calls on views of that memory.

The server's STATS counters (shm_gets, shm_puts) prove which path a call took.
"""

from __future__ import annotations

import numpy as np
import pytest

import ctxstore
from conftest import Server


def shm_counts(client: ctxstore.Client) -> tuple[int, int]:
    stats = client.stats()
    return stats["shm_gets"], stats["shm_puts"]


@pytest.fixture
def unix_client(server: Server) -> ctxstore.Client:
    with ctxstore.Client(server.unix_address) as c:
        yield c  # type: ignore[misc]


def test_views_of_registered_memory_take_the_shared_memory_path(unix_client: ctxstore.Client, key: str) -> None:
    memory = ctxstore.alloc_shared(8 << 20)
    assert memory.nbytes == 8 << 20
    pool = np.frombuffer(memory, dtype=np.uint8).reshape(8, 1 << 20)
    unix_client.register(memory)
    gets, puts = shm_counts(unix_client)

    pool[0] = np.random.default_rng(1).integers(0, 256, 1 << 20, dtype=np.uint8)
    assert unix_client.put(key, pool[0])
    assert unix_client.get_into(key, pool[3]) == 1 << 20
    assert np.array_equal(pool[3], pool[0])
    assert shm_counts(unix_client) == (gets + 1, puts + 1)

    # batch_get_into on slots of the pool: each value copied by the server.
    keys = [f"{key}:{i}" for i in range(3)]
    for i, k in enumerate(keys):
        pool[4] = i
        unix_client.put(k, pool[4])
    gets, _ = shm_counts(unix_client)
    assert unix_client.batch_get_into(keys + [key + ":missing"], [pool[5], pool[6], pool[7], pool[1]]) == [
        1 << 20,
        1 << 20,
        1 << 20,
        None,
    ]
    assert [int(pool[5 + i][0]) for i in range(3)] == [0, 1, 2]
    assert shm_counts(unix_client)[0] == gets + 3, "each item copied by the server"
    with pytest.raises(ctxstore.BatchError) as caught:
        unix_client.batch_get_into([key, keys[0]], [pool[2][:1000], pool[2][1000:]])
    assert isinstance(caught.value.results[0], ctxstore.TooLarge)
    assert f"value of {1 << 20} bytes does not fit in a buffer of 1000 bytes" in str(caught.value.results[0])

    # Not registered any more: the same calls go over the socket.
    unix_client.unregister(memory)
    before = shm_counts(unix_client)
    assert unix_client.get_into(key, pool[2]) == 1 << 20
    assert shm_counts(unix_client) == before


def test_a_tensor_view_of_shared_memory(unix_client: ctxstore.Client, key: str) -> None:
    torch = pytest.importorskip("torch")
    memory = ctxstore.alloc_shared(1 << 20)
    unix_client.register(memory)
    blocks = torch.frombuffer(memory, dtype=torch.bfloat16).view(8, -1)
    blocks[1] = 1.5
    gets, _ = shm_counts(unix_client)
    unix_client.put(key, blocks[1])
    assert unix_client.get_into(key, blocks[6]) == blocks[1].numel() * 2
    assert torch.equal(blocks[6], blocks[1])
    assert shm_counts(unix_client)[0] == gets + 1


def test_a_value_too_large_for_its_slot_leaves_the_slot_alone(unix_client: ctxstore.Client, key: str) -> None:
    memory = ctxstore.alloc_shared(1 << 20)
    unix_client.register(memory)
    pool = np.frombuffer(memory, dtype=np.uint8)
    unix_client.put(key, b"x" * 5000)
    pool[:] = 7
    with pytest.raises(ctxstore.TooLarge, match="value of 5000 bytes"):
        unix_client.get_into(key, pool[:4096])
    assert (pool == 7).all()


def test_shared_memory_needs_a_unix_address(server: Server) -> None:
    with ctxstore.Client(server.address) as tcp:
        with pytest.raises(ctxstore.Unsupported, match="Unix-socket"):
            tcp.register(ctxstore.alloc_shared(4096))


def test_tenants_stay_apart_through_shared_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import start_server

    s = start_server(tmp_path, "--unix", str(tmp_path / "ctx.sock"))
    try:
        with ctxstore.Client(s.address, token=s.admin_token()) as admin:
            admin.create_namespace("alpha")
            admin.create_namespace("beta")
            alpha_token = admin.create_token("write", "alpha").token
            beta_token = admin.create_token("write", "beta").token
        with ctxstore.Client(s.unix_address, token=alpha_token) as alpha:
            alpha.put("secret", b"alpha's")
        with ctxstore.Client(s.unix_address, token=beta_token) as beta:
            memory = ctxstore.alloc_shared(4096)
            beta.register(memory)
            view = np.frombuffer(memory, dtype=np.uint8)
            view[:] = 9
            with pytest.raises(ctxstore.NotFound):
                beta.get_into("secret", view)
            assert (view == 9).all()
    finally:
        assert s.stop() == 0


def test_alloc_shared_refuses_nothing_at_all() -> None:
    with pytest.raises(ctxstore.InvalidArgument, match="0 bytes"):
        ctxstore.alloc_shared(0)
