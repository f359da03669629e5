"""Protocol constants and the shapes of MCP messages.

Results stay plain dicts at run time; the TypedDicts here document their keys for type
checkers and readers. Only the shapes the library itself reads or writes are spelled out.
"""

from __future__ import annotations

from typing import Any

try:  # typing.TypedDict with total=False exists on every supported Python (3.9+)
    from typing import TypedDict
except ImportError:  # pragma: no cover
    TypedDict = dict  # type: ignore[misc,assignment]

__all__ = [
    "LATEST_HANDSHAKE_VERSION",
    "HANDSHAKE_VERSIONS",
    "Implementation",
    "InitializeResult",
    "Tool",
    "ListToolsResult",
    "TextContent",
    "CallToolResult",
    "tool_text",
    "is_error",
]

from .session import HANDSHAKE_VERSIONS, LATEST_HANDSHAKE_VERSION


class Implementation(TypedDict, total=False):
    """``clientInfo`` / ``serverInfo``: who is at the other end."""

    name: str
    version: str
    title: str


class InitializeResult(TypedDict, total=False):
    """The server's answer to ``initialize``."""

    protocolVersion: str
    capabilities: dict[str, Any]
    serverInfo: Implementation
    instructions: str


class Tool(TypedDict, total=False):
    """One tool of ``tools/list``."""

    name: str
    title: str
    description: str
    inputSchema: dict[str, Any]
    outputSchema: dict[str, Any]
    annotations: dict[str, Any]


class ListToolsResult(TypedDict, total=False):
    """One page of ``tools/list``."""

    tools: list[Tool]
    nextCursor: str


class TextContent(TypedDict, total=False):
    """A text content block."""

    type: str
    text: str


class CallToolResult(TypedDict, total=False):
    """The result of ``tools/call``."""

    content: list[dict[str, Any]]
    structuredContent: dict[str, Any]
    isError: bool


def tool_text(result: dict) -> str:
    """Return the text of a ``tools/call`` result: its text blocks joined by newlines."""
    return "\n".join(
        block.get("text", "")
        for block in result.get("content") or ()
        if isinstance(block, dict) and block.get("type") == "text"
    )


def is_error(result: dict) -> bool:
    """Return whether a ``tools/call`` result reports a tool error (``isError: true``)."""
    return bool(result.get("isError"))
