"""On the first tools/call, floods the client with blocking requests and pings, then reports their answers."""

# argv: pings (default 100000), blocking requests (default 2000). The blocking requests use
# the method "test/block", which the test's handler holds until the client closes. The call
# is answered, as JSON text, once every ping got its answer: by then the client has also
# answered (refused) every blocking request it could not take, since it reads in order.

import json
import sys
import threading

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import answer_default, messages, result, send  # noqa: E402

pings = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
blocking = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
call = None
answered = 0
block_answers: dict = {}


def flood():
    # From a thread: the main loop keeps reading the client's answers meanwhile, so that
    # neither side blocks on a full pipe.
    send(b"".join(b'{"jsonrpc":"2.0","id":"b%d","method":"test/block","params":{}}\n' % i
                  for i in range(blocking)), raw=True)
    for start in range(0, pings, 10_000):
        send(b"".join(b'{"jsonrpc":"2.0","id":"p%d","method":"ping"}\n' % i
                      for i in range(start, min(pings, start + 10_000))), raw=True)


for message in messages():
    method = message.get("method")
    if method == "tools/call" and call is None:
        call = message["id"]
        threading.Thread(target=flood, daemon=True).start()
    elif method is None and str(message.get("id")).startswith("p"):
        answered += "result" in message
        if answered == pings:
            errors: dict = {}
            for answer in block_answers.values():
                error = answer.get("error") or {}
                key = f"{error.get('code')} {error.get('message')}"
                errors[key] = errors.get(key, 0) + 1
            send(result(call, {"content": [{"type": "text", "text": json.dumps(
                {"pings_answered": answered, "blocking_answered": len(block_answers), "errors": errors})}]}))
    elif method is None:
        block_answers[message.get("id")] = message
    else:
        reply = answer_default(message)
        if reply is not None:
            send(reply)
