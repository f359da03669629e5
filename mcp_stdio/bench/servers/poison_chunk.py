"""Writes one malformed message and the answer to a pending call in the same chunk (argv[1] picks the message)."""

# Modes (each once broke the reader and lost the answer written beside it):
#   progress   notifications/progress whose progressToken is a list (not hashable)
#   cancelled  notifications/cancelled whose requestId is an object (not hashable)
#   task       sampling/createMessage whose params.task is 1 (truthy, not an object)
#   meta       (2026-07-28, with a listen subscription open) a list_changed whose _meta is a string
# After the chunk, a tools/call "report" answers with what the client replied to the
# malformed request (task mode), as JSON text.

import json
import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, init_result, messages, result, send  # noqa: E402

MODE = sys.argv[1]
MODERN = "2026-07-28"
SERVER_INFO = {"io.modelcontextprotocol/serverInfo": {"name": "poison", "version": "0"}}
replies = {}


def text(msg_id, value):
    content = {"content": [{"type": "text", "text": value}]}
    if MODE == "meta":
        content.update(resultType="complete", _meta=SERVER_INFO)
    return result(msg_id, content)


def line(message):
    return (json.dumps(message) + "\n").encode()


for message in messages():
    method = message.get("method")
    params = message.get("params") or {}
    if method is None:
        replies[message.get("id")] = message  # the client's answer to our request
    elif method == "initialize":
        value = init_result(message["id"])
        value["result"]["capabilities"] = {"tools": {"listChanged": True}}
        send(value)
    elif method == "server/discover" and MODE == "meta":
        send(result(message["id"], {"resultType": "complete", "supportedVersions": [MODERN],
                                    "capabilities": {"tools": {"listChanged": True}}, "_meta": SERVER_INFO,
                                    "ttlMs": 0, "cacheScope": "public"}))
    elif method == "subscriptions/listen":
        send({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
              "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": message["id"]},
                         "notifications": params.get("notifications", {})}})
    elif method == "tools/call" and params.get("name") == "report":
        send(text(message["id"], json.dumps(replies.get("poison"))))
    elif method == "tools/call":
        token = (params.get("_meta") or {}).get("progressToken")
        poison = {
            "progress": {"jsonrpc": "2.0", "method": "notifications/progress",
                         "params": {"progressToken": [token], "progress": 1}},
            "cancelled": {"jsonrpc": "2.0", "method": "notifications/cancelled",
                          "params": {"requestId": {"id": message["id"]}, "reason": "poison"}},
            "task": {"jsonrpc": "2.0", "id": "poison", "method": "sampling/createMessage",
                     "params": {"messages": [], "maxTokens": 1, "task": 1}},
            "meta": {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": "poison"}},
        }[MODE]
        chunk = line(poison)
        if token is not None:  # a well-formed progress after the poison: it must still arrive
            chunk += line({"jsonrpc": "2.0", "method": "notifications/progress",
                           "params": {"progressToken": token, "progress": 1, "total": 2}})
        send(chunk + line(text(message["id"], "answer")), raw=True)
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
