"""Lists the tools named in argv[2:]; a call answers "<argv[1]> <tool name>" (to see which server took it)."""

import sys

from _common import answer_default, messages, result, send

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
