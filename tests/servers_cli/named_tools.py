"""Offers the tools named in argv; a call answers "<server label> <tool name>" (label: argv[1])."""

import sys

from _serve import serve

label, names = sys.argv[1], sys.argv[2:]
serve({
    "tools/list": lambda m: {"tools": [{"name": name, "inputSchema": {"type": "object"}} for name in names]},
    "tools/call": lambda m: {"content": [{"type": "text", "text": f"{label} {m['params']['name']}"}]},
})
