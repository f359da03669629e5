"""Answers tools/call with a result that is not a CallToolResult (null, a list, a string, a truthy isError...)."""

# Every tool declares an outputSchema, so that a result slipping past the shape check would
# also slip past the outputSchema check. The tool's name picks the result.

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402

RESULTS = {
    "null": None,
    "array": [{"type": "text", "text": "x"}],
    "string": "abc",
    "is_error_a_string": {"content": [], "isError": "yes"},
    "is_error_one": {"content": [], "isError": 1},
    "content_a_string": {"content": "abc"},
    "valid": {"content": [], "structuredContent": {"n": 1}},
}
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}

for message in messages():
    method = message.get("method")
    if method == "tools/list":
        send(result(message["id"], {"tools": [{"name": name, "inputSchema": {"type": "object"}, "outputSchema": SCHEMA}
                                              for name in RESULTS]}))
    elif method == "tools/call":
        send(result(message["id"], RESULTS[message["params"]["name"]]))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
