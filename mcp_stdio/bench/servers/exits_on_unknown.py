"""A strict legacy server: exits (status 1) when the first request is not initialize."""

import sys

from _common import answer_default, messages, send

first = True
for message in messages():
    if first and message.get("method") != "initialize":
        sys.stderr.write(f"expected initialize, got {message.get('method')}\n")
        sys.exit(1)
    first = False
    reply = answer_default(message)
    if reply is not None:
        send(reply)
