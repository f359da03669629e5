"""Answers each tools/call with the list of every tools/call params it has received, as JSON text."""

import json

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402

received = []

for message in messages():
    if message.get("method") == "tools/call":
        received.append(message.get("params"))
        send(result(message["id"], {"content": [{"type": "text", "text": json.dumps(received)}]}))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
