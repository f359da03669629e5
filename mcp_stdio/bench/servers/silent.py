"""Answers initialize but never tools/call; reports each cancellation it receives on stderr."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

for message in messages():
    method = message.get("method")
    if method == "tools/call":
        continue
    if method == "notifications/cancelled":
        params = message["params"]
        sys.stderr.write(f"cancelled {params['requestId']} {params.get('reason', '')}\n")
        sys.stderr.flush()
        continue
    reply = answer_default(message)
    if reply is not None:
        send(reply)
