"""Tier 2 helpers: a client whose "server" is a coroutine in the same event loop.

The in-memory transport has the interface of mcp_stdio.transport.ChildTransport (a bounded
outbound queue included), so the client runs unchanged; a scripted peer reads what the
client writes and answers whatever, whenever it likes, or stalls.
"""

from __future__ import annotations

import asyncio
import json

from mcp_stdio.client import Client


class Peer:
    """The server side of the link, handed to the scripted peer coroutine."""

    def __init__(self, transport: MemoryTransport) -> None:
        self._transport = transport
        self.received: list[dict] = []

    async def receive(self) -> dict:
        """Return the next message the client wrote (waits for it)."""
        data = await self._transport.queue.get()
        message = json.loads(data)
        self.received.append(message)
        return message

    async def receive_method(self, method: str) -> dict:
        """Skip messages until one with ``method`` arrives, and return it."""
        while True:
            message = await self.receive()
            if message.get("method") == method:
                return message

    def send(self, message: dict | bytes) -> None:
        """Deliver a message (or raw bytes) to the client."""
        data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
        self._transport.on_data(data)

    def answer(self, request: dict, result: object) -> None:
        self.send({"jsonrpc": "2.0", "id": request["id"], "result": result})

    async def handshake(self, version: str = "2025-11-25") -> dict:
        """Answer initialize and wait for notifications/initialized."""
        request = await self.receive_method("initialize")
        self.answer(request, {"protocolVersion": version, "capabilities": {"tools": {}},
                              "serverInfo": {"name": "memory", "version": "0"}})
        await self.receive_method("notifications/initialized")
        return request

    def exit(self, returncode: int = 0) -> None:
        """End the connection as if the process had exited."""
        self._transport.exit(returncode)


class MemoryTransport:
    """An in-memory stand-in for ChildTransport."""

    script = None  # set per test: async def script(peer: Peer) -> None

    def __init__(self, command, on_data, on_lost, *, queue_size=100, **_options) -> None:
        self.command = command
        self.on_data = on_data
        self._on_lost = on_lost
        self.queue: asyncio.Queue = asyncio.Queue(queue_size)
        self.peer = Peer(self)
        self.pid = 4242
        self.returncode = None
        self.stderr_tail = ()
        self.connected = False
        self._task = None
        self.stopped = False

    async def start(self) -> None:
        self.connected = True
        self._task = asyncio.get_running_loop().create_task(type(self).script(self.peer))

    def send_nowait(self, data: bytes) -> bool:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            return False
        return True

    async def put(self, data: bytes) -> None:
        await self.queue.put(data)

    async def send(self, data: bytes) -> bool:
        if not self.connected:
            return False
        await self.queue.put(data)
        return True

    def exit(self, returncode: int) -> None:
        if self.connected:
            self.connected = False
            self.returncode = returncode
            self._on_lost(returncode)

    async def stop(self, flush_timeout, exit_timeout, terminate_timeout) -> None:
        self.stopped = True
        self.abort()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def abort(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.exit(0)


def memory_client(script, **options) -> Client:
    """Return a client whose server is ``script`` (an ``async def script(peer)``)."""
    transport_class = type("ScriptedTransport", (MemoryTransport,), {"script": staticmethod(script)})
    client_class = type("MemoryClient", (Client,), {"_transport_class": transport_class})
    options.setdefault("protocol", "handshake")
    return client_class(["memory"], **options)
