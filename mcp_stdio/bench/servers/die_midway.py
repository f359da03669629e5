"""Answers initialize, then dies (status 7) on the fifth tools/call, leaving the rest unanswered."""

import os
import sys

from _common import answer_default, messages, send

calls = 0
for message in messages():
    if message.get("method") == "tools/call":
        calls += 1
        if calls == 5:
            sys.stderr.write("crashing on purpose\n")
            sys.stderr.flush()
            os._exit(7)
        continue  # never answer calls: they are all pending when it dies
    reply = answer_default(message)
    if reply is not None:
        send(reply)
