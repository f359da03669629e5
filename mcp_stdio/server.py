"""An MCP server over stdio, on the same sans-I/O core as the client.

``python -m mcp_stdio.server`` runs the reference server (see :mod:`mcp_stdio.reference`).
Write your own with the decorator API::

    from mcp_stdio.server import Server

    server = Server("demo")

    @server.tool()
    def greet(name: str, excited: bool = False) -> str:
        "Say hello."
        return f"Hello, {name}{'!' if excited else '.'}"

    server.run()

Decorators: :meth:`Server.tool`, :meth:`Server.resource` (a fixed URI),
:meth:`Server.resource_template` (``scheme://path/{var}``), :meth:`Server.prompt` and
:meth:`Server.completion`. Input schemas and prompt arguments come from the function's
signature (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict`` and their ``Optional``
forms; parameters without a default are required), descriptions from docstrings. A
parameter named ``ctx`` receives a :class:`Context`: progress, logging, cancellation, and
requests to the client (sampling, elicitation, roots).

Theory of operation
-------------------
The server is a plain blocking loop: read what stdin has, answer every complete message,
write all answers in one call, repeat; at end of input answer what is left and exit. It
imports neither asyncio nor threads, so it starts in a few milliseconds (the benchmarks
spawn it by the thousand). A tool runs to completion before the next message is handled;
while it runs it can still see cancellations (:meth:`Context.is_cancelled` reads what has
arrived without blocking) and wait for the client's answer to a request of its own (other
messages that arrive meanwhile are kept and handled afterwards, pings at once).

Set ``MCP_STDIO_SERVER_STATS`` to a file name and the server appends one JSON line of
counters to that file when it exits (the benchmarks check with it that every handshake
really happened).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

from . import __version__
from .errors import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, RESOURCE_NOT_FOUND, ToolError
from .framing import Oversized
from .jsonrpc import ErrorResponse, InvalidMessage, Notification, Request, Response
from . import modern
from .session import HANDSHAKE_VERSIONS, Endpoint, negotiate_version

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["Server", "Context", "ToolError", "ClientRequestError", "main"]

# What a parameter annotation (as a string, PEP 563) maps to in JSON Schema.
_SCHEMA_TYPES = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "dict": {"type": "object"},
    "Any": {},
}

# Read size: the same as asyncio's pipe transports use.
READ_SIZE = 256 * 1024

# MCP server/utilities/logging: the syslog severities, lowest first.
_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


class ClientRequestError(Exception):
    """The client answered a request of the server (sampling, elicitation...) with an error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        super().__init__(f"{message} (code {code})")


class _ParamsError(Exception):
    """Invalid params: answered with -32602 (or the code given, with data)."""

    def __init__(self, message: str, code: int = INVALID_PARAMS, data: Any = None) -> None:
        self.code = code
        self.data = data
        super().__init__(message)


class _InputRequired(Exception):
    """A tool of a 2026-07-28 request needs the client's input (multi round-trip)."""

    def __init__(self, key: str, method: str, params: dict) -> None:
        self.key = key
        self.method = method
        self.params = params
        super().__init__(f"input required: {method}")


_NO_ANSWER = object()  # a handler's result meaning "no response now" (subscriptions/listen)


class _Entry:
    __slots__ = ("func", "definition", "params", "wants_ctx", "pattern")

    def __init__(self, func: Callable, definition: dict, params: tuple[str, ...] = (),
                 pattern: Any = None) -> None:
        self.func = func
        self.definition = definition
        self.params = tuple(p for p in params if p != "ctx")
        self.wants_ctx = "ctx" in params
        self.pattern = pattern


def _annotation_schema(annotation: Any) -> dict:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    text = text.replace("typing.", "").replace(" ", "")
    if text.startswith("Optional[") and text.endswith("]"):
        inner = _annotation_schema(text[9:-1])
        return {"anyOf": [inner, {"type": "null"}]} if inner else {}
    if "|" in text:
        parts = text.split("|")
        schemas = [_annotation_schema(part) for part in parts if part != "None"]
        if "None" in parts:
            schemas.append({"type": "null"})
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    base = text.split("[", 1)[0]
    base = {"List": "list", "Dict": "dict"}.get(base, base)
    return dict(_SCHEMA_TYPES.get(base, {}))


def _signature(func: Callable) -> tuple[dict, tuple[str, ...], dict[str, str]]:
    """Return the parameters' JSON Schema, their names, and which are required (no inspect)."""
    code = func.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    defaults = func.__defaults__ or ()
    kwdefaults = func.__kwdefaults__ or {}
    positional = code.co_argcount
    first_default = positional - len(defaults)
    annotations = getattr(func, "__annotations__", {})
    properties: dict = {}
    required: list = []
    for index, name in enumerate(names):
        if name == "ctx":
            continue
        schema = _annotation_schema(annotations[name]) if name in annotations else {}
        has_default = index >= first_default if index < positional else name in kwdefaults
        if has_default:
            default = defaults[index - first_default] if index < positional else kwdefaults[name]
            if default is None or isinstance(default, (str, int, float, bool)):
                schema["default"] = default
        else:
            required.append(name)
        properties[name] = schema
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, tuple(names), {name: "required" for name in required}


