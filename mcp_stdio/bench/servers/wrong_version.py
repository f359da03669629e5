"""Answers initialize with a protocol version nobody supports, then waits for EOF."""

from _common import init_result, messages, send

for message in messages():
    if message.get("method") == "initialize":
        send(init_result(message["id"], version="1999-01-01"))
