"""A client survives fork(): parent and child each get their own connections, and their replies never mix."""

from __future__ import annotations

import os

import ctxstore


def test_a_forked_child_uses_its_own_connections(client: ctxstore.Client, key: str) -> None:
    # Different values for parent and child: a reply read by the wrong
    # process (one socket shared by both) shows as the other's bytes or a
    # broken stream, and the request ids alone would not tell (both
    # processes count them from the same point).
    mine, theirs = os.urandom(200_000), os.urandom(150_000)
    client.put(f"{key}:parent", mine)
    client.put(f"{key}:child", theirs)
    assert client.get(f"{key}:parent") == mine  # a pooled connection the child inherits
    pid = os.fork()
    if pid == 0:
        try:
            ok = all(client.get(f"{key}:child") == theirs for _ in range(300))
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    parent_ok = True
    try:
        for _ in range(300):
            parent_ok = parent_ok and client.get(f"{key}:parent") == mine
    except ctxstore.Error:
        parent_ok = False
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child saw replies that were not its own"
    assert parent_ok, "the parent saw replies that were not its own"


def test_the_child_opens_a_connection_instead_of_reusing_the_parents(
    client: ctxstore.Client, key: str
) -> None:
    client.put(key, b"v")
    before = client.stats()["connections_total"]  # the pooled connection is now idle
    pid = os.fork()
    if pid == 0:
        os._exit(0 if client.get(key) == b"v" else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    after = client.stats()["connections_total"]
    assert after == before + 1, "the child used the connection it inherited"
