"""The asyncio client: ``ctxstore.AsyncClient``, the same calls as coroutines.

Each call runs the synchronous client's call on a fixed pool of worker
threads (``workers``, default 8) and completes its future on the event loop
when the call returns: the loop never waits on the network, and no thread is
made per request. The calls release the GIL while they wait, so the
workers' transfers overlap each other and the loop's own work.

A call whose task is cancelled still runs to its end on its worker (a
request half sent cannot be taken back); its buffers stay referenced until
then, and its result is dropped.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from .client import DEFAULT_PORT, Client, Key, Lease
from .errors import ConnectionError
from .types import CreatedToken, NamespaceInfo, ObjectInfo, ServerInfo, TokenInfo

T = TypeVar("T")


class AsyncLease:
    """A lease from ``AsyncClient.match_prefix``: ``async with`` releases it on exit."""

    def __init__(self, client: AsyncClient, lease: Lease) -> None:
        self._client = client
        self._lease = lease

    @property
    def id(self) -> int:
        """The lease's id; 0 once released."""
        return self._lease.id

    async def release(self) -> bool:
        """Releases the objects; False when the lease had already ended."""
        return await self._client._run(self._lease.release)

    async def __aenter__(self) -> AsyncLease:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


class AsyncClient:
    """A ctxstore client for asyncio programs (LMCache's and SGLang's connectors are such).

    Takes the arguments of :class:`ctxstore.Client`, plus ``workers``: the
    calls that may wait on the network at once. It connects on
    ``await client.connect()``, on entering ``async with``, or on its first
    call.
    """

    def __init__(self, address: str = f"127.0.0.1:{DEFAULT_PORT}", *, workers: int = 8, **options: Any) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._address = address
        self._options = options
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ctxstore-aio")
        self._client: Client | None = None
        self._connecting: asyncio.Lock | None = None
        self._closed = False

    async def connect(self) -> AsyncClient:
        """Connects (HELLO) unless connected; raises what ``Client(...)`` raises."""
        await self._connected()
        return self

    async def _connected(self) -> Client:
        if self._client is not None:
            return self._client
        if self._closed:
            raise ConnectionError("client is closed", "unavailable")
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._client is None:
                loop = asyncio.get_running_loop()
                make = functools.partial(Client, self._address, **self._options)
                self._client = await loop.run_in_executor(self._executor, make)
        return self._client

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._closed:
            raise ConnectionError("client is closed", "unavailable")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        client = await self._connected()
        return await self._run(getattr(client, name), *args, **kwargs)

    async def aclose(self) -> None:
        """Closes the pool; calls in flight finish, later calls raise ConnectionError."""
        self._closed = True
        if self._client is not None:
            self._client.close()
        self._executor.shutdown(wait=False)

    async def __aenter__(self) -> AsyncClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def server_info(self) -> ServerInfo:
        """The server's version and limits (after connecting)."""
        if self._client is None:
            raise ConnectionError("not connected yet: await connect() first", "unavailable")
        return self._client.server_info

    # Values and batches: see Client for each call's contract. -------------

    async def put(self, key: Key, data: Any, **options: Any) -> bool:
        """Client.put as a coroutine."""
        return await self._call("put", key, data, **options)

    async def get(self, key: Key) -> bytes | None:
        """Client.get as a coroutine."""
        return await self._call("get", key)

    async def get_into(self, key: Key, buffer: Any) -> int:
        """Client.get_into as a coroutine."""
        return await self._call("get_into", key, buffer)

    async def exists(self, key: Key) -> bool:
        """Client.exists as a coroutine."""
        return await self._call("exists", key)

    async def delete(self, key: Key, *, sync: bool = False) -> bool:
        """Client.delete as a coroutine."""
        return await self._call("delete", key, sync=sync)

    async def batch_put(self, keys: Sequence[Key], buffers: Sequence[Any], **options: Any) -> list[bool]:
        """Client.batch_put as a coroutine."""
        return await self._call("batch_put", keys, buffers, **options)

    async def batch_get(self, keys: Sequence[Key]) -> list[bytes | None]:
        """Client.batch_get as a coroutine."""
        return await self._call("batch_get", keys)

    async def register(self, memory: Any) -> None:
        """Client.register as a coroutine (connects first when needed)."""
        (await self._connected()).register(memory)

    async def unregister(self, memory: Any) -> None:
        """Client.unregister as a coroutine."""
        (await self._connected()).unregister(memory)

    async def batch_get_into(self, keys: Sequence[Key], buffers: Sequence[Any]) -> list[int | None]:
        """Client.batch_get_into as a coroutine (the buffers must stay alive until it completes)."""
        return await self._call("batch_get_into", keys, buffers)

    async def batch_exists(self, keys: Sequence[Key]) -> list[bool]:
        """Client.batch_exists as a coroutine."""
        return await self._call("batch_exists", keys)

    async def match_prefix(
        self, keys: Sequence[Key], lease_s: float | None = None
    ) -> tuple[int, AsyncLease | None]:
        """Client.match_prefix as a coroutine; the lease supports ``async with``."""
        count, lease = await self._call("match_prefix", keys, lease_s)
        return count, (AsyncLease(self, lease) if lease is not None else None)

    # Objects, pins, statistics, admin. -------------------------------------

    async def stat(self, key: Key) -> ObjectInfo | None:
        """Client.stat as a coroutine."""
        return await self._call("stat", key)

    async def ls(self, prefix: Key = "", *, group: Key = "", page_size: int = 100) -> AsyncIterator[ObjectInfo]:
        """Client.ls as an async iterator: one page fetched per worker call."""
        client = await self._connected()
        cursor = ""
        while True:
            items, cursor = await self._run(client._native.list_page, prefix, group, cursor, page_size)
            for d in items:
                yield ObjectInfo.from_dict(d)
            if not cursor:
                return

    async def pin(self, name: Key, **options: Any) -> int:
        """Client.pin as a coroutine."""
        return await self._call("pin", name, **options)

    async def unpin(self, name: Key, *, group: bool = False) -> bool:
        """Client.unpin as a coroutine."""
        return await self._call("unpin", name, group=group)

    async def delete_group(self, group: Key) -> int:
        """Client.delete_group as a coroutine."""
        return await self._call("delete_group", group)

    async def flush(self) -> None:
        """Client.flush as a coroutine."""
        await self._call("flush")

    async def stats(self) -> dict[str, Any]:
        """Client.stats as a coroutine."""
        return await self._call("stats")

    async def create_namespace(self, name: str, **settings: Any) -> None:
        """Client.create_namespace as a coroutine."""
        await self._call("create_namespace", name, **settings)

    async def set_namespace(self, name: str, **settings: Any) -> None:
        """Client.set_namespace as a coroutine."""
        await self._call("set_namespace", name, **settings)

    async def list_namespaces(self) -> list[NamespaceInfo]:
        """Client.list_namespaces as a coroutine."""
        return await self._call("list_namespaces")

    async def delete_namespace(self, name: str) -> None:
        """Client.delete_namespace as a coroutine."""
        await self._call("delete_namespace", name)

    async def create_token(self, role: str, namespace: str | None = None, label: str = "") -> CreatedToken:
        """Client.create_token as a coroutine."""
        return await self._call("create_token", role, namespace, label)

    async def list_tokens(self) -> list[TokenInfo]:
        """Client.list_tokens as a coroutine."""
        return await self._call("list_tokens")

    async def revoke_token(self, token_id: str) -> bool:
        """Client.revoke_token as a coroutine."""
        return await self._call("revoke_token", token_id)
