"""Answers each tools/call behind two answers whose ids int() rejects ("²", 5,000 digits), in one chunk."""

import json

from _common import answer_default, messages, result, send

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
