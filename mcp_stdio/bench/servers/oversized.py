"""Answers tools/call with one line of the size given as its argument (default 2 MiB)."""

import sys

from _common import answer_default, messages, send

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
