"""Prints a banner, log lines and half-JSON on stdout around its (correct) answers."""

import sys

from _common import answer_default, messages, send

send(b"Welcome to the Banner Server v1.0\n", raw=True)
send(b"[INFO] listening on stdio\n", raw=True)
for message in messages():
    send(b'{"jsonrpc": "2.0", "id": \n', raw=True)  # half a message, then a newline
    send(b"DEBUG: got a message\n", raw=True)
    reply = answer_default(message)
    if reply is not None:
        send(reply)
    sys.stdout.flush()
