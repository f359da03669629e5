"""``subscriptions/listen`` (MCP 2026-07-28, basic/patterns/subscriptions).

A subscription is a long-lived request: the client sends ``subscriptions/listen`` with a
filter (``toolsListChanged``, ``promptsListChanged``, ``resourcesListChanged``,
``resourceSubscriptions``), the server first sends ``notifications/subscriptions/
acknowledged`` and then the notifications asked for, each carrying the request's id in
``_meta["io.modelcontextprotocol/subscriptionId"]``. The client ends it with
``notifications/cancelled``; the server ends it by answering the request (a result or an
error). Both ends are accepted here.

::

    async with await client.listen(tools=True, resource_uris=["file:///notes.md"]) as updates:
        async for notification in updates:
            print(notification["method"], notification["params"])
"""

from __future__ import annotations

import asyncio
from typing import Any

from .errors import ConnectionClosed, MCPStdioError

__all__ = ["Subscription"]

_END = object()


class Subscription:
    """An open ``subscriptions/listen`` stream; iterate over it for its notifications.

    Attributes:
        filter: what was asked for.
        accepted: what the server agreed to send (from its acknowledgement).
        request_id: the id of the listen request (the subscription id).
    """

    def __init__(self, client: Any, wanted: dict) -> None:
        self._client = client
        self.filter = wanted
        self.accepted: dict | None = None
        self.request_id: Any = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self._acknowledged: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed = False
        self.error: BaseException | None = None

    # Public methods

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # later iterations end too
            if self.error is not None:
                raise self.error
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """End the subscription (``notifications/cancelled`` for the listen request)."""
        if self.closed:
            return
        self.closed = True
        self._client._end_subscription(self)
        self._queue.put_nowait(_END)

    # Called by the client

    def _acknowledge(self, params: dict) -> None:
        self.accepted = params.get("notifications") or {}
        if not self._acknowledged.done():
            self._acknowledged.set_result(None)

    def _deliver(self, notification: dict) -> None:
        if not self.closed:
            self._queue.put_nowait(notification)

    def _ended(self, future: asyncio.Future, keep_for_restart: bool) -> None:
        """The listen request got its answer (the server ended it) or failed."""
        if future.cancelled() or self.closed:
            return
        error = future.exception()
        if isinstance(error, ConnectionClosed) and keep_for_restart:
            return  # listened again after the restart
        if error is not None and not isinstance(error, MCPStdioError):
            error = ConnectionClosed(f"subscription failed: {error}")
        self.error = error
        self.closed = True
        if not self._acknowledged.done():
            self._acknowledged.set_exception(error or ConnectionClosed("the server ended the subscription"))
            self._acknowledged.exception()  # retrieved: listen() reports it
        self._queue.put_nowait(_END)
