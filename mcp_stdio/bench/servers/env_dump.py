"""Answers initialize with its environment and working directory in serverInfo."""

import json
import os

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import messages, result, send  # noqa: E402

for message in messages():
    if message.get("method") == "initialize":
        send(result(message["id"], {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "serverInfo": {"name": "env", "version": "0"},
            "instructions": json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}),
        }))
