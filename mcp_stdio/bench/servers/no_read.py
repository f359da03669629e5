"""Answers initialize, then never reads stdin again (the pipe fills) and never exits on its own."""

import time

from _common import init_result, messages, send

for message in messages():
    if message.get("method") == "initialize":
        send(init_result(message["id"]))
        break
while True:
    time.sleep(1)
