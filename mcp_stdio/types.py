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
    "Resource",
    "ListResourcesResult",
    "ResourceTemplate",
    "ListResourceTemplatesResult",
    "ReadResourceResult",
    "Prompt",
    "ListPromptsResult",
    "GetPromptResult",
    "CompleteResult",
    "Task",
    "CreateTaskResult",
    "ListTasksResult",
    "tool_text",
    "is_error",
]

from .lifecycle import HANDSHAKE_VERSIONS, LATEST_HANDSHAKE_VERSION


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


class Resource(TypedDict, total=False):
    """One resource of ``resources/list``."""

    uri: str
    name: str
    title: str
    description: str
    mimeType: str


class ListResourcesResult(TypedDict, total=False):
    """The result of ``resources/list``."""

    resources: list[Resource]
    nextCursor: str


class ResourceTemplate(TypedDict, total=False):
    """One template of ``resources/templates/list``."""

    uriTemplate: str
    name: str
    description: str
    mimeType: str


class ListResourceTemplatesResult(TypedDict, total=False):
    """The result of ``resources/templates/list``."""

    resourceTemplates: list[ResourceTemplate]
    nextCursor: str


class ReadResourceResult(TypedDict, total=False):
    """The result of ``resources/read``: ``contents`` with ``text`` or base64 ``blob``."""

    contents: list[dict[str, Any]]


class Prompt(TypedDict, total=False):
    """One prompt of ``prompts/list``."""

    name: str
    title: str
    description: str
    arguments: list[dict[str, Any]]


class ListPromptsResult(TypedDict, total=False):
    """The result of ``prompts/list``."""

    prompts: list[Prompt]
    nextCursor: str


class GetPromptResult(TypedDict, total=False):
    """The result of ``prompts/get``."""

    description: str
    messages: list[dict[str, Any]]


class CompleteResult(TypedDict, total=False):
    """The result of ``completion/complete``: ``completion`` with ``values``."""

    completion: dict[str, Any]


class Task(TypedDict, total=False):
    """A task (2025-11-25, experimental)."""

    taskId: str
    status: str
    statusMessage: str
    createdAt: str
    lastUpdatedAt: str
    ttl: int
    pollInterval: int


class CreateTaskResult(TypedDict, total=False):
    """The answer to a task-augmented request."""

    task: Task


class ListTasksResult(TypedDict, total=False):
    """The result of ``tasks/list``."""

    tasks: list[Task]
    nextCursor: str


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
