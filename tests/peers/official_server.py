"""A server written with the official `mcp` Python package (2.x), a development-only peer."""

from typing import TypedDict

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import Completion

server = MCPServer("official-peer", instructions="A server built with the official SDK.")


class Weather(TypedDict):
    city: str
    celsius: float


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def weather(city: str) -> Weather:
    """Structured output with an output schema."""
    return {"city": city, "celsius": 21.5}


@server.tool()
async def slow(steps: int, ctx: Context) -> str:
    """Report progress, then log."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
    await ctx.info("slow finished")
    return f"done after {steps} steps"


@server.tool()
def fail() -> str:
    """Always fails."""
    raise ValueError("this tool always fails")


@server.resource("peer://greeting")
def greeting() -> str:
    """A static text resource."""
    return "hello from the official SDK"


@server.resource("peer://items/{item_id}")
def item(item_id: str) -> str:
    """A templated resource."""
    return f"item {item_id}"


@server.prompt()
def review(code: str, language: str = "python") -> str:
    """A prompt with arguments."""
    return f"Review this {language} code:\n{code}"


@server.completion()
async def complete(ref, argument, context):
    if argument.name == "language":
        return Completion(values=[v for v in ("python", "rust", "go") if v.startswith(argument.value)])
    return None


if __name__ == "__main__":
    server.run("stdio")