def _describe(func: Callable, description: str | None) -> str:
    return description if description is not None else (func.__doc__ or "").strip()


def _tool_result(value: Any) -> dict:
    if isinstance(value, dict) and isinstance(value.get("content"), list):
        return value  # already a CallToolResult
    if isinstance(value, str):
        return {"content": [{"type": "text", "text": value}]}
    if isinstance(value, dict):
        return {"content": [{"type": "text", "text": json.dumps(value, ensure_ascii=False)}],
                "structuredContent": value}
    if value is None:
        return {"content": []}
    return {"content": [{"type": "text", "text": json.dumps(value, ensure_ascii=False)}]}


class Context:
    """What a tool, resource or prompt function gets in its ``ctx`` parameter."""

    def __init__(self, server: Server, request_id: Any, progress_token: Any, modern: dict | None = None) -> None:
        self._server = server
        self.request_id = request_id
        self.progress_token = progress_token
        # For a 2026-07-28 request: its _meta, and the client's answers to input requests.
        self._modern = modern
        self._inputs = 0

    @property
    def client_capabilities(self) -> dict:
        """Return the capabilities the client declared (per request in 2026-07-28)."""
        if self._modern is not None:
            return self._modern["meta"].get(modern.CLIENT_CAPABILITIES) or {}
        return self._server.client_capabilities

    def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Send ``notifications/progress`` if the client asked for progress (a token)."""
        if self.progress_token is None:
            return
        params: dict = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None and self._server.version_in_use() >= "2025-03-26":
            params["message"] = message
        self._server.notify("notifications/progress", params)

    def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send ``notifications/message`` if ``level`` is at or above the client's level.

        In 2026-07-28 the level is the request's ``io.modelcontextprotocol/logLevel``;
        without it, nothing is sent (the client did not opt in).
        """
        if self._modern is None:
            self._server.log(level, data, logger)
            return
        wanted = self._modern["meta"].get(modern.LOG_LEVEL)
        if wanted in _LEVELS and _LEVELS.index(level) >= _LEVELS.index(wanted):
            params: dict = {"level": level, "data": data}
            if logger:
                params["logger"] = logger
            self._server.notify("notifications/message", params)

    def is_cancelled(self) -> bool:
        """Return whether the client cancelled this request (reads pending input, never blocks)."""
        self._server._poll()
        return self.request_id in self._server._cancelled

    def request(self, method: str, params: dict | None = None) -> Any:
        """Send a request to the client and wait for its result.

        In 2026-07-28 servers send no requests: the request becomes an input request of
        an ``input_required`` result (multi round-trip), and the tool runs again with the
        client's answer, which this method then returns.

        Raises:
            ClientRequestError: the client answered with an error.
        """
        if self._modern is not None:
            self._inputs += 1
            key = f"input-{self._inputs}"
            responses = self._modern["responses"]
            if key in responses:
                return responses[key]
            raise _InputRequired(key, method, params or {})
        return self._server.request(method, params)

    def sample(self, messages: list[dict], max_tokens: int, **options: Any) -> dict:
        """Ask the client's model for a message (``sampling/createMessage``)."""
        self._require("sampling")
        return self.request("sampling/createMessage", dict(options, messages=messages, maxTokens=max_tokens))

    def elicit(self, message: str, requested_schema: dict) -> dict:
        """Ask the user for input through the client (``elicitation/create``, form mode)."""
        self._require("elicitation")
        params: dict = {"message": message, "requestedSchema": requested_schema}
        if self._server.protocol_version >= "2025-11-25":
            params["mode"] = "form"
        return self.request("elicitation/create", params)

    def elicit_url(self, message: str, url: str, elicitation_id: str) -> dict:
        """Send the user to a URL through the client (``elicitation/create``, URL mode, 2025-11-25)."""
        self._require("elicitation.url")
        return self.request("elicitation/create", {"mode": "url", "message": message, "url": url,
                                                   "elicitationId": elicitation_id})

    def list_roots(self) -> list[dict]:
        """Return the client's roots (``roots/list``)."""
        self._require("roots")
        return self.request("roots/list").get("roots", [])

    def supports(self, capability: str) -> bool:
        """Return whether the client declared ``capability`` (a dotted path, ``roots.listChanged``)."""
        node: Any = self.client_capabilities
        for part in capability.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return node is not False

    def _require(self, capability: str) -> None:
        if self.supports(capability):
            return
        if self._modern is not None:
            # MCP 2026-07-28, basic/index: the server "MUST return a
            # MissingRequiredClientCapabilityError (-32021) whose data.requiredCapabilities
            # lists the missing capabilities".
            required: dict = {}
            node = required
            for part in capability.split("."):
                node[part] = {}
                node = node[part]
            raise _ParamsError(f"the client does not declare the {capability} capability",
                               modern.MISSING_REQUIRED_CLIENT_CAPABILITY, {"requiredCapabilities": required})
        raise ToolError(f"the client does not support {capability}")


