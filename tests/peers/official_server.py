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
async def favourite(ctx: Context):
    """Ask the user: elicitation as a request (handshake era) or as input_required (2026-07-28)."""
    from mcp_types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult

    schema = {"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]}
    if ctx.protocol_version and ctx.protocol_version >= "2026-07-28":
        answer = (ctx.input_responses or {}).get("colour")
        if answer is None:
            request = ElicitRequest(method="elicitation/create", params=ElicitRequestFormParams(
                mode="form", message="Favourite colour?", requested_schema=schema))
            return InputRequiredResult(input_requests={"colour": request}, request_state="asked-colour")
        content = answer.content if hasattr(answer, "content") else answer["content"]
        return f"accept: {content['colour']} ({ctx.request_state})"
    from pydantic import BaseModel

    class Answer(BaseModel):
        colour: str

    result = await ctx.elicit("Favourite colour?", Answer)
    return f"{result.action}: {result.data.colour if result.action == 'accept' else '-'}"


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
