"""CPU torch tensors as values: sent from and received into their storage, every dtype."""

from __future__ import annotations

import pytest
import torch

import ctxstore


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int8])
def test_tensors_round_trip(client: ctxstore.Client, key: str, dtype: torch.dtype) -> None:
    kv = (torch.randn(2, 4, 16, 64) * 10).to(dtype)
    assert client.put(key, kv)
    out = torch.empty_like(kv)
    assert client.get_into(key, out) == kv.numel() * kv.element_size()
    assert torch.equal(out, kv)
    assert client.get(key) == kv.view(torch.uint8).numpy().tobytes()


def test_a_slice_of_a_kv_pool_is_written_in_place(client: ctxstore.Client, key: str) -> None:
    pool = torch.zeros(8, 1024, dtype=torch.float16)
    block = torch.randn(1024).half()
    client.put(key, block)
    assert client.get_into(key, pool[3]) == 2048
    assert torch.equal(pool[3], block)
    assert torch.count_nonzero(pool[[0, 1, 2, 4, 5, 6, 7]]) == 0


def test_non_contiguous_tensors_are_refused(client: ctxstore.Client, key: str) -> None:
    t = torch.zeros(4, 4).t()
    with pytest.raises(ctxstore.InvalidArgument, match="contiguous"):
        client.put(key, t)
    with pytest.raises(ctxstore.InvalidArgument, match="contiguous"):
        client.get_into(key, t)


def test_a_value_that_is_not_whole_elements_of_the_tensor_is_refused(client: ctxstore.Client, key: str) -> None:
    client.put(key, b"\0" * 6)
    with pytest.raises(ctxstore.InvalidArgument, match="float32"):
        client.get_into(key, torch.zeros(4, dtype=torch.float32))


def test_a_meta_device_tensor_is_a_type_error(client: ctxstore.Client, key: str) -> None:
    with pytest.raises(TypeError, match="CPU"):
        client.put(key, torch.empty(4, device="meta"))
