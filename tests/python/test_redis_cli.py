"""Debian's redis-cli and redis-benchmark against ctxstore's Redis front end.

The commands without authentication run against redis-server too, with the same expected output,
so each expectation is the tools' own behaviour with Redis.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator

import pytest

import ctxstore
from resp_servers import CTXSTORE, TARGETS, RespServer, encode, serving, tool

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


@pytest.fixture(scope="module", params=TARGETS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RespServer]:
    """A server without authentication: the reference, then ctxstore (--no-auth)."""
    with serving(request.param, tmp_path_factory.mktemp(f"cli-{request.param}")) as server:
        yield server


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RespServer]:
    """A ctxstore server with tokens."""
    with serving(CTXSTORE, tmp_path_factory.mktemp("cli-tokens"), auth=True) as server:
        yield server


@pytest.fixture
def k(request: pytest.FixtureRequest) -> str:
    """A key prefix no other test uses."""
    return f"cli:{request.node.name}:{time.monotonic_ns()}:"


def cli(port: int, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Runs redis-cli on the port (stdin not a terminal: raw output, no "(nil)" decorations)."""
    return subprocess.run(
        [tool("redis-cli"), "-p", str(port), *args],
        input=stdin.decode() if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_set_get_exists_del(target: RespServer, k: str) -> None:
    """redis-cli -p P SET k v prints OK, GET prints the value (an empty line for nil), and so on."""
    runs = [
        (("SET", k, "v 1"), "OK\n"),
        (("GET", k), "v 1\n"),
        (("GET", k + "missing"), "\n"),
        (("MGET", k, k + "missing"), "v 1\n\n"),
        (("EXISTS", k, k), "2\n"),
        (("SET", k, "v", "EX", "0"), "ERR invalid expire time in 'set' command\n\n"),
        (
            ("nosuchcommand", "a"),
            "ERR unknown command 'nosuchcommand', with args beginning with: 'a' \n\n",
        ),
        (("DEL", k), "1\n"),
    ]
    for args, expected in runs:
        run = cli(target.port, *args)
        assert (run.returncode, run.stdout) == (0, expected), (args, run.stderr)


def test_resp3_hello(target: RespServer, k: str) -> None:
    """redis-cli -3 HELLO 3 prints the map's fields (proto 3); -3 GET of a missing key prints an
    empty line."""
    run = cli(target.port, "-3", "HELLO", "3")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(" ")[0] for line in lines] == [
        "server",
        "version",
        "proto",
        "id",
        "mode",
        "role",
        "modules",
    ]
    assert "proto 3" in lines
    run = cli(target.port, "-3", "GET", k)
    assert (run.returncode, run.stdout) == (0, "\n")


def test_commands_from_stdin(target: RespServer, k: str) -> None:
    """redis-cli reads inline commands from standard input, one per line, and prints each reply."""
    script = f'SET {k} "a b"\nGET {k}\nEXISTS {k} {k}\nDEL {k}\nGET {k}\n'.encode()
    run = cli(target.port, stdin=script)
    assert (run.returncode, run.stdout) == (0, "OK\na b\n2\n1\n\n"), run.stderr


def test_pipe_mode(target: RespServer, k: str) -> None:
    """redis-cli --pipe streams 2000 SETs in RESP and counts the replies (it ends with an ECHO)."""
    data = b"".join(encode("SET", f"{k}{i}", "x" * (i % 100)) for i in range(2000))
    run = cli(target.port, "--pipe", stdin=data)
    assert run.returncode == 0, run.stderr
    assert "errors: 0, replies: 2000" in run.stdout, run.stdout
    dels = b"".join(encode("DEL", f"{k}{i}") for i in range(2000))
    assert "errors: 0, replies: 2000" in cli(target.port, "--pipe", stdin=dels).stdout


def test_redis_benchmark(target: RespServer) -> None:
    """redis-benchmark -t set,get -n 2000 -q exits 0 and reports requests per second for both."""
    run = subprocess.run(
        [tool("redis-benchmark"), "-p", str(target.port), "-t", "set,get", "-n", "2000", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for command in ("SET", "GET"):
        assert re.search(rf"(^|\s){command}: [\d.]+ requests per second", run.stdout), run.stdout


def test_auth_with_a_token(token_server: RespServer, k: str) -> None:
    """-a TOKEN authenticates (the admin token in namespace default), --user NS --pass TOKEN and a
    redis:// URL in a namespace; without a token: NOAUTH."""
    admin = token_server.admin_token()
    with ctxstore.Client(token_server.native_address, token=admin) as c:
        c.create_namespace("cli")
        write = c.create_token("write", "cli").token
    port = token_server.port
    run = cli(port, "--no-auth-warning", "-a", admin, "SET", k, "admin")
    assert (run.returncode, run.stdout) == (0, "OK\n"), run.stderr
    run = cli(port, "--no-auth-warning", "-a", admin, "GET", k)
    assert (run.returncode, run.stdout) == (0, "admin\n"), run.stderr
    run = cli(port, "--no-auth-warning", "--user", "cli", "--pass", write, "SET", k, "in-cli")
    assert (run.returncode, run.stdout) == (0, "OK\n"), run.stderr
    run = cli(port, "--no-auth-warning", "-a", write, "GET", k)
    assert (run.returncode, run.stdout) == (0, "in-cli\n"), run.stderr
    run = cli(port, "--no-auth-warning", "-u", f"redis://cli:{write}@127.0.0.1:{port}", "GET", k)
    assert (run.returncode, run.stdout) == (0, "in-cli\n"), run.stderr
    run = cli(port, "GET", k)
    assert run.stdout == "NOAUTH Authentication required.\n\n", run.stderr
    run = cli(port, "--no-auth-warning", "-a", "not-a-token", "GET", k)
    assert f"AUTH failed: {WRONGPASS}" in run.stderr
    run = cli(port, "--no-auth-warning", "-a", admin, "DEL", k)
    assert (run.returncode, run.stdout) == (0, "1\n"), run.stderr
