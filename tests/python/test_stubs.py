"""The hand-written stubs of the native module name what the module has."""

from __future__ import annotations

import ast
from pathlib import Path

import ctxstore
from ctxstore import _ctxstore


def stub_methods(cls: str) -> set[str]:
    tree = ast.parse((Path(ctxstore.__file__).parent / "_ctxstore.pyi").read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    raise AssertionError(f"no {cls} in the stubs")


def test_stubs_match_the_native_client() -> None:
    native = {n for n in dir(_ctxstore.Client) if not n.startswith("_")} | {"__init__"}
    assert stub_methods("Client") == native


def test_stubs_match_the_async_core() -> None:
    native = {n for n in dir(_ctxstore.AsyncCore) if not n.startswith("_")} | {"__init__"}
    assert stub_methods("AsyncCore") == native


def test_every_data_call_is_on_both_native_classes() -> None:
    # One definition serves both (src/python/data_calls.cc): each submit_X
    # has a Client.X, so the asyncio client cannot fall behind the other.
    submits = {n.removeprefix("submit_") for n in dir(_ctxstore.AsyncCore) if n.startswith("submit_")}
    assert submits >= {"put", "get", "get_into", "exists", "delete", "batch_put", "batch_get"}
    assert submits <= set(dir(_ctxstore.Client))


def test_the_package_is_typed() -> None:
    assert (Path(ctxstore.__file__).parent / "py.typed").exists()
    assert ctxstore.__version__
