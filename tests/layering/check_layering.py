#!/usr/bin/python3
"""Layering check: each folder of src/ includes only the layers below it.

The layers (docs/architecture.md), lowest first:

  public    include/ctxstore/: the public C++ API
  common    status, sizes and durations, hashing: used by every layer
  protocol  pure frame and message codec, shared by server and client
  engine    the store itself: DRAM arena, flash log, index, recovery
  service   request handlers over the engine, without sockets
  server    sockets and sessions over the service layer and the engine
  client    the client library over the codec
  python    the Python package's native module over the client library
  cli       the ctxstore binary (server and client commands)
  bench     the ctxstore-bench binary (harness and cache simulator)
  testing   test doubles (src/testing/, tests/support/): tests only

A product file (under src/ or include/) that includes a header of a layer
it may not use fails the check with its file and line. A folder of src/ that
is not in LAYERS fails too, so that a new layer is placed on purpose. Tests,
fuzzers and tools are not checked: they may include anything.

Usage: check_layering.py [REPO_ROOT]   (default: two folders up)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpp_source  # noqa: E402  (sits beside this script)

# What each layer may include (besides itself). Keep in step with the
# include roots in CMakeLists.txt (ctxstore_library), which make the build
# refuse the same includes.
LAYERS: dict[str, frozenset[str]] = {
    "public": frozenset(),
    "common": frozenset({"public"}),
    "protocol": frozenset({"common", "public"}),
    "engine": frozenset({"common", "public"}),
    "service": frozenset({"engine", "protocol", "common", "public"}),
    "server": frozenset({"service", "engine", "protocol", "common", "public"}),
    "client": frozenset({"protocol", "common", "public"}),
    "python": frozenset({"client", "common", "public"}),
    "cli": frozenset({"server", "service", "engine", "protocol", "client", "common", "public"}),
    "bench": frozenset({"engine", "protocol", "client", "common", "public"}),
    "testing": frozenset({"server", "service", "engine", "protocol", "client", "common", "public"}),
}

# The first folder of an include path, to its layer. Paths that start with
# anything else (system and third-party headers) are not the check's business.
INCLUDE_PREFIXES: dict[str, str] = {
    "ctxstore": "public",
    "support": "testing",
    "tests": "testing",
    **{layer: layer for layer in LAYERS if layer != "public"},
}


@dataclass(frozen=True)
class Violation:
    """One include that crosses the layering."""

    path: str
    line: int
    layer: str
    included: str
    included_layer: str

    def __str__(self) -> str:
        allowed = ", ".join(sorted(LAYERS[self.layer] | {self.layer}))
        return (
            f'{self.path}:{self.line}: {self.layer} may not include "{self.included}" '
            f"({self.included_layer}); {self.layer} may include: {allowed}"
        )


def layer_of_file(relative: str) -> str | None:
    """The layer a product file belongs to; None when its folder is unknown."""
    parts = relative.split("/")
    if parts[0] == "include":
        return "public"
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else None


def check_file(root: Path, path: Path) -> tuple[list[Violation], str | None]:
    """The file's bad includes, and an error when its folder is no layer."""
    relative = path.relative_to(root).as_posix()
    layer = layer_of_file(relative)
    if layer is None:
        folder = "src/" + relative.split("/")[1]
        return [], f"{relative}: {folder} is no layer: add it to LAYERS in {Path(__file__).name}"
    violations: list[Violation] = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for include in cpp_source.includes(text):
        included_layer = INCLUDE_PREFIXES.get(include.path.split("/")[0])
        if included_layer is None or included_layer == layer:
            continue
        if included_layer not in LAYERS[layer]:
            violations.append(
                Violation(relative, include.line, layer, include.path, included_layer)
            )
    return violations, None


def main(argv: list[str]) -> int:
    """Prints every violation; 1 when there is any."""
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2]
    problems: list[str] = []
    files = cpp_source.source_files(root, ["src", "include"])
    for path in files:
        violations, error = check_file(root, path)
        problems.extend(str(v) for v in violations)
        if error:
            problems.append(error)
    if not files:
        problems.append(f"no sources under {root}/src")
    for problem in problems:
        print(problem)
    if problems:
        script = Path(__file__).name
        print(f"layering: {len(problems)} problem(s); the layers are described in {script}")
        return 1
    print(f"layering: ok ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