class Server:
    """A handshake-era MCP server over stdio.

    Args:
        name: ``serverInfo.name``.
        version: ``serverInfo.version``.
        instructions: optional ``instructions`` for the client.
        page_size: the most items per page of a list result (``None``: one page).
    """

    def __init__(self, name: str = "mcp_stdio-server", version: str = __version__,
                 instructions: str | None = None, page_size: int | None = None) -> None:
        self.name = name
        self.version = version
        self.instructions = instructions
        self.page_size = page_size
        self._tools: dict[str, _Entry] = {}
        self._resources: dict[str, _Entry] = {}
        self._templates: list[_Entry] = []
        self._prompts: dict[str, _Entry] = {}
        self._completions: dict[tuple, Callable] = {}
        self._subscriptions: set[str] = set()
        self._tasks: dict[str, dict] = {}
        self._log_level = "info"
        self.stats = {"initialize": 0, "requests": 0, "notifications": 0, "invalid": 0}
        self._out: list[bytes] = []
        self._endpoint = Endpoint(max_message_size=None)
        self._cancelled: set = set()
        self._deferred: list = []
        self._waiting: dict[Any, Any] = {}  # our request id -> its answer, once it came
        self._read: Callable[[], bytes] | None = None  # blocking read, while run() runs
        self._poll_fd: int | None = None
        self._write_fd: int | None = None
        self.protocol_version = ""
        self.client_capabilities: dict = {}
        self._modern: dict | None = None  # the 2026-07-28 request being handled: meta, responses
        self._listeners: dict[Any, dict] = {}  # subscriptions/listen request id -> its filter

    # Registration

    def tool(self, name: str | None = None, *, description: str | None = None, title: str | None = None,
             output_schema: dict | None = None, annotations: dict | None = None) -> Callable[[Callable], Callable]:
        """Register the decorated function as a tool.

        Args:
            name: the tool's name (default: the function's name).
            description: default: the function's docstring.
            title: a human-readable title.
            output_schema: JSON Schema of the tool's structured result (a returned dict
                becomes ``structuredContent``).
            annotations: tool annotations (``readOnlyHint``...).
        """

        def register(func: Callable) -> Callable:
            input_schema, params, _ = _signature(func)
            definition: dict = {"name": name or func.__name__, "inputSchema": input_schema}
            for key, value in (("description", _describe(func, description)), ("title", title),
                               ("outputSchema", output_schema), ("annotations", annotations)):
                if value:
                    definition[key] = value
            self._tools[definition["name"]] = _Entry(func, definition, params)
            return func

        return register

    def resource(self, uri: str, *, name: str | None = None, description: str | None = None,
                 mime_type: str = "text/plain") -> Callable[[Callable], Callable]:
        """Register the decorated function as the resource at ``uri``.

        The function returns ``str`` (text) or ``bytes`` (sent as base64 ``blob``).
        """

        def register(func: Callable) -> Callable:
            definition = {"uri": uri, "name": name or func.__name__, "mimeType": mime_type}
            text = _describe(func, description)
            if text:
                definition["description"] = text
            self._resources[uri] = _Entry(func, definition, _signature(func)[1])
            return func

        return register

    def resource_template(self, uri_template: str, *, name: str | None = None, description: str | None = None,
                          mime_type: str = "text/plain") -> Callable[[Callable], Callable]:
        """Register a resource template such as ``notes://{folder}/{name}``.

        Each ``{variable}`` matches one path segment and is passed to the function by name.
        """

        def register(func: Callable) -> Callable:
            parts = re.split(r"\{(\w+)\}", uri_template)
            pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
                              for i, part in enumerate(parts))
            definition = {"uriTemplate": uri_template, "name": name or func.__name__, "mimeType": mime_type}
            text = _describe(func, description)
            if text:
                definition["description"] = text
            self._templates.append(_Entry(func, definition, _signature(func)[1], re.compile(f"^{pattern}$")))
            return func

        return register

    def prompt(self, name: str | None = None, *, description: str | None = None,
               title: str | None = None) -> Callable[[Callable], Callable]:
        """Register the decorated function as a prompt; its parameters are the arguments.

        It returns a string (one user message) or a list of ``{"role", "content"}`` messages.
        """

        def register(func: Callable) -> Callable:
            schema, params, required = _signature(func)
            arguments = [{"name": arg, "required": arg in required} for arg in schema["properties"]]
            definition: dict = {"name": name or func.__name__, "arguments": arguments}
            for key, value in (("description", _describe(func, description)), ("title", title)):
                if value:
                    definition[key] = value
            self._prompts[definition["name"]] = _Entry(func, definition, params)
            return func

        return register

    def completion(self, ref: str, argument: str) -> Callable[[Callable], Callable]:
        """Register completions for ``argument`` of a prompt (by name) or a template (by URI template).

        The function takes ``(value, context_arguments)`` and returns a list of strings.
        """

        def register(func: Callable) -> Callable:
            self._completions[(ref, argument)] = func
            return func

        return register

    # Sending from tools

    def notify(self, method: str, params: dict | None = None) -> None:
        """Send a notification to the client now."""
        self._out.append(self._endpoint.send_notification(method, params))
        self._flush()

    def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send ``notifications/message`` if ``level`` is at or above the client's level."""
        if _LEVELS.index(level) < _LEVELS.index(self._log_level):
            return
        params: dict = {"level": level, "data": data}
        if logger:
            params["logger"] = logger
        self.notify("notifications/message", params)

    def notify_resource_updated(self, uri: str) -> None:
        """Tell a subscribed client that ``uri`` changed (resources/subscribe or subscriptions/listen)."""
        if uri in self._subscriptions:
            self.notify("notifications/resources/updated", {"uri": uri})
        for listen_id, wanted in self._listeners.items():
            if uri in (wanted.get("resourceSubscriptions") or ()):
                self.notify("notifications/resources/updated",
                            {"uri": uri, "_meta": {modern.SUBSCRIPTION_ID: listen_id}})

    def notify_list_changed(self, kind: str) -> None:
        """Tell the client that the ``tools``, ``prompts`` or ``resources`` list changed."""
        if self.protocol_version:  # a handshake-era session
            self.notify(f"notifications/{kind}/list_changed")
        for listen_id, wanted in self._listeners.items():
            if wanted.get(f"{kind}ListChanged"):
                self.notify(f"notifications/{kind}/list_changed", {"_meta": {modern.SUBSCRIPTION_ID: listen_id}})

    def version_in_use(self) -> str:
        """Return the protocol version of the request being handled (modern or negotiated)."""
        if self._modern is not None:
            return self._modern["meta"].get(modern.PROTOCOL_VERSION, "")
        return self.protocol_version

    def request(self, method: str, params: dict | None = None) -> Any:
        """Send a request to the client and wait for its answer (only inside :meth:`run`).

        Raises:
            ClientRequestError: the client answered with an error.
        """
        if self._read is None:
            raise RuntimeError("requests to the client need the blocking loop of run()")
        msg_id, data = self._endpoint.send_request(method, params)
        self._out.append(data)
        self._flush()
        while msg_id not in self._waiting:
            chunk = self._read()
            if not chunk:
                raise ClientRequestError(INTERNAL_ERROR, "the client closed the connection")
            self._absorb(self._endpoint.receive_data(chunk))
        answer = self._waiting.pop(msg_id)
        if answer.__class__ is ErrorResponse:
            raise ClientRequestError(answer.code, answer.message, answer.data)
        return answer.result

    # Serving

    def receive(self, data: bytes) -> bytes:
        """Handle bytes from the client; return the bytes to write back (sans-I/O entry)."""
        self._handle_all(self._endpoint.receive_data(data))
        return self._take_output()

    def receive_eof(self) -> bytes:
        """Handle the end of input; return the last bytes to write."""
        self._handle_all(self._endpoint.receive_eof())
        return self._take_output()

    def run(self, stdin_fd: int = 0, stdout_fd: int = 1) -> None:
        """Serve on the given file descriptors until end of input."""
        self._read = lambda: os.read(stdin_fd, READ_SIZE)
        self._poll_fd = stdin_fd
        self._write_fd = stdout_fd
        try:
            while True:
                data = self._read()
                if not data:
                    break
                out = self.receive(data)
                if out:
                    _write_all(stdout_fd, out)
            out = self.receive_eof()
            if out:
                _write_all(stdout_fd, out)
        except BrokenPipeError:
            pass  # the client went away; nothing is left to answer
        finally:
            self._read = None
            self._write_stats()

    # Private methods

    def _flush(self) -> None:
        if self._write_fd is not None and self._out:
            _write_all(self._write_fd, self._take_output())

    def _take_output(self) -> bytes:
        out, self._out = self._out, []
        return b"".join(out)

    def _poll(self) -> None:
        """Read whatever input is ready, without blocking, and absorb it."""
        if self._poll_fd is None:
            return
        import select

        while select.select([self._poll_fd], [], [], 0)[0]:
            chunk = os.read(self._poll_fd, READ_SIZE)
            if not chunk:
                return
            self._absorb(self._endpoint.receive_data(chunk))

    def _absorb(self, events: list) -> None:
        """Take in events that arrived while a request is running: answers and
        cancellations now, pings now, everything else after the running request."""
        for event in events:
            kind = event.__class__
            if kind is Response or kind is ErrorResponse:
                self._waiting[event.id] = event
            elif kind is Notification and event.method == "notifications/cancelled":
                self._cancelled.add((event.params or {}).get("requestId"))
            elif kind is Request and event.method == "ping":
                self._out.append(self._endpoint.send_result(event.id, {}))
                self._flush()
            else:
                self._deferred.append(event)

    def _handle_all(self, events: list) -> None:
        # Cancellations in this batch apply to the requests before them that are not
        # yet handled: MCP basic/utilities/cancellation, the receiver SHOULD "Not send a
        # response for the cancelled request".
        for event in events:
            if event.__class__ is Notification and event.method == "notifications/cancelled":
                self._cancelled.add((event.params or {}).get("requestId"))
        for event in events:
            self._handle(event)
            while self._deferred:
                self._handle(self._deferred.pop(0))

    def _handle(self, event: Any) -> None:
        kind = event.__class__
        if kind is Notification and event.method == "notifications/cancelled":
            # basic/patterns/subscriptions: a client ends a subscription by cancelling it.
            self._listeners.pop((event.params or {}).get("requestId"), None)
        if kind is Request:
            self.stats["requests"] += 1
            if event.id in self._cancelled:
                self._cancelled.discard(event.id)
                return
            answer = self._answer(event)  # before touching _out: a tool may flush it meanwhile
            if answer is not None:
                self._out.append(answer)
            self._cancelled.discard(event.id)
        elif kind is Notification:
            self.stats["notifications"] += 1
        elif kind is InvalidMessage:
            self.stats["invalid"] += 1
            # JSON-RPC 2.0 section 5: a request that cannot be read gets an error, with a
            # null id when its id cannot be read either.
            self._out.append(self._endpoint.send_error(event.id, event.code, event.reason))
        elif kind is Oversized:  # pragma: no cover - the server sets no limit
            self.stats["invalid"] += 1
        elif kind is Response or kind is ErrorResponse:
            self._waiting[event.id] = event

    def _answer(self, request: Request) -> bytes | None:
        endpoint = self._endpoint
        params = request.params or {}
        is_modern = modern.is_modern_request(params)
        handlers = _MODERN_HANDLERS if is_modern else _HANDLERS
        handler = handlers.get(request.method)
        if handler is None:
            return endpoint.send_error(request.id, METHOD_NOT_FOUND, f"Method not found: {request.method}")
        try:
            if is_modern:
                self._modern = self._check_modern(params)
            result = handler(self, params, request.id)
        except _ParamsError as exc:
            return endpoint.send_error(request.id, exc.code, str(exc), exc.data)
        except Exception as exc:  # the server must answer, whatever a handler did
            return endpoint.send_error(request.id, INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        finally:
            self._modern = None
        if result is _NO_ANSWER:
            return None
        if is_modern:
            result = dict(result)
            result.setdefault("resultType", "complete")
            result["_meta"] = dict(result.get("_meta") or {},
                                   **{modern.SERVER_INFO: {"name": self.name, "version": self.version}})
        return endpoint.send_result(request.id, result)

    def _check_modern(self, params: dict) -> dict:
        """Validate the per-request fields of a 2026-07-28 request; return its context."""
        meta = params["_meta"]
        version = meta.get(modern.PROTOCOL_VERSION)
        if version not in modern.MODERN_VERSIONS:
            # MCP 2026-07-28, basic/versioning: the server "MUST respond with an
            # UnsupportedProtocolVersionError listing the versions it does support".
            raise _ParamsError("Unsupported protocol version", modern.UNSUPPORTED_PROTOCOL_VERSION,
                               {"supported": list(modern.MODERN_VERSIONS + HANDSHAKE_VERSIONS), "requested": version})
        if not isinstance(meta.get(modern.CLIENT_CAPABILITIES), dict):
            # basic/index: "A request missing any required field is malformed; the server
            # MUST reject it with JSON-RPC error code -32602 (Invalid params)."
            raise _ParamsError(f"_meta lacks {modern.CLIENT_CAPABILITIES}")
        responses: dict = {}
        state = params.get("requestState")
        if isinstance(state, str):
            responses.update(_decode_state(state))
        if isinstance(params.get("inputResponses"), dict):
            responses.update(params["inputResponses"])
        return {"meta": meta, "responses": responses}

    def _capabilities(self) -> dict:
        capabilities: dict = {"tools": {"listChanged": True}, "logging": {}}
        if self._resources or self._templates:
            capabilities["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            capabilities["prompts"] = {"listChanged": True}
        if self._completions and self.protocol_version >= "2025-03-26":
            capabilities["completions"] = {}
        if self.protocol_version >= "2025-11-25":
            capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        return capabilities

    def _page(self, items: list, params: dict, key: str) -> dict:
        start = 0
        cursor = params.get("cursor")
        if cursor is not None:
            if not (isinstance(cursor, str) and cursor.isdigit() and int(cursor) <= len(items)):
                raise _ParamsError(f"invalid cursor {cursor!r}")
            start = int(cursor)
        end = len(items) if self.page_size is None else start + self.page_size
        result: dict = {key: items[start:end]}
        if end < len(items):
            result["nextCursor"] = str(end)
        if self._modern is not None:
            # basic/patterns/caching: a cache hint; these lists change only on list_changed.
            result.update(ttlMs=_CACHE_TTL_MS, cacheScope="public")
        return result

    def _call(self, entry: _Entry, arguments: dict, request_id: Any, params: dict) -> Any:
        if entry.wants_ctx:
            token = (params.get("_meta") or {}).get("progressToken")
            arguments = dict(arguments, ctx=Context(self, request_id, token, self._modern))
        return entry.func(**arguments)

    def _input_required(self, exc: _InputRequired) -> dict:
        """Return the InputRequiredResult of basic/patterns/mrtr for a tool that needs input."""
        assert self._modern is not None
        return {"resultType": "input_required",
                "inputRequests": {exc.key: {"method": exc.method, "params": exc.params}},
                "requestState": _encode_state(self._modern["responses"])}

    # Handlers (method -> function, see _HANDLERS)

    def _initialize(self, params: dict, request_id: Any) -> dict:
        self.stats["initialize"] += 1
        self.protocol_version = negotiate_version(params.get("protocolVersion"))
        self.client_capabilities = params.get("capabilities") or {}
        result: dict = {"protocolVersion": self.protocol_version, "capabilities": self._capabilities(),
                        "serverInfo": {"name": self.name, "version": self.version}}
        if self.instructions:
            result["instructions"] = self.instructions
        return result

    def _ping(self, params: dict, request_id: Any) -> dict:
        return {}

    def _list_tools(self, params: dict, request_id: Any) -> dict:
        tools = []
        for entry in self._tools.values():
            definition = entry.definition
            if self.version_in_use() < "2025-06-18":  # outputSchema and title came in 2025-06-18
                definition = {k: v for k, v in definition.items() if k not in ("outputSchema", "title")}
            elif self._modern is None and self.protocol_version >= "2025-11-25":
                definition = dict(definition, execution={"taskSupport": "optional"})
            tools.append(definition)
        return self._page(tools, params, "tools")

    def _call_tool(self, params: dict, request_id: Any) -> dict:
        name = params.get("name")
        entry = self._tools.get(name)  # type: ignore[arg-type]
        if entry is None:
            # MCP 2025-11-25, server/tools "Error Handling": unknown tools are a protocol
            # error (-32602), unlike failures inside a tool.
            raise _ParamsError(f"Unknown tool: {name!r}")
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise _ParamsError("arguments must be an object")
        task = params.get("task")
        if task is not None and self.protocol_version >= "2025-11-25":
            return self._create_task(entry, arguments, request_id, params, task)
        return self._run_tool(entry, arguments, request_id, params)

    def _run_tool(self, entry: _Entry, arguments: dict, request_id: Any, params: dict) -> dict:
        unknown = [key for key in arguments if key not in entry.params]
        try:
            if unknown:
                raise ToolError(f"unexpected arguments: {', '.join(sorted(unknown))}")
            result = _tool_result(self._call(entry, arguments, request_id, params))
        except _InputRequired as exc:
            return self._input_required(exc)
        except _ParamsError:
            raise
        except Exception as exc:
            # MCP 2025-11-25, server/tools: tool execution errors are reported "in the result
            # object, not as an MCP protocol-level error", with isError set, so that the model
            # can see them and correct itself.
            message = str(exc) if isinstance(exc, ToolError) else f"{type(exc).__name__}: {exc}"
            return {"content": [{"type": "text", "text": message}], "isError": True}
        if self.version_in_use() < "2025-06-18":
            result.pop("structuredContent", None)
        return result

    def _create_task(self, entry: _Entry, arguments: dict, request_id: Any, params: dict, task: dict) -> dict:
        # MCP 2025-11-25, basic/utilities/tasks: the receiver answers a task-augmented
        # request with CreateTaskResult at once; this server runs the tool to the end
        # before answering, so the task is already complete.
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        task_id = os.urandom(8).hex()
        result = self._run_tool(entry, arguments, request_id, params)
        state = {"taskId": task_id, "status": "failed" if result.get("isError") else "completed",
                 "createdAt": now, "lastUpdatedAt": now, "ttl": task.get("ttl")}
        self._tasks[task_id] = {"task": state, "result": result}
        return {"task": dict(state)}

    def _task(self, params: dict) -> dict:
        entry = self._tasks.get(params.get("taskId"))  # type: ignore[arg-type]
        if entry is None:
            raise _ParamsError(f"Unknown task: {params.get('taskId')!r}")
        return entry

    def _get_task(self, params: dict, request_id: Any) -> dict:
        return dict(self._task(params)["task"])

    def _task_result(self, params: dict, request_id: Any) -> dict:
        entry = self._task(params)
        result = dict(entry["result"])
        result["_meta"] = {"io.modelcontextprotocol/related-task": {"taskId": entry["task"]["taskId"]}}
        return result

    def _list_tasks(self, params: dict, request_id: Any) -> dict:
        return self._page([dict(entry["task"]) for entry in self._tasks.values()], params, "tasks")

    def _cancel_task(self, params: dict, request_id: Any) -> dict:
        entry = self._task(params)
        if entry["task"]["status"] in ("completed", "failed", "cancelled"):
            raise _ParamsError(f"task {entry['task']['taskId']} is already {entry['task']['status']}")
        entry["task"]["status"] = "cancelled"
        return dict(entry["task"])

    def _list_resources(self, params: dict, request_id: Any) -> dict:
        return self._page([entry.definition for entry in self._resources.values()], params, "resources")

    def _list_templates(self, params: dict, request_id: Any) -> dict:
        return self._page([entry.definition for entry in self._templates], params, "resourceTemplates")

    def _find_resource(self, uri: Any) -> tuple[_Entry, dict]:
        if uri in self._resources:
            return self._resources[uri], {}
        for entry in self._templates:
            match = entry.pattern.match(uri) if isinstance(uri, str) else None
            if match:
                return entry, match.groupdict()
        # MCP 2025-11-25, server/resources "Error Handling": "Resource not found: -32002";
        # 2026-07-28 replaced it with -32602 (basic/index, "Error Codes").
        raise _ParamsError(f"Resource not found: {uri}", INVALID_PARAMS if self._modern else RESOURCE_NOT_FOUND)

    def _read_resource(self, params: dict, request_id: Any) -> dict:
        uri = params.get("uri")
        entry, variables = self._find_resource(uri)
        try:
            value = self._call(entry, variables, request_id, params)
        except _InputRequired as exc:
            return self._input_required(exc)
        contents: dict = {"uri": uri, "mimeType": entry.definition.get("mimeType", "text/plain")}
        if isinstance(value, (bytes, bytearray)):
            import base64

            contents["blob"] = base64.b64encode(value).decode("ascii")
        else:
            contents["text"] = str(value)
        return {"contents": [contents]}

    def _subscribe(self, params: dict, request_id: Any) -> dict:
        self._find_resource(params.get("uri"))
        self._subscriptions.add(params["uri"])
        return {}

    def _unsubscribe(self, params: dict, request_id: Any) -> dict:
        self._subscriptions.discard(params.get("uri"))  # type: ignore[arg-type]
        return {}

    def _list_prompts(self, params: dict, request_id: Any) -> dict:
        return self._page([entry.definition for entry in self._prompts.values()], params, "prompts")

    def _get_prompt(self, params: dict, request_id: Any) -> dict:
        name = params.get("name")
        entry = self._prompts.get(name)  # type: ignore[arg-type]
        if entry is None:
            raise _ParamsError(f"Unknown prompt: {name!r}")
        arguments = params.get("arguments") or {}
        missing = [arg["name"] for arg in entry.definition["arguments"]
                   if arg["required"] and arg["name"] not in arguments]
        if missing:
            raise _ParamsError(f"missing prompt arguments: {', '.join(missing)}")
        try:
            value = self._call(entry, arguments, request_id, params)
        except _InputRequired as exc:
            return self._input_required(exc)
        if isinstance(value, str):
            messages = [{"role": "user", "content": {"type": "text", "text": value}}]
        else:
            messages = list(value)
        result: dict = {"messages": messages}
        if entry.definition.get("description"):
            result["description"] = entry.definition["description"]
        return result

    def _complete(self, params: dict, request_id: Any) -> dict:
        ref = params.get("ref") or {}
        argument = params.get("argument") or {}
        key = ref.get("name") if ref.get("type") == "ref/prompt" else ref.get("uri")
        func = self._completions.get((key, argument.get("name")))
        values = []
        if func is not None:
            context = (params.get("context") or {}).get("arguments") or {}
            values = [str(v) for v in func(argument.get("value", ""), context)]
        # MCP server/utilities/completion: at most 100 values per response.
        return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}

    def _set_level(self, params: dict, request_id: Any) -> dict:
        level = params.get("level")
        if level not in _LEVELS:
            raise _ParamsError(f"unknown logging level {level!r}")
        self._log_level = level  # type: ignore[assignment]
        return {}

    def _discover(self, params: dict, request_id: Any) -> dict:
        result: dict = {"resultType": "complete", "supportedVersions": list(modern.MODERN_VERSIONS),
                        "capabilities": self._modern_capabilities(), "ttlMs": _CACHE_TTL_MS, "cacheScope": "public",
                        "_meta": {modern.SERVER_INFO: {"name": self.name, "version": self.version}}}
        if self.instructions:
            result["instructions"] = self.instructions
        return result

    def _modern_capabilities(self) -> dict:
        capabilities: dict = {"tools": {"listChanged": True}, "logging": {}}
        if self._resources or self._templates:
            capabilities["resources"] = {"subscribe": True, "listChanged": True}
        if self._prompts:
            capabilities["prompts"] = {"listChanged": True}
        if self._completions:
            capabilities["completions"] = {}
        return capabilities

    def _listen(self, params: dict, request_id: Any) -> Any:
        wanted = params.get("notifications")
        if not isinstance(wanted, dict):
            raise _ParamsError("subscriptions/listen needs a notifications filter")
        accepted = {key: value for key, value in wanted.items()
                    if key in ("toolsListChanged", "promptsListChanged", "resourcesListChanged",
                               "resourceSubscriptions")}
        self._listeners[request_id] = accepted
        # basic/patterns/subscriptions: the acknowledgement "MUST be the first message the
        # server sends carrying the subscription's ID".
        self._out.append(self._endpoint.send_notification(
            "notifications/subscriptions/acknowledged",
            {"_meta": {modern.SUBSCRIPTION_ID: request_id}, "notifications": accepted}))
        return _NO_ANSWER

    def _write_stats(self) -> None:
        path = os.environ.get("MCP_STDIO_SERVER_STATS")
        if not path:
            return
        line = json.dumps(dict(self.stats, pid=os.getpid())) + "\n"
        # O_APPEND writes of one short line are atomic, so concurrent servers can share a file.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


_HANDLERS: dict[str, Callable[[Server, dict, Any], Any]] = {
    "initialize": Server._initialize,
    "ping": Server._ping,
    "tools/list": Server._list_tools,
    "tools/call": Server._call_tool,
    "resources/list": Server._list_resources,
    "resources/templates/list": Server._list_templates,
    "resources/read": Server._read_resource,
    "resources/subscribe": Server._subscribe,
    "resources/unsubscribe": Server._unsubscribe,
    "prompts/list": Server._list_prompts,
    "prompts/get": Server._get_prompt,
    "completion/complete": Server._complete,
    "logging/setLevel": Server._set_level,
    "tasks/get": Server._get_task,
    "tasks/result": Server._task_result,
    "tasks/list": Server._list_tasks,
    "tasks/cancel": Server._cancel_task,
}


# The methods of 2026-07-28: the handshake-era ones minus those it removed (initialize,
# logging/setLevel, resources/subscribe and unsubscribe; tasks moved to an extension).
_MODERN_HANDLERS = {method: handler for method, handler in _HANDLERS.items()
                    if method not in ("initialize", "logging/setLevel", "resources/subscribe",
                                      "resources/unsubscribe") and not method.startswith("tasks/")}
_MODERN_HANDLERS["server/discover"] = Server._discover
_MODERN_HANDLERS["subscriptions/listen"] = Server._listen
# A legacy client may probe too: server/discover is answered whatever the request carries.
_HANDLERS["server/discover"] = Server._discover

# How long (milliseconds) clients may cache lists and discover results.
_CACHE_TTL_MS = 60_000


def _encode_state(responses: dict) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(responses, separators=(",", ":")).encode()).decode("ascii")


def _decode_state(state: str) -> dict:
    import base64

    try:
        decoded = json.loads(base64.urlsafe_b64decode(state.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise _ParamsError(f"invalid requestState: {exc}") from None
    if not isinstance(decoded, dict):
        raise _ParamsError("invalid requestState")
    return decoded


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def build_reference_server() -> Server:
    """Return the reference server (defined in :mod:`mcp_stdio.reference`)."""
    from .reference import build

    return build()


def main(argv: list[str] | None = None) -> int:
    """Run the reference server on stdin and stdout."""
    build_reference_server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
