"""On tools/call, writes one endless line with no newline, until killed."""

from _common import answer_default, messages, send

for message in messages():
    if message.get("method") == "tools/call":
        chunk = b"y" * 65536
        while True:
            send(chunk, raw=True)
    reply = answer_default(message)
    if reply is not None:
        send(reply)
