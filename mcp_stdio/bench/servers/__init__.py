"""The misbehaving servers of the fault matrix: one misbehaviour per file, each a script.

The bench (``faults``) and the tests run them as ``python FILE``, never import them:
importing one would start it on this process's stdin. ``_common`` is their shared loop:
each script puts the folder that holds ``mcp_stdio`` on its path and imports
``mcp_stdio.bench.servers._common``, so every import is the standard library's or the
package's own. :data:`SERVERS` is this folder,
wherever the package lives (checkout, wheel or vendored copy).
"""

from __future__ import annotations

from pathlib import Path

SERVERS = Path(__file__).resolve().parent


def command(name: str, *args: str, python: str | None = None) -> list[str]:
    """Return the argv that runs the server ``name`` (a file of this folder, without ``.py``).

    Args:
        name: the server's file name without ``.py``, e.g. ``"exit_early"``.
        args: its arguments.
        python: the interpreter and its options (default: this one, ``sys.executable``).
    """
    import sys

    return [python or sys.executable, str(SERVERS / f"{name}.py"), *args]
