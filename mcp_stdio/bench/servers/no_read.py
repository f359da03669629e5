"""Answers initialize, then never reads stdin again (the pipe fills) and never exits on its own."""

import time

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import init_result, messages, send  # noqa: E402

for message in messages():
    if message.get("method") == "initialize":
        send(init_result(message["id"]))
        break
while True:
    time.sleep(1)
