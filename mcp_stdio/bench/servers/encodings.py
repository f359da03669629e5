"""Answers with every legal oddity of encoding and framing, and invalid UTF-8 lines between."""

# A UTF-8 BOM, CRLF line ends, blank lines, U+2028 and U+0085 inside strings, invalid UTF-8
# lines between messages, and answers split into one-byte writes with pauses.

import json
import time

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, send  # noqa: E402

first = True
for message in messages():
    reply = answer_default(message)
    if reply is None:
        continue
    if message.get("method") == "tools/call":
        text = message["params"]["arguments"]["text"]
        reply["result"]["content"][0]["text"] = text + "\u2028\u0085\u2029 done"
        data = json.dumps(reply, ensure_ascii=False).encode()
        send(b"\xff\xfe not utf-8 \xc3\x28\n", raw=True)  # skipped, reported
        send(b"\n\r\n\n", raw=True)  # blank lines
        mode = text
        if mode == "split":
            for i in range(len(data)):
                send(data[i:i + 1], raw=True)
                if i % 10 == 0:
                    time.sleep(0.001)
            send(b"\r\n", raw=True)
        else:
            send(data + b"\r\n", raw=True)
    else:
        data = json.dumps(reply).encode()
        send((b"\xef\xbb\xbf" if first else b"") + data + b"\r\n", raw=True)
        first = False
