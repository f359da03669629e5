"""Writes numbered lines on stderr at start and for each request, then behaves."""

import sys

from _common import answer_default, messages, send

for i in range(50):
    sys.stderr.write(f"log line {i}\n")
sys.stderr.flush()
for message in messages():
    reply = answer_default(message)
    if reply is not None:
        send(reply)
