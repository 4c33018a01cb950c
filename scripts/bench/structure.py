#!/usr/bin/env python3
"""The shape of the code, read with `ast` (nothing imported or run): the longest functions, and the
slotfill modules each given module imports.

    python scripts/bench/structure.py [--source CHECKOUT] [--longest 10] [MODULE_FILE ...]

MODULE_FILE (default: slotfill/training/run_state.py) is a path below SOURCE (default: this
checkout), so an earlier commit's worktree can be measured the same way. Prints JSON: the
`--longest` functions outside slotfill/cli/ and inside it (lines, file:line, name), and for each
module its lines and the slotfill modules and packages its imports reach (anywhere in the file).
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path


def functions(root: Path) -> list[tuple[int, str]]:
    """(lines, "path:line name") of every function below root/slotfill, longest first."""
    found = []
    for path in sorted((root / "slotfill").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                found.append((lines, f"{path.relative_to(root)}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def imports(path: Path) -> dict[str, object]:
    """The slotfill modules and packages `path` imports, and its length."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("slotfill"):
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names if alias.name.startswith("slotfill")}
    packages = {".".join(module.split(".")[:2]) for module in modules}
    return {
        "lines": len(path.read_text(encoding="utf-8").splitlines()),
        "modules": len(modules),
        "packages": len(packages),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--longest", type=int, default=10)
    parser.add_argument("modules", nargs="*", default=["slotfill/training/run_state.py"])
    args = parser.parse_args()
    ranked = functions(args.source)
    outside = [f"{n} {where}" for n, where in ranked if not where.startswith("slotfill/cli/")]
    inside = [f"{n} {where}" for n, where in ranked if where.startswith("slotfill/cli/")]
    shown = {
        "longest outside cli/": outside[: args.longest],
        "longest in cli/": inside[: args.longest],
        "imports": {module: imports(args.source / module) for module in args.modules},
    }
    print(json.dumps(shown, indent=1))


if __name__ == "__main__":
    main()
