"""The reference MCP server, on the same sans-I/O core as the client.

Run it with ``python -m mcp_stdio.server``. It speaks the handshake-era protocol over stdio
and serves these tools:

* ``echo(text)``: returns ``text`` as one text block;
* ``add(a, b)``: returns ``a + b``;
* ``sleep(seconds)``: waits, then returns ``"slept"`` (for timeout tests);
* ``blob(size)``: returns a text block of ``size`` bytes (for large-message benchmarks).

Write your own with the decorator API::

    from mcp_stdio.server import Server

    server = Server("demo")

    @server.tool()
    def greet(name: str, excited: bool = False) -> str:
        "Say hello."
        return f"Hello, {name}{'!' if excited else '.'}"

    server.run()

The input schema of a tool comes from its signature (``str``, ``int``, ``float``, ``bool``,
``list``, ``dict`` and their ``Optional`` forms; parameters without a default are
required), its description from the docstring.

Theory of operation
-------------------
The server is a plain blocking loop: read what stdin has, answer every complete message,
write all answers in one call, repeat; at end of input answer what is left and exit. It
imports neither asyncio nor threads, so it starts in a few milliseconds: the benchmarks
spawn it by the thousand. Set ``MCP_STDIO_SERVER_STATS`` to a file name and it appends one
JSON line of counters to that file when it exits (the benchmarks check with it that every
handshake really happened).
"""

from __future__ import annotations

import json
import os
import sys
import time


from . import __version__
from .errors import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND
from .framing import Oversized
from .jsonrpc import InvalidMessage, Notification, Request
from .session import Endpoint, negotiate_version

TYPE_CHECKING = False  # typing is not imported at run time: the server must start fast
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["Server", "ToolError", "main", "build_reference_server"]

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


class ToolError(Exception):
    """Raise from a tool to report a failure to the model (a result with ``isError``)."""


class _Tool:
    __slots__ = ("name", "func", "definition", "params")

    def __init__(self, name: str, func: Callable, definition: dict, params: tuple[str, ...]) -> None:
        self.name = name
        self.func = func
        self.definition = definition
        self.params = params


def _annotation_schema(annotation: Any) -> dict:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    text = text.replace("typing.", "").replace(" ", "")
    if text.startswith("Optional[") and text.endswith("]"):
        inner = _annotation_schema(text[9:-1])
        return {"anyOf": [inner, {"type": "null"}]} if inner else {}
    if "|" in text:
        parts = [part for part in text.split("|") if part != "None"]
        schemas = [_annotation_schema(part) for part in parts]
        if "None" in text.split("|"):
            schemas.append({"type": "null"})
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    base = text.split("[", 1)[0]
    base = {"List": "list", "Dict": "dict"}.get(base, base)
    return dict(_SCHEMA_TYPES.get(base, {}))


def _signature_schema(func: Callable) -> tuple[dict, tuple[str, ...]]:
    """Build a JSON Schema for the parameters of ``func`` without importing inspect."""
    code = func.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    defaults = func.__defaults__ or ()
    kwdefaults = func.__kwdefaults__ or {}
    positional = names[: code.co_argcount]
    first_default = len(positional) - len(defaults)
    annotations = getattr(func, "__annotations__", {})
    properties: dict = {}
    required: list = []
    for index, name in enumerate(names):
        schema = _annotation_schema(annotations[name]) if name in annotations else {}
        has_default = (index >= first_default) if index < len(positional) else (name in kwdefaults)
        if has_default:
            default = defaults[index - first_default] if index < len(positional) else kwdefaults[name]
            if default is None or isinstance(default, (str, int, float, bool)):
                schema["default"] = default
        else:
            required.append(name)
        properties[name] = schema
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, tuple(names)


def _tool_result(value: Any) -> dict:
    if isinstance(value, dict) and "content" in value and isinstance(value["content"], list):
        return value  # already a CallToolResult
    if isinstance(value, str):
        return {"content": [{"type": "text", "text": value}]}
    if isinstance(value, dict):
        return {"content": [{"type": "text", "text": json.dumps(value, ensure_ascii=False)}],
                "structuredContent": value}
    if value is None:
        return {"content": []}
    return {"content": [{"type": "text", "text": json.dumps(value, ensure_ascii=False)}]}


