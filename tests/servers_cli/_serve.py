"""A tiny blocking MCP server loop (stdlib only) for the command line's scripted servers.

Each server in this folder imports it and changes one behaviour. Handshake era only: the
probe (server/discover) gets -32601, as a 2025-11-25 server answers it.
"""

import json
import os
import sys


def send(message):
    data = (json.dumps(message) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(sys.stdout.fileno(), view):]


def result(msg_id, value):
    return {"jsonrpc": "2.0", "id": msg_id, "result": value}


def not_found(msg_id, method):
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32601, "message": f"Method not found: {method}"}}


def init_result(msg_id, server_info=None, instructions=None, capabilities=None):
    value = {"protocolVersion": "2025-11-25",
             "capabilities": {"tools": {}} if capabilities is None else capabilities,
             "serverInfo": {"name": "scripted", "version": "0"} if server_info is None else server_info}
    if instructions is not None:
        value["instructions"] = instructions
    return result(msg_id, value)


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


def serve(answers, init=init_result):
    """Answer initialize with ``init(id)``, each method in ``answers`` with ``answers[method](message)``."""
    for message in messages():
        method, msg_id = message.get("method"), message.get("id")
        if msg_id is None or method is None:
            continue
        if method == "initialize":
            send(init(msg_id))
        elif method == "ping":
            send(result(msg_id, {}))
        elif method in answers:
            reply = answers[method](message)
            if reply is not None:
                send(result(msg_id, reply))
        else:
            send(not_found(msg_id, method))
