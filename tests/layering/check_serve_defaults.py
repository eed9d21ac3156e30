#!/usr/bin/python3
"""The README's table of `ctxstore serve` options shows the binary's defaults.

`ctxstore serve --help` prints each default from the options structs that
define it (src/cli/serve_flags.cc); the README's Configuration table is the
one other place that states them. This check fails when a default in the
table (a `literal` or a number) differs from the help, or when an option
with a default has no row, so that a changed default cannot leave the docs
behind.

Usage: check_serve_defaults.py CTXSTORE_BINARY README
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

_HELP_DEFAULT = re.compile(r"^\s+(--[a-z][a-z-]*) [A-Z]+(?: \.\.\.)?=(\S+)")
_TABLE_ROW = re.compile(r"^\|\s*`(--[a-z][^|]*)\|([^|]*)\|")
_LITERAL = re.compile(r"^`([^`]+)`$|^(\d+)$")


def help_defaults(binary: str) -> dict[str, str]:
    """Option to default, as `ctxstore serve --help` prints them."""
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True)
    found: dict[str, str] = {}
    for line in out.stdout.splitlines():
        match = _HELP_DEFAULT.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def readme_defaults(readme: Path) -> dict[str, str | None]:
    """Option to the default its table row states literally (None: in words)."""
    found: dict[str, str | None] = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        row = _TABLE_ROW.match(line)
        if not row:
            continue
        literal = _LITERAL.match(row.group(2).strip())
        default = (literal.group(1) or literal.group(2)) if literal else None
        for option in re.findall(r"--[a-z][a-z-]*", row.group(1)):
            found[option] = default
    return found


def main(argv: list[str]) -> int:
    """Prints every difference; 1 when there is any."""
    if len(argv) != 3:
        print(__doc__)
        return 2
    helped = help_defaults(argv[1])
    documented = readme_defaults(Path(argv[2]))
    problems: list[str] = []
    for option, default in helped.items():
        if option not in documented:
            problems.append(f"{argv[2]}: no row for {option} (default {default})")
        elif documented[option] is not None and documented[option] != default:
            problems.append(
                f"{argv[2]}: {option} says {documented[option]}, serve --help says {default}"
            )
    for problem in problems:
        print(problem)
    if not helped:
        problems.append("no defaults in `serve --help`")
        print(problems[-1])
    print(f"serve defaults: {'ok' if not problems else f'{len(problems)} difference(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
