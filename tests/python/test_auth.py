"""Tokens, namespaces and the errors a server sends, through a server that requires tokens."""

from __future__ import annotations

import pytest

import ctxstore
from conftest import Server


def test_no_token_is_unauthorized(auth_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTXSTORE_TOKEN", raising=False)
    with pytest.raises(ctxstore.Unauthorized) as e:
        ctxstore.Client(auth_server.address)
    assert isinstance(e.value, PermissionError)
    assert e.value.code == "unauthorized"


def test_token_from_the_environment(auth_server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTXSTORE_TOKEN", auth_server.admin_token())
    with ctxstore.Client(auth_server.address) as c:
        assert c.put("env-key", b"v")


def test_namespaces_and_tokens_keep_tenants_apart(auth_server: Server) -> None:
    with ctxstore.Client(auth_server.address, token=auth_server.admin_token()) as admin:
        admin.create_namespace("tenant-a", quota_bytes=1 << 20)
        admin.create_namespace("tenant-b")
        names = {n.name: n for n in admin.list_namespaces()}
        assert names["tenant-a"].settings["quota_bytes"] == 1 << 20
        admin.set_namespace("tenant-a", quota_bytes=2 << 20)
        assert {n.name: n for n in admin.list_namespaces()}["tenant-a"].settings["quota_bytes"] == 2 << 20
        a = admin.create_token("write", "tenant-a", label="a")
        b = admin.create_token("read", "tenant-b")
        assert a.token and a.info.namespace == "tenant-a" and a.info.role == "write"
        assert {t.id for t in admin.list_tokens()} >= {a.info.id, b.info.id}

        with ctxstore.Client(auth_server.address, token=a.token) as ca:
            assert ca.put("secret", b"of a")
            with ctxstore.Client(auth_server.address, token=b.token) as cb:
                assert cb.get("secret") is None  # another namespace's key is invisible
                with pytest.raises(ctxstore.Unauthorized):
                    cb.put("k", b"a read token cannot write")
            assert admin.revoke_token(a.info.id) is True
            with pytest.raises(ctxstore.Unauthorized):
                ca.get("secret")
        assert admin.revoke_token(a.info.id) is False
        admin.delete_namespace("tenant-b")
        assert "tenant-b" not in {n.name for n in admin.list_namespaces()}


def test_unknown_namespace_settings_are_refused(auth_server: Server) -> None:
    with ctxstore.Client(auth_server.address, token=auth_server.admin_token()) as admin:
        with pytest.raises(ctxstore.InvalidArgument, match="quota_bytes"):
            admin.create_namespace("x", quota=1)
        with pytest.raises(ctxstore.InvalidArgument, match="wrong type"):
            admin.create_namespace("x", quota_bytes="lots")


def test_a_quota_full_of_data_is_no_space(auth_server: Server) -> None:
    with ctxstore.Client(auth_server.address, token=auth_server.admin_token()) as admin:
        admin.create_namespace("small", quota_bytes=4096)
    with ctxstore.Client(auth_server.address, token=auth_server.admin_token(), namespace="small") as c:
        c.put("pinned", b"p" * 4000)
        c.pin("pinned")
        with pytest.raises(ctxstore.NoSpace):
            c.put("more", b"m" * 4000)
