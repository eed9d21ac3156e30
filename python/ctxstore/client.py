"""The synchronous client: ``ctxstore.Client``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Union

from . import _ctxstore
from ._buffers import as_buffer
from .errors import BatchError, InvalidArgument, from_code
from .types import CreatedToken, NamespaceInfo, ObjectInfo, ServerInfo, TokenInfo

Key = Union[str, bytes]

DEFAULT_PORT = 7070


@dataclass(frozen=True)
class TLS:
    """TLS settings: the CA that signed the server's certificate, and a client certificate for mutual TLS."""

    ca: str
    cert: str = ""
    key: str = ""


class Address(NamedTuple):
    """A server address as ``parse_address`` reads it."""

    host: str  #: "" for a Unix socket
    port: int  #: 0 for a Unix socket
    tls: bool  #: a ``ctxstores://`` address
    unix_path: str  #: "" unless ``unix:///PATH``


def parse_address(address: str) -> Address:
    """Reads ``host[:port]``, ``[v6]:port``, ``ctxstore://``, ``ctxstores://`` (TLS) or ``unix:///path``.

    The port defaults to 7070. The C++ client's own parser does the work, so
    the CLI's ``--server`` and this accept exactly the same forms.
    """
    return Address(*_ctxstore.parse_address(address.strip()))


def _ttl_ms(ttl_s: float | None) -> int:
    if ttl_s is None:
        return 0
    if not ttl_s > 0:
        raise InvalidArgument(f"ttl_s must be positive, got {ttl_s}", "invalid")
    return max(1, round(ttl_s * 1000))


