#!/usr/bin/python3
"""Tests of the two source checks on small made-up source trees."""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_code_shape  # noqa: E402
import check_layering  # noqa: E402
import cpp_source  # noqa: E402


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Writes each relative path with its text under root."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def function_lines(body_lines: int) -> str:
    """A function definition whose signature-to-brace span is body_lines + 2."""
    return "int Long() {\n" + "  x++;\n" * body_lines + "}\n"


class LayeringTest(unittest.TestCase):
    """check_layering on single files of each layer."""

    def violations(self, files: dict[str, str]) -> list[str]:
        """Every problem check_layering finds in a tree of these files."""
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_tree(root, files)
            found: list[str] = []
            for path in cpp_source.source_files(root, ["src", "include"]):
                violations, error = check_layering.check_file(root, path)
                found.extend(str(v) for v in violations)
                if error:
                    found.append(error)
            return found

    def test_protocol_may_not_include_engine(self) -> None:
        text = '#include <x>\n#include "engine/engine.h"\n'
        found = self.violations({"src/protocol/frame.cc": text})
        self.assertEqual(len(found), 1)
        expected = 'src/protocol/frame.cc:2: protocol may not include "engine/engine.h"'
        self.assertTrue(found[0].startswith(expected), found[0])

    def test_rules_of_the_issue(self) -> None:
        bad = {
            "src/client/a.cc": '#include "server/server.h"\n',
            "src/engine/a.cc": '#include "protocol/frame.h"\n',
            "src/server/a.cc": '#include "cli/commands.h"\n',
            "src/cli/a.cc": '#include "bench/harness.h"\n',
            "src/common/a.cc": '#include "engine/arena.h"\n',
            "src/service/a.cc": '#include "server/server.h"\n',
            "src/engine/b.cc": '#include "testing/fault_device.h"\n',
            "src/engine/c.cc": '#include "support/mem_device.h"\n',
            "include/ctxstore/client.h": '#include "common/units.h"\n',
        }
        found = self.violations(bad)
        self.assertEqual(len(found), len(bad), "\n".join(found))

    def test_allowed_includes(self) -> None:
        good = {
            "src/common/a.cc": '#include "common/b.h"\n#include "ctxstore/status.h"\n',
            "src/common/b.cc": "#include <vector>\n",
            "src/service/a.cc": '#include "engine/engine.h"\n#include "protocol/frame.h"\n',
            "src/server/a.cc": '#include "service/handlers.h"\n',
            "src/bench/cli/main.cc": '#include "bench/cli/commands.h"\n',
            "src/bench/sim.cc": '#include "engine/policy.h"\n',
            "src/testing/fault_device.cc": '#include "engine/device.h"\n',
        }
        self.assertEqual(self.violations(good), [])

    def test_unknown_folder_is_reported(self) -> None:
        found = self.violations({"src/newthing/a.cc": "int x;\n"})
        self.assertEqual(len(found), 1)
        self.assertIn("src/newthing is no layer", found[0])


class CodeShapeTest(unittest.TestCase):
    """check_code_shape's function finder and its enforcement."""

    def lengths(self, text: str) -> dict[str, int]:
        """Name to length in lines of every function in text."""
        return {
            f.name: f.last_line - f.first_line + 1
            for f in check_code_shape.functions(cpp_source.strip(text))
        }

    def test_counts_signature_to_closing_brace(self) -> None:
        self.assertEqual(self.lengths(function_lines(69)), {"Long": 71})

    def test_braces_in_literals_comments_and_macros_do_not_count(self) -> None:
        text = (
            "#define OPEN {\n"
            "namespace a {\n"
            "// }\n"
            "const char* F() { return \"}}\"; }\n"
            "char G() { return '}'; }\n"
            "int H() { return 100'000; }\n"
            'const char* R() { return R"x(}})x"; }\n'
            "}  // namespace a\n"
        )
        self.assertEqual(self.lengths(text), {"F": 1, "G": 1, "H": 1, "R": 1})

    def test_members_constructors_and_lambdas(self) -> None:
        text = (
            "struct S {\n"
            " public:\n"
            "  S(int x) : a_{x}, b_(x) {\n"
            "    auto f = [&] { return a_; };\n"
            "  }\n"
            "  int Get() const { return a_; }\n"
            "  int a_{0}, b_ = 1;\n"
            "};\n"
            "enum class E { kA, kB };\n"
            "int S::Twice() const {\n"
            "  return 2;\n"
            "}\n"
        )
        self.assertEqual(self.lengths(text), {"S": 3, "Get": 1, "S::Twice": 3})

    def test_every_folder_of_src_and_include_is_enforced(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                write_tree(root, {"tests/a.cc": function_lines(80)})
                self.assertEqual(check_code_shape.main(["x", tmp]), 0)
                write_tree(root, {"src/engine/a.cc": function_lines(80)})
                self.assertEqual(check_code_shape.main(["x", tmp]), 1)
                write_tree(root, {"src/engine/a.cc": "int x;\n"})
                write_tree(root, {"include/ctxstore/a.h": "int x;\n" * 501})
                self.assertEqual(check_code_shape.main(["x", tmp]), 1)
            self.assertIn("include/ctxstore/a.h: 501 lines (limit 500)", out.getvalue())

if __name__ == "__main__":
    unittest.main()
