"""Never answers tools/call; appends every message it receives (after its pid) to the file in argv[1]."""

import json
import os
import sys

from _serve import init_result, messages, not_found, result, send

with open(sys.argv[1], "a", encoding="utf-8") as log:
    log.write(json.dumps({"pid": os.getpid()}) + "\n")
    log.flush()
    for message in messages():
        log.write(json.dumps(message) + "\n")
        log.flush()
        method, msg_id = message.get("method"), message.get("id")
        if msg_id is None or method == "tools/call":
            continue
        if method == "initialize":
            send(init_result(msg_id))
        elif method == "tools/list":
            send(result(msg_id, {"tools": [{"name": "wait", "inputSchema": {"type": "object"}}]}))
        else:
            send(not_found(msg_id, method))
