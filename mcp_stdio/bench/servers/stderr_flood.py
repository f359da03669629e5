"""Writes the given number of MiB (default 100) to stderr before answering initialize."""

import os
import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import serve  # noqa: E402

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 100
line = b"E" * 1023 + b"\n"
block = line * 1024  # 1 MiB
for _ in range(mib):
    view = memoryview(block)
    while view:
        view = view[os.write(2, view):]
os.write(2, b"flood done\n")
serve()