class Server:
    """A handshake-era MCP server over stdio.

    Args:
        name: ``serverInfo.name``.
        version: ``serverInfo.version``.
        instructions: optional ``instructions`` for the client.
    """

    def __init__(self, name: str = "mcp_stdio-reference", version: str = __version__,
                 instructions: str | None = None) -> None:
        self.name = name
        self.version = version
        self.instructions = instructions
        self._tools: dict[str, _Tool] = {}
        self.stats = {"initialize": 0, "requests": 0, "notifications": 0, "invalid": 0}
        self._out: list[bytes] = []
        self._endpoint = Endpoint(max_message_size=None)
        self.protocol_version: str | None = None

    # Public methods

    def tool(self, name: str | None = None, *, description: str | None = None,
             title: str | None = None, output_schema: dict | None = None) -> Callable[[Callable], Callable]:
        """Register the decorated function as a tool.

        Args:
            name: the tool's name (default: the function's name).
            description: default: the function's docstring.
            title: a human-readable title.
            output_schema: JSON Schema of the tool's structured result, if it returns one.
        """

        def register(func: Callable) -> Callable:
            tool_name = name or func.__name__
            input_schema, params = _signature_schema(func)
            definition: dict = {"name": tool_name, "inputSchema": input_schema}
            doc = description if description is not None else (func.__doc__ or "").strip()
            if doc:
                definition["description"] = doc
            if title:
                definition["title"] = title
            if output_schema is not None:
                definition["outputSchema"] = output_schema
            self._tools[tool_name] = _Tool(tool_name, func, definition, params)
            return func

        return register

    def receive(self, data: bytes) -> bytes:
        """Handle bytes from the client; return the bytes to write back (sans-I/O entry)."""
        for event in self._endpoint.receive_data(data):
            self._handle(event)
        return self._take_output()

    def receive_eof(self) -> bytes:
        """Handle the end of input; return the last bytes to write."""
        for event in self._endpoint.receive_eof():
            self._handle(event)
        return self._take_output()

    def run(self, stdin_fd: int = 0, stdout_fd: int = 1) -> None:
        """Serve on the given file descriptors until end of input."""
        read = os.read
        try:
            while True:
                data = read(stdin_fd, READ_SIZE)
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
            self._write_stats()

    # Private methods

    def _take_output(self) -> bytes:
        out, self._out = self._out, []
        return b"".join(out)

    def _handle(self, event: Any) -> None:
        kind = event.__class__
        if kind is Request:
            self.stats["requests"] += 1
            self._out.append(self._answer(event))
        elif kind is Notification:
            self.stats["notifications"] += 1
        elif kind is InvalidMessage:
            self.stats["invalid"] += 1
            if event.id is not None:
                self._out.append(self._endpoint.send_error(event.id, event.code, event.reason))
            else:
                # JSON-RPC 2.0 section 5: a parse error is answered with a null id.
                self._out.append(self._endpoint.send_error(None, event.code, event.reason))
        elif kind is Oversized:  # pragma: no cover - the server sets no limit
            self.stats["invalid"] += 1
        # Responses: this server sends no requests, so any answer is unexpected: ignored.

    def _answer(self, request: Request) -> bytes:
        endpoint = self._endpoint
        handler = _HANDLERS.get(request.method)
        if handler is None:
            return endpoint.send_error(request.id, METHOD_NOT_FOUND, f"Method not found: {request.method}")
        try:
            result = handler(self, request.params or {})
        except _ParamsError as exc:
            return endpoint.send_error(request.id, INVALID_PARAMS, str(exc))
        except Exception as exc:  # the server must answer, whatever a handler did
            return endpoint.send_error(request.id, INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        return endpoint.send_result(request.id, result)

    def _initialize(self, params: dict) -> dict:
        self.stats["initialize"] += 1
        self.protocol_version = negotiate_version(params.get("protocolVersion"))
        result: dict = {
            "protocolVersion": self.protocol_version,
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": self.name, "version": self.version},
        }
        if self.instructions:
            result["instructions"] = self.instructions
        return result

    def _list_tools(self, params: dict) -> dict:
        return {"tools": [tool.definition for tool in self._tools.values()]}

    def _call_tool(self, params: dict) -> dict:
        name = params.get("name")
        tool = self._tools.get(name)  # type: ignore[arg-type]
        if tool is None:
            # MCP 2025-11-25, server/tools "Error Handling": unknown tools are a protocol
            # error (-32602), unlike failures inside a tool.
            raise _ParamsError(f"Unknown tool: {name!r}")
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise _ParamsError("arguments must be an object")
        unknown = [key for key in arguments if key not in tool.params]
        try:
            if unknown:
                raise ToolError(f"unexpected arguments: {', '.join(sorted(unknown))}")
            return _tool_result(tool.func(**arguments))
        except Exception as exc:
            # MCP 2025-11-25, server/tools: tool execution errors are reported "in the result
            # object, not as an MCP protocol-level error", with isError set, so that the model
            # can see them and correct itself.
            message = str(exc) if isinstance(exc, ToolError) else f"{type(exc).__name__}: {exc}"
            return {"content": [{"type": "text", "text": message}], "isError": True}

    def _ping(self, params: dict) -> dict:
        return {}

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


class _ParamsError(Exception):
    """Invalid params: answered with -32602."""


_HANDLERS: dict[str, Callable[[Server, dict], Any]] = {
    "initialize": Server._initialize,
    "ping": Server._ping,
    "tools/list": Server._list_tools,
    "tools/call": Server._call_tool,
}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def build_reference_server() -> Server:
    """Return the reference server with its tools registered."""
    server = Server(instructions="The mcp_stdio reference server: echo, add, sleep and blob tools.")

    @server.tool()
    def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool()
    def add(a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @server.tool()
    def sleep(seconds: float) -> str:
        """Wait for the given number of seconds, then answer."""
        time.sleep(seconds)
        return "slept"

    @server.tool()
    def blob(size: int) -> str:
        """Return a text of exactly size bytes."""
        return "x" * size

    return server


def main(argv: list[str] | None = None) -> int:
    """Run the reference server on stdin and stdout."""
    build_reference_server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
