"""Before answering initialize, sends a ping, a roots/list request and a log notification."""

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import init_result, messages, send  # noqa: E402

replies = {}
init: dict = {}
for message in messages():
    method = message.get("method")
    if method == "initialize":
        init = message
        send({"jsonrpc": "2.0", "id": "early-ping", "method": "ping"})
        send({"jsonrpc": "2.0", "id": "early-roots", "method": "roots/list"})
        send({"jsonrpc": "2.0", "method": "notifications/message",
              "params": {"level": "info", "data": "starting"}})
    elif "method" not in message:
        replies[message["id"]] = message
        if len(replies) == 2:
            send(init_result(init["id"]))
    elif method == "tools/call":
        text = repr(sorted((k, "result" in v, v.get("error", {}).get("code")) for k, v in replies.items()))
        send({"jsonrpc": "2.0", "id": message["id"],
              "result": {"content": [{"type": "text", "text": text}]}})
    elif "id" in message:
        send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
