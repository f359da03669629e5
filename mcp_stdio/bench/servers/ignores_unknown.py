"""A legacy server that silently ignores requests it does not know (server/discover)."""

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

for message in messages():
    if message.get("method") not in ("initialize", "notifications/initialized", "ping", "tools/call", "tools/list"):
        continue
    reply = answer_default(message)
    if reply is not None:
        send(reply)
