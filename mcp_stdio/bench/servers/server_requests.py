"""On the first tools/call, sends a ping, an unknown request and many notifications, then answers."""

# N notifications (the argument, default 100000); the call's answer says what the client replied.

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
pending_call = None
replies = {}
for message in messages():
    method = message.get("method")
    if method == "tools/call":
        pending_call = message["id"]
        send({"jsonrpc": "2.0", "id": "s-ping", "method": "ping"})
        send({"jsonrpc": "2.0", "id": "s-unknown", "method": "sampling/unheardOf", "params": {}})
        burst = b"".join(
            b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":%d}}\n' % i
            for i in range(count))
        send(burst, raw=True)
    elif "method" not in message and message.get("id") in ("s-ping", "s-unknown"):
        replies[message["id"]] = message.get("result", message.get("error"))
        if len(replies) == 2:
            text = repr(sorted(replies.items()))
            send({"jsonrpc": "2.0", "id": pending_call,
                  "result": {"content": [{"type": "text", "text": text}]}})
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
