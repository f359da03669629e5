"""Answers tools/call with a malformed message carrying the call's id (both result and error, a bad code...)."""

# The tool's name picks the answer; the id is always the call's own, so only that call may fail.

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

ANSWERS = {
    "result_and_error": lambda i: {"jsonrpc": "2.0", "id": i, "result": {"content": []},
                                   "error": {"code": -32603, "message": "both"}},
    "code_a_string": lambda i: {"jsonrpc": "2.0", "id": i, "error": {"code": "-32603", "message": "x"}},
    "code_a_float": lambda i: {"jsonrpc": "2.0", "id": i, "error": {"code": -32603.5, "message": "x"}},
    "no_message": lambda i: {"jsonrpc": "2.0", "id": i, "error": {"code": -32603}},
    "jsonrpc_1_0": lambda i: {"jsonrpc": "1.0", "id": i, "result": {"content": []}},
    "no_jsonrpc": lambda i: {"id": i, "result": {"content": []}},
    "neither": lambda i: {"jsonrpc": "2.0", "id": i},
}

for message in messages():
    if message.get("method") == "tools/call":
        send(ANSWERS[message["params"]["name"]](message["id"]))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
