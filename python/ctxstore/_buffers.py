"""Turns what callers pass as values into objects with the buffer protocol.

bytes, bytearray, memoryview and numpy arrays pass through: the native
module reads or writes their memory in place. A torch tensor becomes a
uint8 numpy view of its storage (no copy), which also covers dtypes numpy
lacks (bfloat16). torch is never imported here: a tensor can only exist if
the caller imported it.
"""

from __future__ import annotations

import sys
from typing import Any

from .errors import InvalidArgument


def as_buffer(obj: Any, what: str) -> Any:
    """``obj``, or for a torch tensor a uint8 numpy view of its bytes.

    Raises TypeError for a tensor that is not on the CPU, and InvalidArgument
    for one that is not contiguous (``what`` names the argument).
    """
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(obj, torch.Tensor):
        return obj
    if obj.device.type != "cpu":
        raise TypeError(f"{what}: a tensor on {obj.device} (only CPU tensors can be used directly)")
    if not obj.is_contiguous():
        raise InvalidArgument(f"{what} must be contiguous: call .contiguous() first", "invalid")
    flat = obj.detach().reshape(-1)
    if flat.numel() == 0:
        return bytearray()
    return flat.view(torch.uint8).numpy()
