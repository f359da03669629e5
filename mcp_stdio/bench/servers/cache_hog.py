"""A 2026-07-28 server whose every resources/read result asks to be cached for an hour (50 KB each)."""

# Except "short://..." URIs: cached for 100 ms, with a text that counts the reads of that URI.

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import messages, result, send  # noqa: E402

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/serverInfo": {"name": "cache-hog", "version": "0"}}
BLOCK = "x" * 50_000
reads: dict = {}

for message in messages():
    method = message.get("method")
    if "id" not in message or method is None:
        continue
    if method == "server/discover":
        send(result(message["id"], {"resultType": "complete", "supportedVersions": [MODERN],
                                    "capabilities": {"resources": {}}, "_meta": META, "ttlMs": 0,
                                    "cacheScope": "public"}))
    elif method == "resources/read":
        uri = message["params"]["uri"]
        reads[uri] = reads.get(uri, 0) + 1
        short = uri.startswith("short:")
        send(result(message["id"], {
            "contents": [{"uri": uri, "text": f"read {reads[uri]}" if short else BLOCK}],
            "ttlMs": 100 if short else 3_600_000, "cacheScope": "public", "resultType": "complete", "_meta": META}))
    else:
        send({"jsonrpc": "2.0", "id": message["id"],
              "error": {"code": -32601, "message": f"Method not found: {method}"}})
