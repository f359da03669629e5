"""Answers tools/call with an unknown id, a string id, a boolean id, a duplicate, and one call late."""

# In order: an unknown id, the id as a string, a boolean id, then the right answer twice (a
# duplicate); then it ignores one call entirely and answers it late, after the cancellation.

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402

held = None
for message in messages():
    method = message.get("method")
    if method == "tools/call":
        text = message["params"]["arguments"]["text"]
        if text == "hold":
            held = message
            continue
        msg_id = message["id"]
        good = result(msg_id, {"content": [{"type": "text", "text": text}]})
        send(result(99999, {"content": [{"type": "text", "text": "unknown id"}]}))
        send(result(str(msg_id), {"content": [{"type": "text", "text": "string id"}]}))
        send({"jsonrpc": "2.0", "id": True, "result": {}})
        send(good)
        send(result(msg_id, {"content": [{"type": "text", "text": "duplicate"}]}))
    elif method == "notifications/cancelled" and held is not None:
        send(result(held["id"], {"content": [{"type": "text", "text": "late"}]}))
        held = None
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
