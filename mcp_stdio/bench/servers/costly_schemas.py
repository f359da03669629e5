"""Lists tools whose outputSchema costs exponential or quadratic time to check naively, and answers them."""

# backtrack: "pattern": "^(a+)+$" against "a" * 28 + "!" (14.8 s of backtracking in re)
# unique:    "uniqueItems" over 20,000 distinct objects (quadratic: 72 s)
# anyof:     anyOf with two recursive branches against a 60-deep array (2 ** 60 paths)
# fine:      the same anyOf schema against a 4-deep array of integers (valid, quick)
# unchecked: the value of "unique" from a tool without an outputSchema (what parsing costs)

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402


def nested(levels, inner):
    for _ in range(levels):
        inner = [inner]
    return inner


BRANCH = {"type": "array", "items": {"$ref": "#/$defs/t"}}
ANY_OF = {"$defs": {"t": {"anyOf": [BRANCH, BRANCH, {"type": "integer"}]}}}
TOOLS: dict = {
    "backtrack": ({"properties": {"value": {"type": "string", "pattern": "^(a+)+$"}}}, "a" * 28 + "!"),
    "unique": ({"properties": {"value": {"type": "array", "uniqueItems": True}}},
               [{"i": i} for i in range(20_000)]),
    "anyof": (dict(ANY_OF, properties={"value": {"$ref": "#/$defs/t"}}), nested(60, "x")),
    "fine": (dict(ANY_OF, properties={"value": {"$ref": "#/$defs/t"}}), nested(4, 1)),
}

for message in messages():
    method = message.get("method")
    if method == "tools/list":
        send(result(message["id"], {"tools": [
            {"name": name, "inputSchema": {"type": "object"}, "outputSchema": dict(schema, type="object")}
            for name, (schema, _) in TOOLS.items()] + [{"name": "unchecked", "inputSchema": {"type": "object"}}]}))
    elif method == "tools/call":
        name = message["params"]["name"]
        value = {"value": TOOLS["unique" if name == "unchecked" else name][1]}
        send(result(message["id"], {"content": [{"type": "text", "text": "see structuredContent"}],
                                    "structuredContent": value}))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