class Lease:
    """Objects a ``match_prefix`` leased: eviction and expiry leave them until released.

    A context manager: leaving the ``with`` block releases it. A lease also
    ends with the pooled connection that took it, so hold it for the reads that
    follow a match, not longer.
    """

    def __init__(self, client: Client, lease_id: int) -> None:
        self._client = client
        self.id = lease_id

    def release(self) -> bool:
        """Releases the objects; False when the lease had already ended."""
        if self.id == 0:
            return False
        lease_id, self.id = self.id, 0
        return self._client._native.release_lease(lease_id)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Client:
    """A connection pool to one ctxstore server, safe to share between threads.

    ``address`` is ``host:port``, ``ctxstore://host:port``,
    ``ctxstores://host:port`` (TLS, verified against ``tls`` or else the
    system's CA store) or ``unix:///path`` (a server on this machine started
    with ``--unix PATH``: no TCP stack in the way). The token is
    ``token``, else ``$CTXSTORE_TOKEN``, else none (for servers run with
    ``--no-auth``). Every call waits on the network with the GIL released;
    ``timeout_s`` bounds each send and receive.
    """

    def __init__(
        self,
        address: str = f"127.0.0.1:{DEFAULT_PORT}",
        *,
        token: str | None = None,
        namespace: str | None = None,
        tls: TLS | str | None = None,
        timeout_s: float = 60.0,
        max_connections: int = 16,
        verify_checksums: bool = True,
        client_name: str | None = None,
    ) -> None:
        self.address = parse_address(address)
        if isinstance(tls, str):
            tls = TLS(ca=tls)
        tls = tls or TLS(ca="")
        self._native = _ctxstore.Client(
            address=address.strip(),
            token=token if token is not None else os.environ.get("CTXSTORE_TOKEN", ""),
            namespace=namespace or "",
            tls_ca=tls.ca,
            tls_cert=tls.cert,
            tls_key=tls.key,
            timeout_s=timeout_s,
            max_connections=max_connections,
            verify_checksums=verify_checksums,
            client_name=client_name or f"ctxstore-python/{_ctxstore.__version__}",
        )

    def close(self) -> None:
        """Closes the pool; later calls raise ConnectionError. Calls in flight finish."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._native.closed

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server_info(self) -> ServerInfo:
        """The server's version and limits, as it said at connect time."""
        return ServerInfo(**self._native.server_info())

    # Values -----------------------------------------------------------------

    def put(
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
        """Stores ``data`` (any contiguous buffer: bytes, numpy array, CPU tensor) without copying it.

        Returns False when the key is already stored and ``overwrite`` is
        False (nothing changes). ``sync`` returns once the value is on flash
        and synced. ``ttl_s`` None uses the namespace's default.
        """
        return self._native.put(
            key, as_buffer(data, "put's data"), overwrite, sync, _ttl_ms(ttl_s), _s(group), _s(parent), meta
        )

    def get(self, key: Key) -> bytes | None:
        """The value, or None when the key is not stored."""
        return self._native.get(key)

    def get_into(self, key: Key, buffer: Any) -> int:
        """Receives the value straight into ``buffer`` (writable, C-contiguous); returns its length.

        Raises NotFound for a missing key and TooLarge (naming the size
        needed) when the buffer is too small. For a tensor, the value must be
        a whole number of its elements.
        """
        return _whole_elements(buffer, self._native.get_into(key, as_buffer(buffer, "get_into's buffer")))

    def exists(self, key: Key) -> bool:
        """Whether the key is stored."""
        return self._native.exists(key) is not None

    def delete(self, key: Key, *, sync: bool = False) -> bool:
        """Deletes the key; False when it was not stored."""
        return self._native.delete(key, sync)

    # Batches ----------------------------------------------------------------

    def batch_put(
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
        """Stores every item in one round trip; per item True (stored) or False (already there).

        ``chain`` makes each item's parent the item before it (the first's is
        ``parent``). An item that fails otherwise raises BatchError, whose
        ``results`` hold every item's outcome.
        """
        views = [as_buffer(b, "batch_put's buffers") for b in buffers]
        codes = self._native.batch_put(
            keys, views, overwrite, sync, _ttl_ms(ttl_s), _s(group), _s(parent), meta, chain
        )
        return _batch_put_results(codes)

    def batch_get(self, keys: Sequence[Key]) -> list[bytes | None]:
        """Every value in one round trip; None for a key that is not stored."""
        return _batch_get_results(self._native.batch_get(keys))

    def batch_get_into(self, keys: Sequence[Key], buffers: Sequence[Any]) -> list[int | None]:
        """Every value in one round trip, each received straight into its buffer.

        Returns the bytes written per key, None for a key that is not stored.
        Buffers are as for ``get_into`` (writable, C-contiguous: numpy arrays,
        CPU tensors, bytearrays, slices of one large pool). An item whose value
        does not fit its buffer is a TooLarge in the BatchError's results
        (naming the size needed), with that buffer left as it was; the other
        items are still received.
        """
        views = [as_buffer(b, "batch_get_into's buffers") for b in buffers]
        return _batch_get_into_results(self._native.batch_get_into(keys, views), views)

    # Shared memory -------------------------------------------------------------

    def register(self, memory: _ctxstore.SharedMemory) -> None:
        """Makes ``memory`` (from ``alloc_shared``) take the shared-memory path.

        From then on ``get_into``, ``batch_get_into`` and ``put`` on any array
        or tensor that lies inside it move no value bytes over the socket: the
        server copies between its DRAM tier and the memory, once. Needs a
        ``unix:///path`` address (Unsupported otherwise); the engine's host KV
        pool, allocated once, is the intended use.
        """
        self._native.register(memory)

    def unregister(self, memory: _ctxstore.SharedMemory) -> None:
        """Calls on ``memory`` go over the socket again from now on."""
        self._native.unregister(memory)

    def batch_exists(self, keys: Sequence[Key]) -> list[bool]:
        """Whether each key is stored, in one round trip."""
        return list(self._native.batch_exists(keys))

    def match_prefix(self, keys: Sequence[Key], lease_s: float | None = None) -> tuple[int, Lease | None]:
        """How many leading keys of a prefix chain are stored, in one round trip.

        With ``lease_s``, the matched objects are also leased for that long:
        the Lease (a context manager) holds them until released. No lease is
        taken when nothing matched.
        """
        lease_ms = 0 if lease_s is None else _ttl_ms(lease_s)
        count, lease_id = self._native.match_prefix(keys, lease_ms)
        return count, (Lease(self, lease_id) if lease_id else None)

    # Objects, pins, statistics -----------------------------------------------

    def stat(self, key: Key) -> ObjectInfo | None:
        """Everything known about the object, or None when it is not stored."""
        d = self._native.stat(key)
        return None if d is None else ObjectInfo.from_dict(d)

    def ls(self, prefix: Key = "", *, group: Key = "", page_size: int = 100) -> Iterator[ObjectInfo]:
        """Objects in key order, fetched a page at a time."""
        cursor = ""
        while True:
            items, cursor = self._native.list_page(prefix, group, cursor, page_size)
            for d in items:
                yield ObjectInfo.from_dict(d)
            if not cursor:
                return

    def pin(self, name: Key, *, group: bool = False, ttl_s: float | None = None, dram: bool = False) -> int:
        """Pins a key or (``group=True``) a group; returns the number of objects pinned now."""
        return self._native.pin(name, group, _ttl_ms(ttl_s), dram)

    def unpin(self, name: Key, *, group: bool = False) -> bool:
        """Removes a pin; False when there was none."""
        return self._native.unpin(name, group)

    def delete_group(self, group: Key) -> int:
        """Deletes every object of the group; returns how many."""
        return self._native.delete_group(group)

    def flush(self) -> None:
        """Returns once everything acknowledged before it is on flash and synced."""
        self._native.flush()

    def stats(self) -> dict[str, Any]:
        """The server's statistics (docs/protocol.md, STATS)."""
        return json.loads(self._native.stats_json())

    # Admin ------------------------------------------------------------------

    def create_namespace(self, name: str, **settings: Any) -> None:
        """Creates a namespace; settings by wire name, e.g. ``quota_bytes=1 << 30``."""
        self._native.create_namespace(name, settings)

    def set_namespace(self, name: str, **settings: Any) -> None:
        """Changes the named settings of a namespace."""
        self._native.set_namespace(name, settings)

    def list_namespaces(self) -> list[NamespaceInfo]:
        """Every namespace with its usage and settings."""
        return [NamespaceInfo.from_dict(d) for d in self._native.list_namespaces()]

    def delete_namespace(self, name: str) -> None:
        """Deletes a namespace with its objects and pins."""
        self._native.delete_namespace(name)

    def create_token(self, role: str, namespace: str | None = None, label: str = "") -> CreatedToken:
        """Creates a token: role "read" or "write" with a namespace, or "admin"."""
        info, secret = self._native.create_token(role, namespace or "", label)
        return CreatedToken(TokenInfo.from_dict(info), secret)

    def list_tokens(self) -> list[TokenInfo]:
        """Every token (never their secrets)."""
        return [TokenInfo.from_dict(d) for d in self._native.list_tokens()]

    def revoke_token(self, token_id: str) -> bool:
        """Revokes a token by id; False when there is no such token."""
        return self._native.revoke_token(token_id)


def _s(value: Key) -> bytes:
    return value.encode() if isinstance(value, str) else value


# Results as both clients return them (AsyncClient calls these too). ----------


def _whole_elements(buffer: Any, n: int) -> int:
    """``n``, after checking that a tensor received a whole number of its elements."""
    element = getattr(buffer, "element_size", None)
    if element is not None and callable(element) and n % element() != 0:
        raise InvalidArgument(
            f"value of {n} bytes is not a whole number of {buffer.dtype} ({element()}-byte) elements",
            "invalid",
        )
    return n


def _batch_put_results(codes: list[str]) -> list[bool]:
    results: list[object] = [
        True if c == "ok" else False if c == "exists" else from_code(c, f"item {i}: {c}")
        for i, c in enumerate(codes)
    ]
    _raise_if_failed("batch_put", results)
    return [bool(r) for r in results]


def _batch_get_results(items: list[tuple[str, bytes | None]]) -> list[bytes | None]:
    results: list[object] = [
        value if code == "ok" else None if code == "not_found" else from_code(code, f"item {i}: {code}")
        for i, (code, value) in enumerate(items)
    ]
    _raise_if_failed("batch_get", results)
    return results  # type: ignore[return-value]


def _batch_get_into_results(items: list[tuple[str, int]], views: list[Any]) -> list[int | None]:
    results: list[object] = []
    for i, (code, length) in enumerate(items):
        if code == "ok":
            results.append(length)
        elif code == "not_found":
            results.append(None)
        elif code == "too_large":
            size = memoryview(views[i]).nbytes
            results.append(
                from_code(code, f"item {i}: value of {length} bytes does not fit in a buffer of {size} bytes")
            )
        else:
            results.append(from_code(code, f"item {i}: {code}"))
    _raise_if_failed("batch_get_into", results)
    return results  # type: ignore[return-value]


def _raise_if_failed(what: str, results: list[object]) -> None:
    failed = [r for r in results if isinstance(r, Exception)]
    if failed:
        raise BatchError(f"{what}: {len(failed)} of {len(results)} items failed, first: {failed[0]}", results)
