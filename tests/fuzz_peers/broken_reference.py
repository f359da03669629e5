"""The reference server with one planted bug, for the tests that the server fuzzer flags it.

Usage: python broken_reference.py die|hang|garbage

* ``die``: the process exits (status 3) on the first ``tools/list``;
* ``hang``: ``prompts/list`` and ``resources/list`` are never answered;
* ``garbage``: a line that is not JSON follows every answer to ``tools/list``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from mcp_stdio import server as package  # noqa: E402
from mcp_stdio.reference import build  # noqa: E402


async def die(server, connection, event):
    os._exit(3)


async def hang(server, connection, event):
    await asyncio.sleep(3600)


async def garbage(server, connection, event):
    result = await package.Server._list_tools(server, connection, event)
    connection.outbound.send(b"this is not JSON\n")
    return result


PLANTED = {"die": {"tools/list": die}, "hang": {"prompts/list": hang, "resources/list": hang},
           "garbage": {"tools/list": garbage}}

if __name__ == "__main__":
    package._HANDLERS.update(PLANTED[sys.argv[1]])
    build().run()
