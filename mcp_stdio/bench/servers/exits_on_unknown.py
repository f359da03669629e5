"""A strict legacy server: exits (status 1) when the first request is not initialize."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

first = True
for message in messages():
    if first and message.get("method") != "initialize":
        sys.stderr.write(f"expected initialize, got {message.get('method')}\n")
        sys.exit(1)
    first = False
    reply = answer_default(message)
    if reply is not None:
        send(reply)
