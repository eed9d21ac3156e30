"""The exception classes: one per status code, with Python's own bases where they mean the same."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

import ctxstore
from ctxstore import _ctxstore

CODES = {
    1: ctxstore.NotFound,
    2: ctxstore.Exists,
    3: ctxstore.InvalidArgument,
    4: ctxstore.TooLarge,
    5: ctxstore.NoSpace,
    6: ctxstore.IoError,
    7: ctxstore.Corrupt,
    8: ctxstore.Busy,
    9: ctxstore.Unsupported,
    10: ctxstore.Unauthorized,
    11: ctxstore.Internal,
    12: ctxstore.ConnectionError,
    13: ctxstore.KeyUnavailable,
}


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_status_code_raises_its_class_with_the_message(code: int) -> None:
    with pytest.raises(CODES[code]) as e:
        _ctxstore._raise_status(code, f"message {code}")
    assert isinstance(e.value, ctxstore.Error)
    assert e.value.message == f"message {code}"
    assert e.value.code and e.value.code != "ok"


def test_python_bases() -> None:
    assert issubclass(ctxstore.InvalidArgument, ValueError)
    assert issubclass(ctxstore.TooLarge, ValueError)
    assert issubclass(ctxstore.Unauthorized, PermissionError)
    assert issubclass(ctxstore.ConnectionError, builtins.ConnectionError)


def test_a_refused_connection_is_a_connection_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once it is closed
    with pytest.raises(ctxstore.ConnectionError):
        ctxstore.Client(f"127.0.0.1:{port}", timeout_s=2)


def test_calls_after_close_raise_connection_error(client: ctxstore.Client) -> None:
    client.close()
    assert client.closed
    with pytest.raises(ctxstore.ConnectionError, match="closed"):
        client.get("k")


@pytest.mark.parametrize(
    "address, expected",
    [
        ("127.0.0.1:7071", ("127.0.0.1", 7071, False, "")),
        ("localhost", ("localhost", 7070, False, "")),
        ("ctxstore://h:1", ("h", 1, False, "")),
        ("ctxstores://h:2", ("h", 2, True, "")),
        ("[::1]:3", ("::1", 3, False, "")),
        ("unix:///run/ctx.sock", ("", 0, False, "/run/ctx.sock")),
    ],
)
def test_addresses(address: str, expected: tuple[str, int, bool, str]) -> None:
    parsed = ctxstore.parse_address(address)
    assert parsed == expected
    assert parsed.unix_path == expected[3]


@pytest.mark.parametrize(
    "address", ["http://h:1", "h:notaport", "ctxstore://h:1/path", "h:99999", "unix://relative", "::1:3"]
)
def test_bad_addresses(address: str) -> None:
    with pytest.raises(ctxstore.InvalidArgument, match="address"):
        ctxstore.parse_address(address)
    with pytest.raises(ctxstore.InvalidArgument, match="address"):
        ctxstore.Client(address)


def test_tls_address_without_a_ca_uses_the_system_store() -> None:
    # Nothing listens on port 1: TLS was set up (the system's CAs loaded), then the connect failed.
    with pytest.raises(ctxstore.ConnectionError, match="refused"):
        ctxstore.Client("ctxstores://127.0.0.1:1", timeout_s=2)


def test_no_tls_on_a_unix_socket(tmp_path: Path) -> None:
    with pytest.raises(ctxstore.InvalidArgument, match="not offered on a Unix socket"):
        ctxstore.Client(f"unix://{tmp_path}/ctx.sock", tls="/etc/ssl/certs/ca-certificates.crt")


def test_a_missing_socket_says_so(tmp_path: Path) -> None:
    with pytest.raises(ctxstore.ConnectionError, match="no socket at"):
        ctxstore.Client(f"unix://{tmp_path}/nothing.sock", timeout_s=2)
