"""Forks a background child that keeps running after the server itself exits on EOF."""

import os
import sys
import time

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import serve  # noqa: E402

pid = os.fork()
if pid == 0:
    os.close(0)
    os.close(1)
    while True:
        time.sleep(1)
sys.stderr.write(f"background {pid}\n")
sys.stderr.flush()
serve()
