"""Writes numbered lines on stderr at start and for each request, then behaves."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

for i in range(50):
    sys.stderr.write(f"log line {i}\n")
sys.stderr.flush()
for message in messages():
    reply = answer_default(message)
    if reply is not None:
        send(reply)
