"""Answers initialize, then dies (status 7) on the fifth tools/call, leaving the rest unanswered."""

import os
import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

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
