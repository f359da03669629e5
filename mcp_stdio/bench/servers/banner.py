"""Prints a banner, log lines and half-JSON on stdout around its (correct) answers."""

import sys

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

send(b"Welcome to the Banner Server v1.0\n", raw=True)
send(b"[INFO] listening on stdio\n", raw=True)
for message in messages():
    send(b'{"jsonrpc": "2.0", "id": \n', raw=True)  # half a message, then a newline
    send(b"DEBUG: got a message\n", raw=True)
    reply = answer_default(message)
    if reply is not None:
        send(reply)
    sys.stdout.flush()
