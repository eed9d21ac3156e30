#!/usr/bin/python3
"""Code-shape check: no source file over 500 lines, no function over 70 lines.

Lists every file and function past the limits under src/ and include/ and
fails (exit 1) for those under ENFORCED, which is all of them. (ENFORCED
was narrower while the engine and the server were being split; a folder can
be taken out of it again only with a reason written next to it.)

A function's length counts every line from its signature to its closing
brace. Functions are found by matching braces in the source with comments,
strings and preprocessor lines blanked (cpp_source.strip): good enough for
this code base's style, not a C++ parser.

Usage: check_code_shape.py [REPO_ROOT]   (default: two folders up)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpp_source  # noqa: E402  (sits beside this script)

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 70
SCANNED = ["src", "include"]
# Paths (relative to the repository, prefixes) where a finding fails the
# check. The integrator widens this to ("src/", "include/").
ENFORCED: tuple[str, ...] = ("src/", "include/")


@dataclass(frozen=True)
class Finding:
    """One file or function past its limit."""

    path: str
    line: int
    what: str  # "file" or the function's name
    lines: int

    def __str__(self) -> str:
        if self.what == "file":
            return f"{self.path}: {self.lines} lines (limit {MAX_FILE_LINES})"
        return (
            f"{self.path}:{self.line}: function {self.what} is {self.lines} lines "
            f"(limit {MAX_FUNCTION_LINES})"
        )


@dataclass(frozen=True)
class Function:
    """A function definition: its name and the lines it spans (1-based)."""

    name: str
    first_line: int
    last_line: int


_TEMPLATE_PREFIX = re.compile(r"^template\s*<")
_ACCESS_LABEL = re.compile(r"^(public|private|protected)\s*:(?!:)\s*")
_LEADING_LABELS = re.compile(r"\s*(?:(?:public|private|protected)\s*:(?!:)\s*)*")
_ATTRIBUTE = re.compile(r"^\[\[.*?\]\]\s*")
_CONTAINER = re.compile(r"^((inline\s+)?namespace\b|extern\s*\"|(class|struct|union)\b)")
_FUNCTION_NAME = re.compile(
    r"((?:[A-Za-z_]\w*\s*::\s*)*"  # qualifiers: Engine::
    r"~?(?:operator\s*(?:\(\s*\)|[^\s(]+)|[A-Za-z_]\w*))"  # the name, operator()
    r"\s*\("
)
_NOT_NAMES = {"alignas", "decltype", "__attribute__", "noexcept", "requires"}


def _drop_template_prefix(head: str) -> str:
    """head without a leading `template <...>` (angle brackets balanced)."""
    if not _TEMPLATE_PREFIX.match(head):
        return head
    depth = 0
    for i, c in enumerate(head):
        if c == "<":
            depth += 1
        elif c == ">":
            depth -= 1
            if depth == 0:
                return head[i + 1 :].lstrip()
    return head


def _normalise_head(head: str) -> str:
    """A declaration head without access labels, attributes and template prefix."""
    head = head.strip()
    while True:
        before = head
        head = _ACCESS_LABEL.sub("", head)
        head = _ATTRIBUTE.sub("", head)
        head = _drop_template_prefix(head)
        if head == before:
            return head


def _classify(head: str) -> str:
    """What a `{` opens at namespace or class scope: container, function or other."""
    head = _normalise_head(head)
    if _CONTAINER.match(head) and "(" not in head:
        return "container"
    if head.startswith("enum") or head.endswith("=") or "(" not in head:
        return "other"
    return "function"


def _is_member_initializer(head: str) -> bool:
    """Whether a `{` ends a braced member initializer (`Foo() : a_{1} {`)."""
    close = head.rfind(")")
    if close == -1 or head.rstrip().endswith(")"):
        return False
    after = head[close + 1 :]
    return re.search(r"(?<!:):(?!:)", head[head.find(")") :]) is not None and not re.search(
        r"\b(const|override|final|noexcept|mutable)\s*$", after
    )


def _function_name(head: str) -> str:
    """The name a function head declares (Foo::Bar, TEST, operator==)."""
    for match in _FUNCTION_NAME.finditer(_normalise_head(head)):
        name = re.sub(r"\s+", "", match.group(1))
        if name not in _NOT_NAMES:
            return name
    return "?"


def _matching_brace(code: str, open_at: int) -> int:
    """Index of the `}` that closes the `{` at open_at (or the end of code)."""
    depth = 0
    for i in range(open_at, len(code)):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(code) - 1


def functions(code: str) -> list[Function]:
    """Function definitions of stripped source, outermost only (lambdas count
    towards the function they are in)."""
    found: list[Function] = []
    head_start = 0
    paren_depth = 0
    i = 0
    while i < len(code):
        c = code[i]
        if c in "()":
            paren_depth += 1 if c == "(" else -1
        elif c in ";}" and paren_depth == 0:
            head_start = i + 1
        elif c == "{":
            head = code[head_start:i]
            kind = _classify(head) if paren_depth == 0 else "other"
            if paren_depth > 0 or (kind == "function" and _is_member_initializer(head)):
                i = _matching_brace(code, i) + 1  # part of the head: `f(T x = {})`
                continue
            if kind == "container":
                head_start = i + 1
            else:
                end = _matching_brace(code, i)
                if kind == "function":
                    first = head_start + _LEADING_LABELS.match(head).end()
                    found.append(
                        Function(
                            name=_function_name(head),
                            first_line=code.count("\n", 0, first) + 1,
                            last_line=code.count("\n", 0, end) + 1,
                        )
                    )
                head_start = end + 1
                i = end
        i += 1
    return found


def check_file(path: Path, relative: str) -> list[Finding]:
    """The findings for one file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    findings: list[Finding] = []
    line_count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if line_count > MAX_FILE_LINES:
        findings.append(Finding(relative, 1, "file", line_count))
    for f in functions(cpp_source.strip(text)):
        length = f.last_line - f.first_line + 1
        if length > MAX_FUNCTION_LINES:
            findings.append(Finding(relative, f.first_line, f.name, length))
    return findings


def main(argv: list[str]) -> int:
    """Prints the findings; 1 when any is under ENFORCED."""
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2]
    enforced: list[Finding] = []
    reported: list[Finding] = []
    for path in cpp_source.source_files(root, SCANNED):
        relative = path.relative_to(root).as_posix()
        for finding in check_file(path, relative):
            (enforced if relative.startswith(ENFORCED) else reported).append(finding)
    if reported:
        script = Path(__file__).name
        print(f"code shape, not yet enforced ({len(reported)}; see ENFORCED in {script}):")
        for finding in reported:
            print(f"  {finding}")
    if enforced:
        print(f"code shape: {len(enforced)} finding(s) in {', '.join(ENFORCED)}:")
        for finding in enforced:
            print(f"  {finding}")
        print("split long files into one concept each and long functions into named steps")
        return 1
    print(f"code shape: ok in {', '.join(ENFORCED)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
