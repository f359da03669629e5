#!/usr/bin/env python3
"""A tiny scripted MCP server fed from a seed: the client target's peer, as a real process.

Usage: python tools/mcpfuzz/scripted_server.py SEED ITERATION

It makes the plan of that iteration (tools/mcpfuzz/client_target.py) and plays the peer's
part on stdin and stdout, until stdin ends. What it finds wrong in the client's lines is
written on stderr as ``FINDING <json>`` lines, which the driver reads through the client's
``stderr_callback``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from mcpfuzz.client_peer import Peer  # noqa: E402
from mcpfuzz.client_plan import make_plan  # noqa: E402


class _StdioIO:
    """The peer's side of a real pipe: stdin read by a task, stdout written at once."""

    exact_order = False  # a pipe sits between the two: the lost-answer check cannot be exact

    def __init__(self) -> None:
        self._lines: list = []
        self._buffer = b""
        self._arrived = asyncio.Event()
        self.connected = True

    async def read(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2 ** 26)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            data = await reader.read(65536)
            if not data:
                break
            self._buffer += data
            *lines, self._buffer = self._buffer.split(b"\n")
            self._lines.extend(line for line in lines if line)
            self._arrived.set()
        self.connected = False
        self._arrived.set()

    def write(self, data: bytes) -> None:
        if not self.connected:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(1, view):]
        except (BrokenPipeError, OSError):
            self.connected = False

    def exit(self, returncode: int) -> None:
        """The plan's server exits with requests in flight: so does this process."""
        sys.stdout.flush()
        os._exit(returncode)

    def lines(self) -> list:
        lines, self._lines = self._lines, []
        return lines

    async def wait(self, timeout: float) -> None:
        if self._lines or not self.connected:
            return
        self._arrived.clear()
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout)
        except asyncio.TimeoutError:
            pass


async def main(seed: int, iteration: int) -> None:
    io = _StdioIO()
    reading = asyncio.get_running_loop().create_task(io.read())
    peer = Peer(make_plan(seed, iteration), io)

    def report(kind: str, detail: str) -> None:
        sys.stderr.write("FINDING " + json.dumps({"kind": kind, "detail": detail}) + "\n")
        sys.stderr.flush()

    peer.on_finding = report
    try:
        await peer.run()
    finally:
        reading.cancel()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
