"""On the first tools/call, closes its stdin and stays alive without answering (it reads no more requests)."""

import os
import sys
import time

from _common import answer_default, messages, send

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
