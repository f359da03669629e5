"""Lists one tool per hostile outputSchema ($ref loops, 900 levels, bad regex, multipleOf 0...) and answers each."""

# A call returns structuredContent {"value": V}, V given with the schema. "tenths" checks
# that 0.3 counts as a multiple of 0.1 (a float remainder is not exactly 0).

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402


def deep(levels):
    schema = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


DEFS = {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}
TOOLS = {
    "ref_self": ({"$ref": "#/properties/value"}, 1),
    "ref_loop": ({"$ref": "#/$defs/a"}, 1),
    "deep": (deep(900), 1),
    "bad_regex": ({"type": "string", "pattern": "(unclosed"}, "x"),
    "multiple_of_zero": ({"type": "number", "multipleOf": 0}, 1),
    "huge_integer": ({"type": "number", "multipleOf": 0.1}, 10 ** 400),
    "huge_step": ({"type": "number", "multipleOf": 10 ** 400}, 0.5),
    "min_length_a_string": ({"type": "string", "minLength": "3"}, "x"),
    "required_a_string": ({"type": "object", "required": "a"}, {}),
    "properties_a_list": ({"type": "object", "properties": ["a"]}, {}),
    "tenths": ({"type": "number", "multipleOf": 0.1}, 0.3),
}

for message in messages():
    method = message.get("method")
    if method == "tools/list":
        send(result(message["id"], {"tools": [
            {"name": name, "inputSchema": {"type": "object"},
             "outputSchema": {"type": "object", "properties": {"value": schema}, "required": ["value"], "$defs": DEFS}}
            for name, (schema, _) in TOOLS.items()]}))
    elif method == "tools/call":
        value = TOOLS[message["params"]["name"]][1]
        send(result(message["id"], {"content": [], "structuredContent": {"value": value}}))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
