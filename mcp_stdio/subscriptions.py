"""``subscriptions/listen`` (MCP 2026-07-28, basic/patterns/subscriptions).

A subscription is a long-lived request: the client sends ``subscriptions/listen`` with a
filter (``toolsListChanged``, ``promptsListChanged``, ``resourcesListChanged``,
``resourceSubscriptions``), the server first sends ``notifications/subscriptions/
acknowledged`` ("MUST be the first message the server sends carrying the subscription's
ID") and then the notifications asked for, each carrying the request's id in
``_meta["io.modelcontextprotocol/subscriptionId"]``. The client ends it with
``notifications/cancelled``; the server ends it by answering the request (a result or an
error) or by cancelling it. The listen request has no timeout: only the acknowledgement
does.

::

    async with await client.listen(tools=True, resource_uris=["file:///notes.md"]) as updates:
        async for notification in updates:
            print(notification["method"], notification["params"])
"""

from __future__ import annotations

import asyncio
import collections
import logging

from .errors import ConnectionClosed, MCPStdioError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Deque

__all__ = ["Subscription", "MAX_QUEUED"]

logger = logging.getLogger("mcp_stdio.client")

# Notifications kept for a subscription whose reader is behind; older ones are dropped first.
MAX_QUEUED = 10_000

_ACKNOWLEDGED = "notifications/subscriptions/acknowledged"


class Subscription:
    """An open ``subscriptions/listen`` stream; iterate over it for its notifications.

    Attributes:
        filter: what was asked for.
        accepted: what the server agreed to send (from its acknowledgement).
        request_id: the id of the listen request (the subscription id).
        error: why the stream ended, when the server or the connection ended it.
        dropped: notifications dropped because the reader was more than
            :data:`MAX_QUEUED` behind.
    """

    __slots__ = ("_client", "filter", "accepted", "request_id", "_queue", "_ready", "acknowledged", "closed",
                 "error", "dropped")

    def __init__(self, client: Any, wanted: dict) -> None:
        self._client = client
        self.filter = wanted
        self.accepted: dict | None = None
        self.request_id: Any = None
        self._queue: Deque[dict] = collections.deque(maxlen=MAX_QUEUED)
        self._ready: asyncio.Future | None = None
        self.acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.error: BaseException | None = None
        self.dropped = 0

    # Public methods

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict:
        while not self._queue:
            if self.closed:
                if self.error is not None:
                    raise self.error
                raise StopAsyncIteration
            self._ready = asyncio.get_running_loop().create_future()
            await self._ready
        return self._queue.popleft()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """End the subscription (``notifications/cancelled`` for the listen request)."""
        if self.closed:
            return
        self._client._end_subscription(self)
        self.ended(None)

    # Called by the client

    def received(self, method: str, params: dict) -> None:
        """A notification carrying this subscription's id arrived."""
        if method == _ACKNOWLEDGED:
            accepted = params.get("notifications")
            self.accepted = accepted if type(accepted) is dict else {}
            if not self.acknowledged.done():
                self.acknowledged.set_result(None)
            return
        if self.closed:
            return
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("subscription %s: the reader is %d notifications behind; dropping the oldest",
                               self.request_id, MAX_QUEUED)
        self._queue.append({"method": method, "params": params})
        self._wake()

    def ended(self, error: BaseException | None) -> None:
        """The listen request got its answer (the server ended it), failed, or was closed."""
        if self.closed:
            return
        if error is not None and not isinstance(error, MCPStdioError):
            error = ConnectionClosed(f"subscription failed: {error!r}")
        self.error = error
        self.closed = True
        if not self.acknowledged.done():
            self.acknowledged.set_exception(error or ConnectionClosed("the server ended the subscription"))
            self.acknowledged.exception()  # retrieved: listen() reports it
        self._wake()

    def _wake(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(None)
