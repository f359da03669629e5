"""Answers each tools/call with the list of every tools/call params it has received, as JSON text."""

import json

from _common import answer_default, messages, result, send

received = []

for message in messages():
    if message.get("method") == "tools/call":
        received.append(message.get("params"))
        send(result(message["id"], {"content": [{"type": "text", "text": json.dumps(received)}]}))
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
