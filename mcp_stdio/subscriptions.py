"""Following what changes on the server: ``subscriptions/listen`` and list refreshes.

:class:`Refreshes` fetches a list again when the server says it changed (the client's
``refresh_on_list_changed``), in either era. The rest of this module is
``subscriptions/listen`` (MCP 2026-07-28, basic/patterns/subscriptions).

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

from . import modern
from .errors import ConnectionClosed, MCPStdioError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from typing import Any

__all__ = ["Subscription", "Listeners", "Refreshes", "MAX_QUEUED"]

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
        self._queue: collections.deque[dict] = collections.deque(maxlen=MAX_QUEUED)
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
        self._client._listeners.end(self)
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


class Listeners:
    """The open subscriptions of one client, by the id of their listen request.

    Args:
        client: the client (its request machinery and restart policy).
    """

    __slots__ = ("_client", "_by_id")

    def __init__(self, client: Any) -> None:
        self._client = client
        self._by_id: dict[Any, Subscription] = {}

    def open(self, wanted: dict) -> Subscription:
        """Send a listen request for ``wanted``; return its subscription (not yet acknowledged)."""
        subscription = Subscription(self._client, wanted)
        self._send(subscription)
        return subscription

    def received(self, method: str, params: dict) -> None:
        """Route a notification that carries a subscription id to its subscription."""
        if not self._by_id:
            return
        meta = params.get("_meta")
        if type(meta) is not dict:
            return  # an extension's notification: its _meta is not checked, and may be anything
        subscription_id = meta.get(modern.SUBSCRIPTION_ID)
        subscription = self._by_id.get(subscription_id) if type(subscription_id) in (int, str) else None
        if subscription is not None:
            subscription.received(method, params)

    def end(self, subscription: Subscription) -> None:
        """Cancel the listen request of a subscription (closed by its user, or the client)."""
        self._by_id.pop(subscription.request_id, None)
        calls = self._client._calls
        token = self._client._session.pending_token(subscription.request_id)
        if calls is not None and token is not None:
            calls.abandon(subscription.request_id, "subscription closed")
            if not token.done():
                token.cancel()

    def end_all(self, error: BaseException, cancel: bool = False) -> None:
        """End every subscription with ``error`` (the client closes, or cannot restart)."""
        for subscription in list(self._by_id.values()):
            if cancel:
                self.end(subscription)
            subscription.ended(error.copy() if isinstance(error, ConnectionClosed) else error)
        self._by_id.clear()

    def open_again(self) -> None:
        """Open again, after a restart, the subscriptions their users have not closed.

        MCP 2026-07-28, basic/transports/stdio: "Active subscriptions/listen streams must
        also be re-established after restart."
        """
        subscriptions = [s for s in self._by_id.values() if not s.closed]
        self._by_id = {}
        for subscription in subscriptions:
            self._send(subscription)

    def _send(self, subscription: Subscription) -> None:
        # basic/patterns/subscriptions: the listen request has no timeout; its id names it.
        msg_id, future = self._client._calls.open("subscriptions/listen", {"notifications": subscription.filter})
        subscription.request_id = msg_id
        self._by_id[msg_id] = subscription
        future.add_done_callback(lambda done: self._done(done, subscription))

    def _done(self, future: asyncio.Future, subscription: Subscription) -> None:
        error = None if future.cancelled() else future.exception()
        client = self._client
        keep = isinstance(error, ConnectionClosed) and client._restart is not None and client._close_task is None
        if not keep:
            self._by_id.pop(subscription.request_id, None)
            subscription.ended(error)


class Refreshes:
    """Fetch a list again when it changed: at most one fetch in flight per list, one queued.

    A burst of ``list_changed`` notifications costs at most two fetches of that list: the
    one in flight, and one after it that sees every change of the burst.

    Args:
        fetch: ``fetch(kind)`` lists ``kind`` (``"tools"``, ``"prompts"``, ``"resources"``).
        spawn: runs a coroutine in a task that the client's close() ends.
    """

    __slots__ = ("_fetch", "_spawn", "_wanted")

    def __init__(self, fetch: Callable[[str], Awaitable[Any]],
                 spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task]) -> None:
        self._fetch = fetch
        self._spawn = spawn
        self._wanted: dict[str, int] = {}  # list -> fetches wanted (in flight + queued)

    def changed(self, kind: str) -> None:
        """The server said that list ``kind`` changed."""
        wanted = self._wanted.get(kind, 0)
        if wanted >= 2:
            return
        self._wanted[kind] = wanted + 1
        if wanted == 0:
            self._spawn(self._run(kind))

    async def _run(self, kind: str) -> None:
        wanted = self._wanted
        try:
            while wanted.get(kind):
                try:
                    await self._fetch(kind)
                except MCPStdioError as exc:
                    logger.warning("refreshing %s after list_changed failed: %s", kind, exc)
                wanted[kind] -= 1
        finally:
            wanted.pop(kind, None)
