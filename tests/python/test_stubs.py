"""The hand-written stubs of the native module name what the module has."""

from __future__ import annotations

import ast
from pathlib import Path

import ctxstore
from ctxstore import _ctxstore


def stub_methods() -> set[str]:
    tree = ast.parse((Path(ctxstore.__file__).parent / "_ctxstore.pyi").read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Client":
            return {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    raise AssertionError("no Client in the stubs")


def test_stubs_match_the_native_client() -> None:
    native = {n for n in dir(_ctxstore.Client) if not n.startswith("_")} | {"__init__"}
    assert stub_methods() == native


def test_the_package_is_typed() -> None:
    assert (Path(ctxstore.__file__).parent / "py.typed").exists()
    assert ctxstore.__version__
