"""Answers tools/call with a result that is not a CallToolResult (null, a list, a string, a truthy isError...)."""

# Every tool declares an outputSchema, so that a result slipping past the shape check would
# also slip past the outputSchema check. The tool's name picks the result.

from _common import answer_default, messages, result, send

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
