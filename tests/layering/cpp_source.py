"""Just enough C++ lexing for the layering and code-shape checks.

Neither check needs a parser: the layering check reads #include lines, and
the code-shape check matches braces. Both go wrong on braces or quotes inside
comments, string literals and preprocessor lines, so `strip` blanks those out
while keeping every newline, so that line numbers stay right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SOURCE_SUFFIXES = (".h", ".cc", ".cpp", ".hpp")

_RAW_STRING_OPEN = re.compile(r'R"([^()\\\s]{0,16})\(')


@dataclass(frozen=True)
class Include:
    """One #include of a project header ("engine/x.h" or <engine/x.h>)."""

    line: int  # 1-based
    path: str  # as written between the quotes or angle brackets


def source_files(root: Path, folders: list[str]) -> list[Path]:
    """Every C++ source and header under the given folders of root, sorted."""
    files: list[Path] = []
    for folder in folders:
        base = root / folder
        if base.is_dir():
            files.extend(p for p in base.rglob("*") if p.suffix in SOURCE_SUFFIXES)
    return sorted(files)


_INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def includes(text: str) -> list[Include]:
    """The #include directives of a file, with their line numbers."""
    found: list[Include] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _INCLUDE.match(line)
        if match:
            found.append(Include(line=number, path=match.group(2)))
    return found


def _blank(text: str) -> str:
    """text with every character but newlines replaced by a space."""
    return "".join(c if c == "\n" else " " for c in text)


def _starts_number(text: str, quote_at: int) -> bool:
    """Whether the ' at quote_at is a digit separator (100'000), not a char literal."""
    start = quote_at
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    return start < quote_at and text[start].isdigit()


def _end_of_quoted(text: str, start: int, quote: str) -> int:
    """Index just past the literal that opens at start (a quote), escapes honoured."""
    i = start + 1
    while i < len(text) and text[i] != quote and text[i] != "\n":
        i += 2 if text[i] == "\\" else 1
    return min(i + 1, len(text))


def _end_of_preprocessor_line(text: str, start: int) -> int:
    """Index of the newline that ends a directive (backslash continuations included)."""
    i = start
    while True:
        newline = text.find("\n", i)
        if newline == -1:
            return len(text)
        if newline > 0 and text[newline - 1] == "\\":
            i = newline + 1
            continue
        return newline


def strip(text: str) -> str:
    """Blanks comments, string and char literals and preprocessor lines.

    Quotes stay, so that `extern "C"` is still recognisable; everything else
    the checks could trip on (braces, quotes, semicolons) becomes spaces.
    """
    out: list[str] = []
    i = 0
    at_line_start = True
    while i < len(text):
        c = text[i]
        if at_line_start and c == "#":
            end = _end_of_preprocessor_line(text, i)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = len(text) if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = len(text) if end == -1 else end + 2
        elif (raw := _RAW_STRING_OPEN.match(text, i)) and (i == 0 or not text[i - 1].isalnum()):
            closing = ")" + raw.group(1) + '"'
            end = text.find(closing, raw.end())
            end = len(text) if end == -1 else end + len(closing)
        elif c == '"' or (c == "'" and not _starts_number(text, i)):
            end = _end_of_quoted(text, i, c)
            out.append(c + _blank(text[i + 1 : end - 1]) + c)
            i = end
            at_line_start = False
            continue
        else:
            out.append(c)
            if c == "\n":
                at_line_start = True
            elif not c.isspace():
                at_line_start = False
            i += 1
            continue
        out.append(_blank(text[i:end]))
        i = end
    return "".join(out)
