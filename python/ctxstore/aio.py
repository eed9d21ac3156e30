"""The asyncio client: ``ctxstore.AsyncClient``, the same calls as coroutines.

The data calls (put, get, get_into, exists, delete, the batches,
match_prefix) are submitted to a native core (``_ctxstore.AsyncCore``): a
fixed pool of C++ worker threads (``workers``, default 8) runs the C++
client's calls without the GIL, and announces each finished call on an
eventfd that the event loop watches (``loop.add_reader``). The loop then
completes the calls' futures, a batch per wake-up. The loop never waits on
the network, no thread is made per request, and no Python code runs on the
workers. The admin and listing calls (stat, ls, pin, namespaces, tokens,
stats), which are not on an engine's hot path, and connecting run on a small
thread pool instead.

A call whose task is cancelled still runs to its end on its worker (a
request half sent cannot be taken back); its buffers stay referenced until
then, and its result is dropped. An AsyncClient belongs to the event loop
that first used it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from . import _ctxstore
from ._buffers import as_buffer
from .client import (
    DEFAULT_PORT,
    Client,
    Key,
    _batch_get_into_results,
    _batch_get_results,
    _batch_put_results,
    _s,
    _ttl_ms,
    _whole_elements,
)
from .errors import ConnectionError
from .types import CreatedToken, NamespaceInfo, ObjectInfo, ServerInfo, TokenInfo

T = TypeVar("T")

_MAX_WORKERS = 256


class AsyncLease:
    """A lease from ``AsyncClient.match_prefix``: ``async with`` releases it on exit."""

    def __init__(self, client: AsyncClient, lease_id: int) -> None:
        self._client = client
        self.id = lease_id

    async def release(self) -> bool:
        """Releases the objects; False when the lease had already ended."""
        if self.id == 0:
            return False
        lease_id, self.id = self.id, 0
        return await self._client._submit(lambda core: core.submit_release_lease(lease_id))

    async def __aenter__(self) -> AsyncLease:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


class AsyncClient:
    """A ctxstore client for asyncio programs (LMCache's and SGLang's connectors are such).

    Takes the arguments of :class:`ctxstore.Client`, plus ``workers``: the
    calls that may wait on the network at once (1 to 256; more wait in a
    queue). It connects on ``await client.connect()``, on entering
    ``async with``, or on its first call; ``await aclose()`` (or leaving
    ``async with``) waits for the calls in flight and closes it.
    """

    def __init__(self, address: str = f"127.0.0.1:{DEFAULT_PORT}", *, workers: int = 8, **options: Any) -> None:
        if not 1 <= workers <= _MAX_WORKERS:
            raise ValueError(f"workers must be between 1 and {_MAX_WORKERS}, got {workers}")
        self._address = address
        self._workers = workers
        options.setdefault("max_connections", max(16, workers))  # every worker keeps its connection
        self._options = options
        self._helpers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ctxstore-aio-admin")
        self._client: Client | None = None
        self._core: _ctxstore.AsyncCore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._idle: asyncio.Future[None] | None = None
        self._connecting: asyncio.Lock | None = None
        self._closed = False

    async def connect(self) -> AsyncClient:
        """Connects (HELLO) unless connected; raises what ``Client(...)`` raises."""
        await self._connected()
        return self

    async def _connected(self) -> Client:
        if self._client is not None:
            self._check_loop()
            return self._client
        if self._closed:
            raise ConnectionError("client is closed", "unavailable")
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._client is None:
                loop = asyncio.get_running_loop()
                make = functools.partial(Client, self._address, **self._options)
                client = await loop.run_in_executor(self._helpers, make)
                core = _ctxstore.AsyncCore(client._native, self._workers)
                loop.add_reader(core.event_fd(), self._on_ready)
                self._client, self._core, self._loop = client, core, loop
        return self._client

    def _check_loop(self) -> None:
        if asyncio.get_running_loop() is not self._loop:
            raise RuntimeError("this AsyncClient belongs to another event loop (the one it connected on)")

    async def _submit(self, submit: Callable[[_ctxstore.AsyncCore], int]) -> Any:
        """Submits a native call; its future completes when the loop drains it."""
        await self._connected()
        if self._closed:
            raise ConnectionError("client is closed", "unavailable")
        assert self._core is not None and self._loop is not None
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending[submit(self._core)] = future
        return await future

    def _on_ready(self) -> None:
        """The eventfd is readable: completes every finished call's future."""
        assert self._core is not None
        for call_id, ok, value in self._core.drain():
            future = self._pending.pop(call_id, None)
            if future is None or future.cancelled():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if self._idle is not None and self._core.outstanding == 0 and not self._idle.done():
            self._idle.set_result(None)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs a synchronous call (admin, listing) on the helper threads."""
        if self._closed:
            raise ConnectionError("client is closed", "unavailable")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._helpers, functools.partial(fn, *args, **kwargs))

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        client = await self._connected()
        return await self._run(getattr(client, name), *args, **kwargs)

    async def aclose(self) -> None:
        """Refuses new calls, waits for the calls in flight to finish, and closes the connections."""
        if self._closed:
            return
        self._closed = True
        core, loop = self._core, self._loop
        if core is not None and loop is not None:
            core.close()
            if core.outstanding > 0:
                self._idle = loop.create_future()
                await self._idle
            loop.remove_reader(core.event_fd())
            self._core = None
            del core  # joins the (now idle) workers
        if self._client is not None:
            self._client.close()
        self._helpers.shutdown(wait=False)

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

    async def put(
        self,
        key: Key,
        data: Any,
        *,
        overwrite: bool = False,
        sync: bool = False,
        ttl_s: float | None = None,
        group: Key = "",
        parent: Key = "",
        meta: Key | None = None,
    ) -> bool:
        """Client.put as a coroutine."""
        view = as_buffer(data, "put's data")
        ttl_ms, g, p = _ttl_ms(ttl_s), _s(group), _s(parent)
        return await self._submit(lambda core: core.submit_put(key, view, overwrite, sync, ttl_ms, g, p, meta))

    async def get(self, key: Key) -> bytes | None:
        """Client.get as a coroutine (the value is copied once more than by ``get_into``)."""
        return await self._submit(lambda core: core.submit_get(key))

    async def get_into(self, key: Key, buffer: Any) -> int:
        """Client.get_into as a coroutine (the buffer must stay alive until it completes)."""
        view = as_buffer(buffer, "get_into's buffer")
        return _whole_elements(buffer, await self._submit(lambda core: core.submit_get_into(key, view)))

    async def exists(self, key: Key) -> bool:
        """Client.exists as a coroutine."""
        return (await self._submit(lambda core: core.submit_exists(key))) is not None

    async def delete(self, key: Key, *, sync: bool = False) -> bool:
        """Client.delete as a coroutine."""
        return await self._submit(lambda core: core.submit_delete(key, sync))

    async def batch_put(
        self,
        keys: Sequence[Key],
        buffers: Sequence[Any],
        *,
        overwrite: bool = False,
        sync: bool = False,
        ttl_s: float | None = None,
        group: Key = "",
        parent: Key = "",
        meta: Key | None = None,
        chain: bool = False,
    ) -> list[bool]:
        """Client.batch_put as a coroutine."""
        views = [as_buffer(b, "batch_put's buffers") for b in buffers]
        ttl_ms, g, p = _ttl_ms(ttl_s), _s(group), _s(parent)
        codes = await self._submit(
            lambda core: core.submit_batch_put(keys, views, overwrite, sync, ttl_ms, g, p, meta, chain)
        )
        return _batch_put_results(codes)

    async def batch_get(self, keys: Sequence[Key]) -> list[bytes | None]:
        """Client.batch_get as a coroutine."""
        return _batch_get_results(await self._submit(lambda core: core.submit_batch_get(keys)))

    async def register(self, memory: Any) -> None:
        """Client.register as a coroutine (connects first when needed)."""
        (await self._connected()).register(memory)

    async def unregister(self, memory: Any) -> None:
        """Client.unregister as a coroutine."""
        (await self._connected()).unregister(memory)

    async def batch_get_into(self, keys: Sequence[Key], buffers: Sequence[Any]) -> list[int | None]:
        """Client.batch_get_into as a coroutine (the buffers must stay alive until it completes)."""
        views = [as_buffer(b, "batch_get_into's buffers") for b in buffers]
        items = await self._submit(lambda core: core.submit_batch_get_into(keys, views))
        return _batch_get_into_results(items, views)

    async def batch_exists(self, keys: Sequence[Key]) -> list[bool]:
        """Client.batch_exists as a coroutine."""
        return list(await self._submit(lambda core: core.submit_batch_exists(keys)))

    async def match_prefix(
        self, keys: Sequence[Key], lease_s: float | None = None
    ) -> tuple[int, AsyncLease | None]:
        """Client.match_prefix as a coroutine; the lease supports ``async with``."""
        lease_ms = 0 if lease_s is None else _ttl_ms(lease_s)
        count, lease_id = await self._submit(lambda core: core.submit_match_prefix(keys, lease_ms))
        return count, (AsyncLease(self, lease_id) if lease_id else None)

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
