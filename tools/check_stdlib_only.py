#!/usr/bin/env python3
"""Fail if any module of mcp_stdio/ imports something outside the standard library.

Usage: python tools/check_stdlib_only.py  (exit status 1 and a list on failure)
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
    if len(stdlib) < 2:
        print("needs Python 3.10+ (sys.stdlib_module_names)")
        return 0
    bad = []
    for path in sorted((ROOT / "mcp_stdio").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                if root not in stdlib and root != "mcp_stdio":
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {name}")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
