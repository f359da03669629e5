"""Answers tools/call with NaN, Infinity, 1e999 or a lone surrogate, and reports progress that goes backwards."""

# The tool's name picks the answer, written as raw bytes (Python's json would not write some
# of them). "progress" sends progress 1, 0.5 (backwards), 1 (equal), "2" (a string), 3,
# true (not a number), then answers.

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

RAW = {
    "nan": b'{"content": [], "structuredContent": {"value": NaN}}',
    "infinity": b'{"content": [], "structuredContent": {"value": -Infinity}}',
    "overflow": b'{"content": [], "structuredContent": {"value": 1e999}}',
    "surrogate": b'{"content": [{"type": "text", "text": "a\\ud800b\\udc00c"}]}',
    "pair": b'{"content": [{"type": "text", "text": "\\ud83d\\ude00"}]}',
}
PROGRESS = (1, 0.5, 1, '"2"', 3, "true")

for message in messages():
    params = message.get("params") or {}
    if message.get("method") == "tools/call":
        msg_id = str(message["id"]).encode()
        name = params["name"]
        if name == "progress":
            token = str(params["_meta"]["progressToken"]).encode()
            for value in PROGRESS:
                send(b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":%s,'
                     b'"progress":%s,"total":3}}\n' % (token, str(value).encode()), raw=True)
            send(b'{"jsonrpc":"2.0","id":%s,"result":{"content":[]}}\n' % msg_id, raw=True)
        else:
            send(b'{"jsonrpc":"2.0","id":%s,"result":%s}\n' % (msg_id, RAW[name]), raw=True)
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
