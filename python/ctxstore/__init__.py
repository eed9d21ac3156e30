"""ctxstore: a context memory store for LLM inference, from Python.

``Client`` (and ``AsyncClient``, for asyncio) talks to a ctxstore server (``ctxstore serve``): values go from
and into numpy arrays, CPU tensors and bytes without copies, errors are the
classes of :mod:`ctxstore.errors`. See docs/python.md.
"""

from __future__ import annotations

# errors first: the native module looks its exception classes up there.
from . import errors
from . import _ctxstore
from .aio import AsyncClient, AsyncLease
from .client import TLS, Address, Client, Lease, parse_address
from .errors import (
    BatchError,
    Busy,
    ConnectionError,
    Corrupt,
    Error,
    Exists,
    Internal,
    InvalidArgument,
    IoError,
    KeyUnavailable,
    NoSpace,
    NotFound,
    TooLarge,
    Unauthorized,
    Unsupported,
)
from .types import CreatedToken, NamespaceInfo, ObjectInfo, ServerInfo, TokenInfo

__version__: str = _ctxstore.__version__

SharedMemory = _ctxstore.SharedMemory


def alloc_shared(nbytes: int) -> SharedMemory:
    """Memory to share with a server on this machine: a sealed memfd of ``nbytes``, zero-filled.

    View it in place with ``numpy.frombuffer(memory, dtype)`` or
    ``torch.frombuffer(memory, dtype=...)``; after ``Client.register(memory)``
    calls on those views take the shared-memory path (docs/python.md).
    """
    return _ctxstore.alloc_shared(nbytes)

__all__ = [
    "TLS",
    "AsyncClient",
    "AsyncLease",
    "BatchError",
    "Busy",
    "Client",
    "ConnectionError",
    "Corrupt",
    "CreatedToken",
    "Error",
    "Exists",
    "Internal",
    "InvalidArgument",
    "IoError",
    "KeyUnavailable",
    "Lease",
    "NamespaceInfo",
    "NoSpace",
    "NotFound",
    "ObjectInfo",
    "ServerInfo",
    "TokenInfo",
    "TooLarge",
    "Unauthorized",
    "Unsupported",
    "errors",
    "parse_address",
    "Address",
    "SharedMemory",
    "alloc_shared",
]
