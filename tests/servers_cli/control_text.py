"""Puts terminal escapes, C0/C1 controls and bidi overrides in every text it sends."""

from _serve import init_result, serve

EVIL = "a\x1b[31mred\x1b[0m\x07b\x9bc\u202eevil\u202cd\u2066e\u2069f\u200fg\r\nh"

serve({
    "tools/list": lambda m: {"tools": [{"name": "t" + EVIL, "description": EVIL,
                                        "inputSchema": {"type": "object", "properties": {EVIL: {"type": "string"}}}}]},
    "tools/call": lambda m: {"content": [{"type": "text", "text": EVIL}]},
}, lambda msg_id: init_result(msg_id, {"name": EVIL, "version": "1"}, instructions=EVIL))
