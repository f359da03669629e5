"""Answers with the malformed result shape named in argv[1] (a tools/list, tools/call... case)."""

import sys

from _serve import init_result, serve

TOOL = {"name": "t", "inputSchema": {"type": "object"}}
CASES = {
    # tools/list
    "tools_not_objects": {"tools/list": {"tools": ["a", 1, None]}},
    "tools_a_string": {"tools/list": {"tools": "abc"}},
    "tools_missing": {"tools/list": {}},
    "tool_name_number": {"tools/list": {"tools": [{"name": 42, "inputSchema": {"type": "object"}}]}},
    "tool_description_number": {"tools/list": {"tools": [dict(TOOL, description=7)]}},
    "tool_schema_garbage": {"tools/list": {"tools": [dict(TOOL, inputSchema={"type": "object", "properties": {
        "a": 5, "b": {"type": 7}, "c": {"anyOf": "x"}, "d": {"enum": []}}, "required": "a"})]}},
    # tools/call
    "content_a_string": {"tools/call": {"content": "hello"}},
    "content_items_strings": {"tools/call": {"content": ["hello"]}},
    "text_a_number": {"tools/call": {"content": [{"type": "text", "text": 5}]}},
    "content_type_missing": {"tools/call": {"content": [{"text": "x"}]}},
    "call_result_a_list": {"tools/call": ["x"]},
    "is_error_a_string": {"tools/call": {"content": [], "isError": "yes"}},
    # other lists and results
    "resources_not_objects": {"resources/list": {"resources": [1]}},
    "contents_a_string": {"resources/read": {"contents": "x"}},
    "messages_missing": {"prompts/get": {}},
    # the handshake's own fields
    "server_info_a_string": {},
    "instructions_a_number": {},
}
case = sys.argv[1]
answers = {method: (lambda m, value=value: value) for method, value in CASES[case].items()}
capabilities = {"tools": {}, "resources": {}, "prompts": {}}


def init(msg_id):
    if case == "server_info_a_string":
        return init_result(msg_id, server_info="oops", capabilities=capabilities)
    if case == "instructions_a_number":
        return init_result(msg_id, instructions=12, capabilities=capabilities)
    return init_result(msg_id, capabilities=capabilities)


answers.setdefault("tools/list", lambda m: {"tools": [TOOL]})
serve(answers, init)
