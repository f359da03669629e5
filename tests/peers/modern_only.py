"""A 2026-07-28-only server: refuses initialize with -32022 naming its versions, serves discover and tools."""

import json
import sys

META_INFO = {"io.modelcontextprotocol/serverInfo": {"name": "modern-only", "version": "1"}}


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    if not line.strip():
        continue
    message = json.loads(line)
    if "id" not in message or "method" not in message:
        continue
    method, msg_id = message["method"], message["id"]
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": msg_id, "error": {
            "code": -32022, "message": "this server speaks 2026-07-28 only",
            "data": {"supported": ["2026-07-28"], "requested": message["params"].get("protocolVersion")}}})
    elif method == "server/discover":
        send({"jsonrpc": "2.0", "id": msg_id, "result": {
            "resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
            "ttlMs": 0, "cacheScope": "public", "_meta": META_INFO}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": msg_id, "result": {
            "resultType": "complete", "tools": [{"name": "t", "inputSchema": {"type": "object"}}],
            "ttlMs": 0, "cacheScope": "public"}})
    else:
        send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32601, "message": f"Method not found: {method}"}})
