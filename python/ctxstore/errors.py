"""The exceptions ctxstore raises: one class per status code of the protocol.

Every class derives from :class:`Error`, which carries the server's message
and the code's wire name (``err.code``, e.g. ``"not_found"``). Classes that
also mean something to Python derive from the builtin as well, so that
``except ValueError`` or ``except ConnectionError`` catch them.

A key that is not there is not an error for reads of one object: ``get`` and
``stat`` return ``None``, ``exists`` and ``delete`` return ``False``.
"""

from __future__ import annotations

import builtins


class Error(Exception):
    """A ctxstore call failed; ``code`` names why, ``message`` is the server's text."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(Error):
    """No such key, lease, pin, namespace or token."""


class Exists(Error):
    """The key is already stored and the call did not ask to overwrite it."""


class InvalidArgument(Error, ValueError):
    """A malformed request or argument: fix the call."""


class TooLarge(Error, ValueError):
    """A length over a limit, or a buffer too small for the value (the message says the size needed)."""


class NoSpace(Error):
    """The store, or the namespace's quota, cannot take more data now."""


class IoError(Error):
    """The server's device failed."""


class Corrupt(Error):
    """Stored or received bytes failed their checksum; they are never served."""


class Busy(Error):
    """The server is overloaded for the moment; retry later."""


class Unsupported(Error):
    """The server does not know the operation or protocol version."""


class Unauthorized(Error, PermissionError):
    """No valid token, or the token may not do this (another namespace, a read-only role)."""


class Internal(Error):
    """A bug or an unexpected state in the server or the client."""


class ConnectionError(Error, builtins.ConnectionError):  # noqa: A001 (the builtin is a base)
    """The connection was refused, closed or timed out, or the client is closed."""


class KeyUnavailable(Error):
    """The object is encrypted with a key the server has not loaded."""


class BatchError(Error):
    """Some items of a batch failed; ``results`` holds each item's outcome in order.

    An item's outcome is what the call returns for it when it succeeds, or the
    :class:`Error` it failed with.
    """

    def __init__(self, message: str, results: list[object]) -> None:
        super().__init__(message, "batch")
        self.results = results


# The wire name of each status code (include/ctxstore/status.h) to its class.
_BY_CODE: dict[str, type[Error]] = {
    "not_found": NotFound,
    "exists": Exists,
    "invalid": InvalidArgument,
    "too_large": TooLarge,
    "no_space": NoSpace,
    "io_error": IoError,
    "corrupt": Corrupt,
    "busy": Busy,
    "unsupported": Unsupported,
    "unauthorized": Unauthorized,
    "internal": Internal,
    "unavailable": ConnectionError,
    "key_unavailable": KeyUnavailable,
}


def from_code(code: str, message: str) -> Error:
    """The exception a status code and message become."""
    return _BY_CODE.get(code, Error)(message, code)
