"""mcp_stdio: a fast, dependency-free Model Context Protocol client and server over stdio.

Quick start::

    import asyncio
    import mcp_stdio

    async def main():
        async with mcp_stdio.connect(mcp_stdio.reference_server_command()) as client:
            result = await client.call_tool("echo", {"text": "hello"})
            print(mcp_stdio.tool_text(result))

    asyncio.run(main())

Importing this package is cheap: the client (and asyncio with it) is loaded the first time
one of its names is used, so the reference server and tools that only need the protocol
core start fast. Type checkers see every name with its type (the imports under
``TYPE_CHECKING`` below).
"""

from __future__ import annotations

from .errors import (
    CapabilityError,
    ClientClosedError,
    ConfigError,
    ConnectionClosed,
    InputRequired,
    LocalProtocolError,
    MCPStdioError,
    MessageTooLarge,
    ProtocolError,
    RemoteError,
    RemoteProtocolError,
    RequestError,
    RequestTimeout,
    SchemaError,
    ServerExited,
    SpawnError,
    StartError,
    ToolError,
    UnsupportedProtocolVersion,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .client import Client, connect
    from .options import DEFAULT_TIMEOUT
    from .group import ClientGroup, connect_all
    from .pool import Agent, Pool, pool
    from .types import (
        CallToolResult,
        CompleteResult,
        GetPromptResult,
        InitializeResult,
        ListPromptsResult,
        ListResourcesResult,
        ListResourceTemplatesResult,
        ListToolsResult,
        ReadResourceResult,
        is_error,
        tool_text,
    )

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "reference_server_command",
    # client (loaded lazily)
    "connect",
    "Client",
    "DEFAULT_TIMEOUT",
    "connect_all",
    "ClientGroup",
    "pool",
    "Pool",
    "Agent",
    # results and helpers
    "tool_text",
    "is_error",
    "InitializeResult",
    "ListToolsResult",
    "CallToolResult",
    "ListResourcesResult",
    "ListResourceTemplatesResult",
    "ReadResourceResult",
    "ListPromptsResult",
    "GetPromptResult",
    "CompleteResult",
    # errors
    "MCPStdioError",
    "StartError",
    "SpawnError",
    "UnsupportedProtocolVersion",
    "ConnectionClosed",
    "ServerExited",
    "MessageTooLarge",
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "CapabilityError",
    "SchemaError",
    "RequestError",
    "RemoteError",
    "ToolError",
    "InputRequired",
    "RequestTimeout",
    "ClientClosedError",
    "ConfigError",
]

# name -> submodule that defines it, imported on first use (PEP 562).
_LAZY = {
    "connect": "client",
    "Client": "client",
    "DEFAULT_TIMEOUT": "options",
    "connect_all": "group",
    "ClientGroup": "group",
    "pool": "pool",
    "Pool": "pool",
    "Agent": "pool",
    "tool_text": "types",
    "is_error": "types",
    "InitializeResult": "types",
    "ListToolsResult": "types",
    "CallToolResult": "types",
    "ListResourcesResult": "types",
    "ListResourceTemplatesResult": "types",
    "ReadResourceResult": "types",
    "ListPromptsResult": "types",
    "GetPromptResult": "types",
    "CompleteResult": "types",
}


def reference_server_command(*, lean: bool = False) -> list[str]:
    """Return the argv that runs this package's reference server, wherever it was imported from.

    The child gets no ``PYTHONPATH`` (the environment is an allow-list), so ``python -m
    mcp_stdio.server`` only works where the package is installed; this command names the
    folder that holds this copy of the package, so it also works from a checkout or a
    vendored ``mcp_stdio/`` folder.

    Args:
        lean: start the interpreter with ``-S`` (no ``site`` module): a faster start, as the
            benchmarks use it; the package's folder is on the path either way.
    """
    import os
    import sys

    parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = f"import sys; sys.path.insert(0, {parent!r}); from mcp_stdio.server import main; sys.exit(main())"
    return [sys.executable, *(("-S",) if lean else ()), "-c", code]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'mcp_stdio' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
