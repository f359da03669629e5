"""Answers initialize (or server/discover) with a result whose field named in argv[1] has the wrong type."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, init_result, messages, result, send  # noqa: E402

MODE = sys.argv[1]
INIT = {
    "capabilities_string": {"capabilities": "abc"},
    "tools_capability_a_list": {"capabilities": {"tools": ["listChanged"]}},
    "server_info_string": {"serverInfo": "oops"},
    "instructions_number": {"instructions": 12},
    "version_number": {"protocolVersion": 20251125},
}
DISCOVER = {
    "discover_versions_string": {"supportedVersions": "2026-07-28"},
    "discover_capabilities_string": {"capabilities": "abc"},
}

for message in messages():
    method = message.get("method")
    if method == "initialize" and MODE in INIT:
        answer = init_result(message["id"])
        answer["result"].update(INIT[MODE])
        send(answer)
    elif method == "server/discover" and MODE in DISCOVER:
        value = {"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                 "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "bad", "version": "0"}},
                 "ttlMs": 0, "cacheScope": "public"}
        send(result(message["id"], dict(value, **DISCOVER[MODE])))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
