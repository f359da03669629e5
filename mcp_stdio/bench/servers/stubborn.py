"""Ignores stdin EOF and SIGTERM, and starts a grandchild that ignores SIGTERM too."""

import os
import signal
import sys
import time

from _common import answer_default, messages, send

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
