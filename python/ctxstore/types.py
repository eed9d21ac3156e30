"""What ctxstore calls return besides values: objects, namespaces, tokens, server facts."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

_T = TypeVar("_T", bound="_FromDict")


class _FromDict:
    """``from_dict``: a dataclass from the native module's dict (members it does not know are left out)."""

    @classmethod
    def from_dict(cls: type[_T], d: dict[str, Any]) -> _T:
        """Builds one from the native module's dict."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class ObjectInfo(_FromDict):
    """Everything the server knows about one stored object (``stat``, ``ls``).

    Times are milliseconds since the Unix epoch; 0 means never. Keys, groups,
    parents and metadata are bytes, as stored.
    """

    key: bytes
    value_len: int
    value_xxh3: int
    created_ms: int
    expires_ms: int
    in_dram: bool
    on_flash: bool
    durable: bool
    sealed: bool
    pinned: bool
    pin_dram: bool
    pin_expires_ms: int
    leases: int
    lease_expires_ms: int
    orphan: bool
    group: bytes
    parent: bytes
    writer: str
    meta: bytes


@dataclass(frozen=True)
class NamespaceInfo(_FromDict):
    """A namespace (tenant): its usage and its settings by wire name (``quota_bytes``, ...)."""

    id: int
    name: str
    objects: int
    bytes: int
    evictions: int
    settings: dict[str, Any]


@dataclass(frozen=True)
class TokenInfo(_FromDict):
    """An access token as the server lists it (never its secret)."""

    id: str
    role: str
    namespace: str
    label: str
    created_ms: int


@dataclass(frozen=True)
class CreatedToken:
    """A token just created: ``token`` is its secret, shown this once."""

    info: TokenInfo
    token: str


@dataclass(frozen=True)
class ServerInfo:
    """What the server said at HELLO: its limits and version."""

    protocol_version: int
    max_value_bytes: int
    max_batch_keys: int
    max_batch_bytes: int
    server_version: str
