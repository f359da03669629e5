"""One 2026-07-28 request on asyncio: the result cache, the version retry, input rounds.

Theory of operation
-------------------
In the handshake era a request is one exchange (:meth:`mcp_stdio.calls.Calls.call`). In
2026-07-28 it may take several, and :func:`modern_request` walks them; the decisions are
made by the sans-I/O layer, this module only awaits:

* a cached result is returned without sending (:class:`mcp_stdio.modern.ResultCache`: the
  key, the ``ttlMs`` expiry and the cache scope);
* each exchange carries the per-request ``_meta`` fields of the caller
  (:meth:`mcp_stdio.client_session.ClientSession.meta_fields`);
* a -32022 (unsupported protocol version) answer is retried once with a mutually supported
  version (:meth:`~mcp_stdio.client_session.ClientSession.version_refused`);
* an ``input_required`` result is answered through the caller's callbacks and the request
  sent again with the answers (:func:`mcp_stdio.modern.input_asks`,
  :func:`mcp_stdio.modern.retry_params`), at most ``max_rounds`` times;
* a complete result is cached, unless it took input rounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import lifecycle, modern
from .errors import (
    UNSUPPORTED_PROTOCOL_VERSION,
    LocalProtocolError,
    RemoteError,
    RemoteProtocolError,
    RequestError,
    UnsupportedProtocolVersion,
)

if TYPE_CHECKING:
    from .callbacks import Callbacks
    from .calls import Calls
    from .client_session import ClientSession

__all__ = ["modern_request"]


async def modern_request(calls: Calls, session: ClientSession, cache: modern.ResultCache | None,
                         now: Callable[[], float], method: str, params: dict | None, options: dict[str, Any], *,
                         caller: Callbacks, identity: tuple | None, owner: Any, max_rounds: int) -> Any:
    """Send one 2026-07-28 request through ``calls`` and return its complete result.

    Args:
        calls: the requests of the connection.
        session: the connection's session (the negotiated version, the ``_meta`` fields).
        cache: the result cache, or ``None`` when results are not cached.
        now: the loop's clock, for the cache's expiry.
        method, params: the request.
        options: the keyword arguments of :meth:`~mcp_stdio.calls.Calls.call` (timeout,
            progress, task, ticket), the same for every exchange.
        caller: the callbacks that answer ``input_required`` rounds.
        identity: ``(client_info, capabilities, log_level)`` of the caller for ``_meta``
            (``None``: the session's own).
        owner: the caller's cache scope.
        max_rounds: ``input_required`` rounds allowed.

    Raises:
        UnsupportedProtocolVersion: the server refused every version we speak.
        RemoteProtocolError: more than ``max_rounds`` input rounds.
        LocalProtocolError: the server asked for input no callback answers, or a callback
            failed.
        and whatever :meth:`~mcp_stdio.calls.Calls.call` raises.
    """
    key = cache.key(method, params) if cache is not None else None
    if key is not None:
        hit = cache.get(key, owner, now())  # type: ignore[union-attr]
        if hit is not None:
            return hit
    retried = rounds = 0
    while True:
        meta = session.meta_fields(*identity) if identity is not None else None
        try:
            result = await calls.call(method, params, meta=meta, **options)
        except RemoteError as exc:
            # basic/versioning: the client "SHOULD select a mutually supported version
            # from the supported list and retry the request, or surface an error to the
            # user if no compatible version exists" (once).
            if exc.code != UNSUPPORTED_PROTOCOL_VERSION or retried:
                raise
            if session.version_refused(exc) is None:
                raise UnsupportedProtocolVersion(modern.supported_from_error(exc.data),
                                                 lifecycle.MODERN_VERSIONS, lifecycle.MODERN) from exc
            retried = 1
            continue
        if result.get("resultType", "complete") == "complete":
            break
        rounds += 1
        if rounds > max_rounds:
            raise RemoteProtocolError(f"{method}: input_required more than {max_rounds} times (max_input_rounds)")
        params = await _input_round(method, params, result, caller, session.version)
    if key is not None and rounds == 0:
        # basic/patterns/caching: never for a request that carried input responses.
        cache.put(key, result, owner, now())  # type: ignore[union-attr]
    return result


async def _input_round(method: str, params: dict | None, result: dict, caller: Callbacks,
                       version: str | None) -> dict:
    """Answer an ``input_required`` round; return the params of the retry."""
    responses = {}
    for key, asked, asked_params in modern.input_asks(result):
        if not caller.handles(asked):
            raise LocalProtocolError(f"{method}: the server asks for {asked} and no handler was given for it")
        try:
            responses[key] = await caller.answer(asked, asked_params, version)
        except RequestError as exc:
            raise LocalProtocolError(f"{method}: the server asked for {asked}, and the handler failed: "
                                     f"{exc.message}") from exc
    return modern.retry_params(params, result, responses)
