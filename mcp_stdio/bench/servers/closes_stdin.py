"""On the first tools/call, closes its stdin and stays alive without answering (it reads no more requests)."""

import os
import sys
import time

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

for message in messages():
    if message.get("method") == "tools/call":
        os.close(0)
        sys.stderr.write("stdin closed\n")
        sys.stderr.flush()
        while True:
            time.sleep(60)
    reply = answer_default(message)
    if reply is not None:
        send(reply)
