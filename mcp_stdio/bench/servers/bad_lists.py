"""Answers tools/list with the malformed page named in argv[1] (tools a string, a cursor that is a number...)."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402

TOOL = {"name": "t", "inputSchema": {"type": "object"}}
PAGES = {
    "tools_a_string": {"tools": "abc"},
    "tools_items_strings": {"tools": ["a", "b"]},
    "cursor_a_number": {"tools": [TOOL], "nextCursor": 5},
    "cursor_an_object": {"tools": [TOOL], "nextCursor": {"page": 2}},
    "tool_name_a_number": {"tools": [dict(TOOL, name=42)]},
    # raw JSON: a number no float can hold, in an outputSchema
    "schema_1e999": b'{"tools": [{"name": "t", "inputSchema": {"type": "object"}, '
                    b'"outputSchema": {"type": "object", "properties": {"v": {"multipleOf": 1e999}}}}]}',
}
page = PAGES[sys.argv[1]]

for message in messages():
    if message.get("method") == "tools/list":
        if isinstance(page, bytes):
            send(b'{"jsonrpc": "2.0", "id": %d, "result": %s}\n' % (message["id"], page), raw=True)
        else:
            send(result(message["id"], page))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
