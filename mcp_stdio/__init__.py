"""mcp_stdio: a fast, dependency-free Model Context Protocol client and server over stdio.

Quick start::

    import asyncio, sys
    import mcp_stdio

    async def main():
        async with mcp_stdio.connect([sys.executable, "-m", "mcp_stdio.server"]) as client:
            result = await client.call_tool("echo", {"text": "hello"})
            print(mcp_stdio.tool_text(result))

    asyncio.run(main())

Importing this package is cheap: the client (and asyncio with it) is loaded the first time
one of its names is used, so the reference server and tools that only need the protocol
core start fast.
"""

from __future__ import annotations


from .errors import (
    CapabilityError,
    ClientClosedError,
    ConfigError,
    ConnectionClosed,
    LocalProtocolError,
    MCPStdioError,
    MessageTooLarge,
    ProtocolError,
    RemoteError,
    RemoteProtocolError,
    RequestTimeout,
    ServerExited,
    SpawnError,
    StartError,
    UnsupportedProtocolVersion,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # client (loaded lazily)
    "connect",
    "Client",
    "DEFAULT_TIMEOUT",
    "connect_all",
    "ClientGroup",
    # helpers
    "tool_text",
    "is_error",
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
    "RemoteError",
    "RequestTimeout",
    "ClientClosedError",
    "ConfigError",
]

# name -> submodule that defines it, imported on first use (PEP 562).
_LAZY = {
    "connect": "client",
    "Client": "client",
    "DEFAULT_TIMEOUT": "client",
    "connect_all": "group",
    "ClientGroup": "group",
    "tool_text": "types",
    "is_error": "types",
}


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
