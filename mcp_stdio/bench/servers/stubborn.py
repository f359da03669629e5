"""Ignores stdin EOF and SIGTERM, and starts a grandchild that ignores SIGTERM too."""

import os
import signal
import sys
import time

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

signal.signal(signal.SIGTERM, signal.SIG_IGN)
pid = os.fork()
if pid == 0:  # the grandchild: stays in the process group, ignores SIGTERM (inherited)
    os.close(0)
    while True:
        time.sleep(1)
sys.stderr.write(f"grandchild {pid}\n")
sys.stderr.flush()
for message in messages():
    reply = answer_default(message)
    if reply is not None:
        send(reply)
while True:  # stdin is closed: keep running regardless
    time.sleep(1)
