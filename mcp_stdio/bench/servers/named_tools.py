"""Lists the tools named in argv[2:]; a call answers "<argv[1]> <tool name>" (to see which server took it)."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402

label, names = sys.argv[1], sys.argv[2:]

for message in messages():
    method = message.get("method")
    if method == "tools/list":
        send(result(message["id"], {"tools": [{"name": name, "inputSchema": {"type": "object"}} for name in names]}))
    elif method == "tools/call":
        send(result(message["id"], {"content": [{"type": "text", "text": f"{label} {message['params']['name']}"}]}))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
