"""Answers initialize but never tools/call; reports each cancellation it receives on stderr."""

import sys

from _common import answer_default, messages, send

for message in messages():
    method = message.get("method")
    if method == "tools/call":
        continue
    if method == "notifications/cancelled":
        params = message["params"]
        sys.stderr.write(f"cancelled {params['requestId']} {params.get('reason', '')}\n")
        sys.stderr.flush()
        continue
    reply = answer_default(message)
    if reply is not None:
        send(reply)
