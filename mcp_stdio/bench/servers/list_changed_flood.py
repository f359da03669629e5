"""On tools/call "flood", sends 10,000 tools/list_changed at once; answers each tools/list only after 50 ms."""

# tools/call "report" is answered, once no tools/list has arrived for 0.3 s, with how many
# tools/list requests came and how many were in flight at once, as JSON text.

import json
import os
import select
import sys
import time

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, result, send  # noqa: E402

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
HOLD = 0.05
QUIET = 0.3
held: list = []  # (time to answer, id) of tools/list requests in flight
report = None
lists = max_in_flight = 0
last_list = 0.0
buffer = b""


def text(msg_id, value):
    return result(msg_id, {"content": [{"type": "text", "text": value}]})


def handle(message):
    global report, lists, max_in_flight, last_list
    method = message.get("method")
    if method == "tools/list":
        lists += 1
        last_list = time.monotonic()
        held.append((last_list + HOLD, message["id"]))
        max_in_flight = max(max_in_flight, len(held))
    elif method == "tools/call" and message["params"]["name"] == "flood":
        notification = b'{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\n'
        send(notification * count + (json.dumps(text(message["id"], "sent")) + "\n").encode(), raw=True)
    elif method == "tools/call":
        report = message["id"]
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)


while True:
    now = time.monotonic()
    while held and held[0][0] <= now:
        send(result(held.pop(0)[1], {"tools": [{"name": "t", "inputSchema": {"type": "object"}}]}))
    if report is not None and not held and now - last_list >= QUIET:
        send(text(report, json.dumps({"tools_list_requests": lists, "max_in_flight": max_in_flight})))
        report = None
    waits = [held[0][0] - now] if held else []
    if report is not None:
        waits.append(max(0.0, last_list + QUIET - now))
    ready, _, _ = select.select([0], [], [], min(waits) if waits else None)
    if ready:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                handle(json.loads(line))
