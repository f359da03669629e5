"""Tier 2 helpers: a client whose "server" is a coroutine in the same event loop.

The in-memory transport has the interface of mcp_stdio.transport.ChildTransport (the same
Outbound in front of a fake pipe), so the client runs unchanged; a scripted peer reads what
the client writes and answers whatever, whenever it likes, or stalls. A peer that stops
reading fills the fake pipe: it pauses the Outbound as a real full pipe would.
"""

from __future__ import annotations

import asyncio
import json

from mcp_stdio.client import Client
from mcp_stdio.outbound import Outbound


class Peer:
    """The server side of the link, handed to the scripted peer coroutine."""

    def __init__(self, transport: MemoryTransport) -> None:
        self._transport = transport
        self.received: list[dict] = []

    async def receive(self) -> dict:
        """Return the next message the client wrote (waits for it)."""
        pipe = self._transport.pipe
        while not pipe.lines:
            pipe.arrived = asyncio.get_running_loop().create_future()
            await pipe.arrived
        message = json.loads(pipe.lines.pop(0))
        pipe.taken()
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
        self._transport.bytes_read += len(data)
        self._transport.outbound.peer_spoke()  # as ChildTransport does for stdout data
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


class FakePipe:
    """A pipe of ``capacity`` lines: full, it pauses the Outbound until the peer reads."""

    def __init__(self, transport: MemoryTransport, capacity: int) -> None:
        self._transport = transport
        self.capacity = capacity
        self.lines: list[bytes] = []
        self.arrived: asyncio.Future | None = None
        self.paused = False

    def write(self, data: bytes) -> None:
        self.lines.extend(line for line in data.split(b"\n") if line)
        if self.arrived is not None and not self.arrived.done():
            self.arrived.set_result(None)
        if len(self.lines) >= self.capacity and not self.paused:
            self.paused = True
            self._transport.outbound.pause()

    def taken(self) -> None:
        if self.paused and len(self.lines) < self.capacity // 2 + 1:
            self.paused = False
            self._transport.outbound.resume()

    def close(self) -> None:
        pass


class MemoryTransport:
    """An in-memory stand-in for ChildTransport."""

    script = None  # set per test: async def script(peer: Peer) -> None
    capacity = 1000  # lines the fake pipe holds before it pauses the writer

    def __init__(self, command, on_data, on_lost, *, queue_size=100, **_options) -> None:
        self.command = command
        self.on_data = on_data
        self._on_lost = on_lost
        self.outbound = Outbound(queue_size)
        self.pipe = FakePipe(self, self.capacity)
        self.outbound.attach(self.pipe)
        self.peer = Peer(self)
        self.pid = 4242
        self.returncode = None
        self.stderr_tail = ()
        self.connected = False
        self.bytes_read = 0
        self._task = None
        self.stopped = False

    @property
    def bytes_written(self) -> int:
        return self.outbound.bytes_written

    @property
    def queue(self):
        return self.outbound.queue

    async def start(self) -> None:
        self.connected = True
        self._task = asyncio.get_running_loop().create_task(type(self).script(self.peer))

    def send(self, data: bytes, request_id=None) -> bool:
        return self.connected and self.outbound.send(data, request_id)

    def discard(self, request_id) -> bool:
        return self.outbound.discard(request_id)

    async def wait_room(self) -> None:
        await self.outbound.wait_room()

    def exit(self, returncode: int) -> None:
        if self.connected:
            self.connected = False
            self.returncode = returncode
            self.outbound.close()
            self._on_lost(returncode, None)

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


def memory_client(script, capacity: int = 1000, **options) -> Client:
    """Return a client whose server is ``script`` (an ``async def script(peer)``)."""
    transport_class = type("ScriptedTransport", (MemoryTransport,),
                           {"script": staticmethod(script), "capacity": capacity})
    client_class = type("MemoryClient", (Client,), {"_transport_class": transport_class, "__slots__": ()})
    options.setdefault("protocol", "handshake")
    return client_class(["memory"], **options)
