"""Puts terminal escapes, C0 and C1 controls and bidi overrides in its name, its tools and its results."""

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, init_result, messages, result, send  # noqa: E402

EVIL = "a\x1b[31mred\x1b[0m\x07b\x9bc\x85d\u202eevil\u202ce\u2066f\u2069g\u200fh"

for message in messages():
    method = message.get("method")
    if method == "initialize":
        answer = init_result(message["id"])
        answer["result"].update(serverInfo={"name": EVIL, "version": "1"}, instructions=EVIL)
        send(answer)
    elif method == "tools/list":
        send(result(message["id"], {"tools": [{"name": "t" + EVIL, "description": EVIL,
                                               "inputSchema": {"type": "object"}}]}))
    elif method == "tools/call":
        send(result(message["id"], {"content": [{"type": "text", "text": EVIL}]}))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
