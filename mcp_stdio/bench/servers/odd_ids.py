"""Answers each tools/call behind two answers whose ids int() rejects ("²", 5,000 digits), in one chunk."""

import json

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402

for message in messages():
    if message.get("method") == "tools/call":
        text = message["params"]["arguments"]["text"]
        chunk = b"".join((json.dumps(value) + "\n").encode() for value in (
            result("\u00b2", {"content": []}),
            result("7" * 5000, {"content": []}),
            result(message["id"], {"content": [{"type": "text", "text": text}]}),
        ))
        send(chunk, raw=True)
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
