"""A tiny blocking MCP server loop that each misbehaving server of this folder imports (stdlib only)."""

import json
import os
import sys


def send(message, raw=False):
    data = message if raw else (json.dumps(message) + "\n").encode()
    fd = sys.stdout.fileno()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def result(msg_id, value):
    return {"jsonrpc": "2.0", "id": msg_id, "result": value}


def init_result(msg_id, version="2025-11-25"):
    return result(msg_id, {"protocolVersion": version, "capabilities": {"tools": {}},
                           "serverInfo": {"name": "test-server", "version": "0"}})


def answer_default(message):
    """Answer like a well-behaved server: initialize, ping, echo."""
    method = message.get("method")
    if "id" not in message or method is None:
        return None
    if method == "initialize":
        return init_result(message["id"])
    if method == "tools/call":
        text = (message.get("params") or {}).get("arguments", {}).get("text", "")
        return result(message["id"], {"content": [{"type": "text", "text": text}]})
    if method == "tools/list":
        return result(message["id"], {"tools": []})
    if method == "ping":
        return result(message["id"], {})
    # A handshake-era server knows nothing else (server/discover included).
    return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": f"Method not found: {method}"}}


def messages():
    """Yield each message read from stdin until EOF."""
    buffer = b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                yield json.loads(line)


def serve(handle=answer_default):
    for message in messages():
        reply = handle(message)
        if reply is not None:
            send(reply)
