"""Answers initialize with its environment and working directory in serverInfo."""

import json
import os

from _common import messages, result, send

for message in messages():
    if message.get("method") == "initialize":
        send(result(message["id"], {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "serverInfo": {"name": "env", "version": "0"},
            "instructions": json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}),
        }))
