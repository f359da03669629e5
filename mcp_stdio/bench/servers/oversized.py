"""Answers tools/call with one line of the size given as its argument (default 2 MiB)."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

size = int(sys.argv[1]) if len(sys.argv) > 1 else 2 * 1024 * 1024
for message in messages():
    if message.get("method") == "tools/call":
        filler = "x" * size
        send(b'{"jsonrpc":"2.0","id":%d,"result":{"content":[{"type":"text","text":"' % message["id"]
             + filler.encode() + b'"}]}}\n', raw=True)
        continue
    reply = answer_default(message)
    if reply is not None:
        send(reply)
