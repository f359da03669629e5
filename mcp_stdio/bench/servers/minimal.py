"""The bench's light server: a blocking stdlib loop with initialize, ping, tools/list and four tools."""

# Why it exists: the reference server runs on asyncio and takes about ten times longer to
# start than this loop, so a churn or spawn-to-ready comparison of two clients against it
# measures mostly the server. The bench uses this one where the server is not the point
# (churn and start-up ratios, the client-side memory of a held session) and says so.
#
# Options:
#   --initialize-result FILE  answer initialize with this JSON result (a recorded answer of
#                             another server, so that a client keeps exactly what it would
#                             keep for that server); the protocolVersion is negotiated anyway.
# Tools: echo(text), add(a, b), hang() (never answered), flood(count) (sends `count`
# notifications/message, then answers).
# With MCP_STDIO_SERVER_STATS set, it appends {"initialize": n, "pid": pid} to that file at
# EOF, as the reference server does, so the bench can verify its handshakes.

import json
import os
import sys

VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
TOOLS = [
    {"name": "echo", "description": "Return the text unchanged.",
     "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
    {"name": "add", "description": "Add two numbers.",
     "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                     "required": ["a", "b"]}},
    {"name": "hang", "description": "Never answer.", "inputSchema": {"type": "object"}},
    {"name": "flood", "description": "Send count notifications/message, then answer.",
     "inputSchema": {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}},
]
INITIALIZE = {"capabilities": {"tools": {}}, "serverInfo": {"name": "mcp_stdio-bench-minimal", "version": "1"}}
if "--initialize-result" in sys.argv:
    with open(sys.argv[sys.argv.index("--initialize-result") + 1], encoding="utf-8") as source:
        INITIALIZE = json.load(source)
counts = {"initialize": 0, "requests": 0}


def write(data):
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def answer(message, out):
    method = message.get("method")
    if method is None or "id" not in message:
        return None
    counts["requests"] += 1
    params = message.get("params") or {}
    if method == "initialize":
        counts["initialize"] += 1
        requested = params.get("protocolVersion")
        result = dict(INITIALIZE, protocolVersion=requested if requested in VERSIONS else VERSIONS[0])
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        arguments = params.get("arguments") or {}
        name = params.get("name")
        if name == "echo":
            text = str(arguments.get("text", ""))
        elif name == "add":
            text = str(arguments.get("a", 0) + arguments.get("b", 0))
        elif name == "flood":
            count = int(arguments.get("count", 0))
            chunk = [b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":%d}}\n' % i
                     for i in range(count)]
            write(b"".join(out) + b"".join(chunk))  # what was answered before goes first
            out.clear()
            text = str(count)
        elif name == "hang":
            return None  # never answered: the client's timeout decides
        else:
            return {"jsonrpc": "2.0", "id": message["id"],
                    "error": {"code": -32602, "message": f"Unknown tool: {name}"}}
        result = {"content": [{"type": "text", "text": text}]}
    else:
        return {"jsonrpc": "2.0", "id": message["id"],
                "error": {"code": -32601, "message": f"Method not found: {method}"}}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def main():
    buffer = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        buffer += chunk
        if b"\n" not in chunk:
            continue
        *lines, buffer = buffer.split(b"\n")
        out = []
        for line in lines:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            reply = answer(message, out) if isinstance(message, dict) else None
            if reply is not None:
                out.append(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
        if out:
            write(b"".join(out))
    path = os.environ.get("MCP_STDIO_SERVER_STATS")
    if path:
        line = json.dumps(dict(counts, pid=os.getpid())) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


main()
