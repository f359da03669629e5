"""What a server's tool, resource or prompt function gets in its ``ctx`` parameter.

A :class:`Context` belongs to one request. Its notification methods
(:meth:`Context.report_progress`, :meth:`Context.log`) and :meth:`Context.is_cancelled`
may be called from the event loop or from a worker thread (where plain functions run).
Requests to the client (:meth:`Context.sample`, :meth:`Context.elicit`,
:meth:`Context.elicit_url`, :meth:`Context.list_roots`, :meth:`Context.request`) are
coroutines: a function that uses them is written ``async def``.

In the handshake era they are JSON-RPC requests to the client, with a timeout, cancelled
with the request that made them. In 2026-07-28, where servers send no requests, each one
becomes an input request of an ``input_required`` result (basic/patterns/mrtr): the first
call raises :class:`~mcp_stdio.errors.InputRequired` (let it propagate), and when the
client retries with its answers the function runs again and the same call returns the
answer. The answers collected so far travel in ``requestState``; they are the client's
own answers, so a client that tampers with them can only fool itself.
"""

from __future__ import annotations

import threading

from .. import lifecycle, modern
from ..errors import INVALID_PARAMS, MISSING_REQUIRED_CLIENT_CAPABILITY, InputRequired, RequestError, ToolError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .stdio import Connection

__all__ = ["Context"]


class Context:
    """The request being handled, and what a handler may do during it.

    Attributes:
        request_id: the JSON-RPC id of the request.
        version: the protocol version the request is served in.
        progress_token: the client's progress token, or ``None`` (no progress wanted).
    """

    __slots__ = ("_connection", "request_id", "version", "progress_token", "_params", "_responses", "_inputs",
                 "_cancelled", "_last_progress", "_lock")

    def __init__(self, connection: Connection, request_id: Any, version: str | None, params: dict,
                 responses: dict | None = None) -> None:
        self._connection = connection
        self.request_id = request_id
        self.version = version
        meta = params.get("_meta")
        self.progress_token = meta.get("progressToken") if type(meta) is dict else None
        self._params = params
        # 2026-07-28: the client's answers to this request's input requests, by key.
        self._responses = responses
        self._inputs = 0
        self._cancelled = False
        self._last_progress: float | None = None
        self._lock = threading.Lock()

    @property
    def modern(self) -> bool:
        """Return whether the request is a 2026-07-28 one."""
        return self._responses is not None

    @property
    def client_capabilities(self) -> dict:
        """Return the capabilities the client declared (per request in 2026-07-28)."""
        return self._connection.session.client_capabilities_of(self._params)

    def supports(self, capability: str) -> bool:
        """Return whether the client declared ``capability`` (dotted: ``roots.listChanged``)
        in a version that has it: ``tasks...`` only in 2025-11-25, the one version with tasks."""
        if capability.startswith("tasks") and self.version != "2025-11-25":
            return False
        return lifecycle.declares(self.client_capabilities, capability)

    def is_cancelled(self) -> bool:
        """Return whether the client cancelled this request (never blocks)."""
        return self._cancelled

    def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Send ``notifications/progress`` if the client asked for progress.

        basic/utilities/progress: "The progress value MUST increase with each notification":
        a value that does not increase is not sent.
        """
        if self.progress_token is None or self._cancelled:
            return
        with self._lock:
            if self._last_progress is not None and progress <= self._last_progress:
                return
            self._last_progress = progress
        params: dict = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None and (self.version or "") >= "2025-03-26":
            params["message"] = message
        self._connection.notify_threadsafe("notifications/progress", params)

    def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send ``notifications/message`` if the client wants messages of ``level``.

        The level is the one of ``logging/setLevel`` in the handshake era, the request's
        own ``io.modelcontextprotocol/logLevel`` in 2026-07-28 (without it, nothing is
        sent: the client did not ask).
        """
        if not self._connection.session.should_log(level, self._params):
            return
        params: dict = {"level": level, "data": data}
        if logger:
            params["logger"] = logger
        self._connection.notify_threadsafe("notifications/message", params)

    async def request(self, method: str, params: dict | None = None) -> Any:
        """Ask the client for something and return its answer.

        Raises:
            InputRequired: in 2026-07-28, the first time: let it propagate.
            RemoteError: the client answered with an error.
            RequestTimeout: the client did not answer in time.
        """
        if self._responses is not None:
            self._inputs += 1
            key = f"input-{self._inputs}"
            if key in self._responses:
                return self._responses[key]
            raise InputRequired(key, method, params or {})
        return await self._connection.request(method, params)

    async def sample(self, messages: list[dict], max_tokens: int, **options: Any) -> dict:
        """Ask the client's model for a message (``sampling/createMessage``)."""
        self._require("sampling")
        return await self.request("sampling/createMessage",  # type: ignore[no-any-return]
                                  dict(options, messages=messages, maxTokens=max_tokens))

    async def elicit(self, message: str, requested_schema: dict) -> dict:
        """Ask the user for input through the client (``elicitation/create``, form mode)."""
        self._require("elicitation")
        params: dict = {"message": message, "requestedSchema": requested_schema}
        if (self.version or "") >= "2025-11-25":
            params["mode"] = "form"
        return await self.request("elicitation/create", params)  # type: ignore[no-any-return]

    async def elicit_url(self, message: str, url: str, elicitation_id: str) -> dict:
        """Send the user to a URL through the client (``elicitation/create``, URL mode)."""
        self._require("elicitation.url")
        return await self.request("elicitation/create", {  # type: ignore[no-any-return]
            "mode": "url", "message": message, "url": url, "elicitationId": elicitation_id})

    async def list_roots(self) -> list[dict]:
        """Return the client's roots (``roots/list``)."""
        self._require("roots")
        result = await self.request("roots/list")
        return result.get("roots", []) if type(result) is dict else []

    def _require(self, capability: str) -> None:
        if self.supports(capability):
            return
        if self._responses is not None:
            # MCP 2026-07-28, basic/index: the server "MUST return a
            # MissingRequiredClientCapabilityError (-32021) whose data.requiredCapabilities
            # lists the missing capabilities".
            required: dict = {}
            node = required
            for part in capability.split("."):
                node[part] = {}
                node = node[part]
            raise RequestError(MISSING_REQUIRED_CLIENT_CAPABILITY,
                               f"the client does not declare the {capability} capability",
                               {"requiredCapabilities": required})
        raise ToolError(f"the client does not declare the {capability} capability")


def encode_state(responses: dict) -> str:
    """Return the ``requestState`` that carries the client's answers so far."""
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(responses, separators=(",", ":")).encode()).decode("ascii")


def decode_state(state: str) -> dict:
    """Return the answers carried by a ``requestState``.

    Raises:
        RequestError: the state cannot be read (-32602).
    """
    import base64
    import binascii
    import json

    try:
        decoded = json.loads(base64.urlsafe_b64decode(state.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error, RecursionError) as exc:
        raise RequestError(INVALID_PARAMS, f"Invalid params: requestState cannot be read ({exc})") from None
    if type(decoded) is not dict:
        raise RequestError(INVALID_PARAMS, "Invalid params: requestState cannot be read")
    return decoded


def modern_responses(params: dict) -> dict | None:
    """Return the answers of a 2026-07-28 request (``requestState`` and
    ``inputResponses``), or ``None`` for a handshake-era request."""
    if not modern.is_modern_request(params):
        return None
    responses: dict = {}
    state = params.get("requestState")
    if type(state) is str:
        responses.update(decode_state(state))
    inputs = params.get("inputResponses")
    if type(inputs) is dict:
        responses.update(inputs)
    return responses
