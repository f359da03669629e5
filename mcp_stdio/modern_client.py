"""The 2026-07-28 side of the client (mixed into :class:`mcp_stdio.Client`).

* :meth:`ModernClient._discover`: the ``server/discover`` probe of automatic era selection
  (MCP 2026-07-28, basic/versioning, "Backward Compatibility").
* :meth:`ModernClient._modern_request`: per-request ``_meta``, ``resultType``, input
  rounds (basic/patterns/mrtr), the -32022 retry and the result cache
  (basic/patterns/caching).
* :meth:`ModernClient.listen`: ``subscriptions/listen`` (basic/patterns/subscriptions).

It uses the client's state and transport; it holds none of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import modern
from .errors import (
    ConnectionClosed,
    LocalProtocolError,
    RemoteError,
    RemoteProtocolError,
    RequestTimeout,
    StartError,
    UnsupportedProtocolVersion,
)
from .methods import DEFAULT
from .session import HANDSHAKE_VERSIONS, State
from .subscriptions import Subscription

__all__ = ["ModernClient"]

# The methods whose results carry cache hints (basic/patterns/caching).
CACHEABLE = ("tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read")


def cache_key(params: dict | None) -> str:
    """Return a cache key for request params (their _meta excluded)."""
    import json

    return json.dumps({k: v for k, v in (params or {}).items() if k != "_meta"}, sort_keys=True)


def describe_end(error: ConnectionClosed) -> str:
    """Return how a connection ended, for start-up errors."""
    from .errors import ServerExited, describe_returncode

    if isinstance(error, ServerExited):
        return describe_returncode(error.returncode)
    return error.reason


class ModernClient:
    """The 2026-07-28 methods of :class:`mcp_stdio.Client`."""

    __slots__ = ()

    async def _modern_request(self, method: str, params: dict | None, timeout: float | None,
                              progress_callback: Any, reset: bool, max_total: float | None) -> Any:
        """A 2026-07-28 request: per-request _meta, resultType, input rounds, version retry, cache."""
        cacheable = self.cache_results and method in CACHEABLE
        if cacheable:
            key = (method, cache_key(params))
            hit = self._cache.get(("result",) + key)
            if hit is not None and hit[0] > self._loop.time():  # type: ignore[union-attr]
                return hit[1]
        retried = False
        rounds = 0
        while True:
            stamped = modern.stamp(params, self._modern, self._capabilities(), self._client_info, self._log_level)
            try:
                result = await self._send_request(method, stamped, timeout, progress_callback, reset, max_total)
            except RemoteError as exc:
                if exc.code != modern.UNSUPPORTED_PROTOCOL_VERSION or retried:
                    raise
                # basic/versioning: the client "SHOULD select a mutually supported version
                # from the supported list and retry the request" (once).
                retried = True
                supported = (exc.data or {}).get("supported") or [] if isinstance(exc.data, dict) else []
                mutual = [v for v in modern.MODERN_VERSIONS if v in supported]
                if not mutual:
                    raise UnsupportedProtocolVersion(supported, modern.MODERN_VERSIONS) from exc
                self._modern = mutual[0]
                continue
            if type(result) is not dict:
                raise RemoteProtocolError(f"{method}: the result is not an object: {result!r:.200}")
            kind = result.get("resultType", "complete")  # absent means complete (basic/index)
            if kind == "complete":
                break
            if kind != "input_required":
                # basic/index: "A resultType of any value unrecognized by the client MUST be
                # considered invalid."
                raise RemoteProtocolError(f"{method}: unknown resultType {kind!r}")
            rounds += 1
            if method not in modern.INPUT_REQUIRED_METHODS or rounds > self.max_input_rounds:
                raise RemoteProtocolError(f"{method}: input_required " + (
                    f"more than {self.max_input_rounds} times (max_input_rounds)" if rounds > self.max_input_rounds
                    else "is not allowed for this method"))
            params = await self._input_round(method, params, result)
        if cacheable and rounds == 0 and isinstance(result.get("ttlMs"), int) and result["ttlMs"] > 0:
            # basic/patterns/caching: honour ttlMs; this cache serves one client, so
            # "public" and "private" results may both be kept. Never for input rounds.
            self._cache[("result",) + key] = (self._loop.time() + result["ttlMs"] / 1000, result)  # type: ignore
        return result

    async def _input_round(self, method: str, params: dict | None, result: dict) -> dict:
        """Answer the input requests of an input_required result; return the retry's params.

        basic/patterns/mrtr: the client retries the same request (a new id) with
        ``inputResponses`` keyed like ``inputRequests``, and ``requestState`` echoed as it
        came.
        """
        requests = result.get("inputRequests") or {}
        if not isinstance(requests, dict):
            raise RemoteProtocolError(f"{method}: inputRequests is not an object")
        responses = {}
        for key, wanted in requests.items():
            kind = wanted.get("method") if isinstance(wanted, dict) else None
            handler = {"sampling/createMessage": self._sampling_callback,
                       "elicitation/create": self._elicitation_callback}.get(kind)  # type: ignore[arg-type]
            if kind == "roots/list" and (self._roots is not None or self._list_roots_callback is not None):
                handler = self._answer_roots
            if handler is None:
                raise LocalProtocolError(f"{method}: the server asks for {kind!r} and no handler was given for it")
            responses[key] = await handler(wanted.get("params") or {})
        retry = {k: v for k, v in (params or {}).items() if k not in ("inputResponses", "requestState")}
        if responses:
            retry["inputResponses"] = responses
        if "requestState" in result:
            retry["requestState"] = result["requestState"]
        return retry

    async def _discover(self, probe: bool) -> str:
        """Send server/discover; return "modern", "legacy" (fall back) or "died" (respawn).

        The stdio recipe of basic/versioning, "Backward Compatibility": "probe with
        server/discover and fall back on any error that is not a recognized modern error".
        """
        loop = self._loop
        assert loop is not None
        future = loop.create_future()
        version = modern.MODERN_VERSIONS[0]
        params = modern.stamp(None, version, self._capabilities(), self._client_info)
        msg_id, data = self._session.send_request("server/discover", params, future)
        self._send_nowait(data)
        if self._error is not None or not self._transport.connected:  # type: ignore[union-attr]
            # The server died before the probe was even registered: nothing will fail it.
            self._session.forget(msg_id)
            if probe:
                return "died"
            self._check_alive_at_start("server/discover")
        try:
            wait = self.startup_timeout
            if probe:
                wait = self.probe_timeout if wait is None else min(self.probe_timeout, wait)
            result = await asyncio.wait_for(asyncio.shield(future), wait)
        except asyncio.TimeoutError:
            self._session.forget(msg_id)  # a late answer is dropped; nothing is cancelled
            if probe:
                return "legacy"
            raise StartError(f"server {self.command[0]!r} did not answer server/discover within "
                             f"{self.startup_timeout:g} s", self.returncode, self.stderr_tail) from None
        except ConnectionClosed as exc:
            if probe:
                return "died"
            raise StartError(f"server {self.command[0]!r} {describe_end(exc)} before answering server/discover",
                             exc.returncode, exc.stderr_tail) from exc
        except RemoteError as exc:
            if exc.code == modern.UNSUPPORTED_PROTOCOL_VERSION:
                supported = exc.data.get("supported", []) if isinstance(exc.data, dict) else []
                mutual = [v for v in modern.MODERN_VERSIONS if v in supported]
                if mutual:
                    version = mutual[0]
                    result = {"supportedVersions": supported, "capabilities": {}}
                elif probe and any(v in HANDSHAKE_VERSIONS for v in supported):
                    return "legacy"
                else:
                    raise UnsupportedProtocolVersion(supported, modern.MODERN_VERSIONS + HANDSHAKE_VERSIONS) from exc
            elif probe:
                return "legacy"
            else:
                raise StartError(f"server {self.command[0]!r} refused server/discover: {exc}",
                                 self.returncode, self.stderr_tail) from exc
        if type(result) is not dict:
            raise StartError(f"server {self.command[0]!r} answered server/discover with {result!r:.200}")
        supported = result.get("supportedVersions") or []
        mutual = [v for v in modern.MODERN_VERSIONS if v in supported]
        if not mutual and version not in supported:
            if probe:
                return "legacy"
            raise UnsupportedProtocolVersion(supported, modern.MODERN_VERSIONS)
        self._modern = mutual[0] if mutual else version
        meta = result.get("_meta") or {}
        self._session.adopt_modern(self._modern, {
            "protocolVersion": self._modern, "capabilities": result.get("capabilities") or {},
            "serverInfo": meta.get(modern.SERVER_INFO) or {}, "instructions": result.get("instructions")})
        return "modern"

    async def listen(self, *, tools: bool = False, prompts: bool = False, resources: bool = False,
                     resource_uris: list[str] | None = None, timeout: Any = DEFAULT) -> Subscription:
        """Open a ``subscriptions/listen`` stream (2026-07-28); return it once acknowledged.

        Args:
            tools: receive ``notifications/tools/list_changed``.
            prompts: receive ``notifications/prompts/list_changed``.
            resources: receive ``notifications/resources/list_changed``.
            resource_uris: receive ``notifications/resources/updated`` for these URIs.
            timeout: seconds to wait for the acknowledgement.

        The notifications also reach ``message_handler`` and drop cached lists. With a
        restart policy, the subscription is opened again after a restart.

        Raises:
            LocalProtocolError: the session is not 2026-07-28 (use
                :meth:`subscribe_resource` and ``message_handler`` there).
        """
        if self._modern is None:
            raise LocalProtocolError("listen() needs protocol 2026-07-28; in the handshake era use "
                                     "subscribe_resource() and message_handler")
        wanted: dict = {}
        for key, value in (("toolsListChanged", tools), ("promptsListChanged", prompts),
                           ("resourcesListChanged", resources)):
            if value:
                wanted[key] = True
        if resource_uris:
            wanted["resourceSubscriptions"] = list(resource_uris)
        subscription = Subscription(self, wanted)
        self._open_subscription(subscription)
        if timeout is DEFAULT:
            timeout = self.timeout
        try:
            await asyncio.wait_for(asyncio.shield(subscription._acknowledged), timeout)
        except asyncio.TimeoutError:
            await subscription.close()
            raise RequestTimeout("subscriptions/listen", timeout) from None
        return subscription

    def _open_subscription(self, subscription: Subscription) -> None:
        """Send the listen request of ``subscription`` (again, after a restart)."""
        if self._state is not State.READY:
            self._raise_not_ready("subscriptions/listen")
        future = self._loop.create_future()  # type: ignore[union-attr]
        params = modern.stamp({"notifications": subscription.filter}, self._modern,  # type: ignore[arg-type]
                              self._capabilities(), self._client_info, self._log_level)
        msg_id, data = self._session.send_request("subscriptions/listen", params, future)
        subscription.request_id = msg_id
        if self._subscriptions is None:
            self._subscriptions = {}
        self._subscriptions[msg_id] = subscription
        future.add_done_callback(lambda f: self._listen_done(f, msg_id, subscription))
        self._send_nowait(data)

    def _listen_done(self, future: asyncio.Future, msg_id: Any, subscription: Subscription) -> None:
        keep = (self._restart is not None and not future.cancelled()
                and isinstance(future.exception(), ConnectionClosed) and self._close_task is None)
        if not keep and self._subscriptions is not None:
            self._subscriptions.pop(msg_id, None)
        subscription._ended(future, keep)

    def _end_subscription(self, subscription: Subscription) -> None:
        """Cancel the listen request of a subscription the user closed."""
        if self._subscriptions is not None:
            self._subscriptions.pop(subscription.request_id, None)
        entry = self._session.pending_entry(subscription.request_id)
        data = self._session.cancel(subscription.request_id, "subscription closed")
        if data is not None:
            self._send_nowait(data)
        if entry is not None and not entry[1].done():
            entry[1].cancel()

    def _listen_again(self) -> None:
        """Open again, after a restart, the subscriptions the user has not closed."""
        if self._modern is None or not self._subscriptions:
            return
        subscriptions = list(self._subscriptions.values())
        self._subscriptions = {}
        for subscription in subscriptions:
            if not subscription.closed:
                self._open_subscription(subscription)
