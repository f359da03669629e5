"""The reference server: every handshake-era feature, small enough to read in one sitting.

Run it with ``python -m mcp_stdio.server``. Tools:

* ``echo(text)``, ``add(a, b)``, ``blob(size)``: the benchmarks' work horses;
* ``sleep(seconds)``: waits on the event loop, reporting progress; a cancellation stops it;
* ``weather(city)``: structured output with an output schema;
* ``fail(message)``: a tool error (``isError``);
* ``log(level, message)``: a ``notifications/message`` at ``level``;
* ``sample(prompt)``, ``sample_as_task(prompt)``, ``ask(question)``, ``ask_url(url)``,
  ``roots()``: requests to the client (sampling, also as a task, form and URL elicitation,
  roots);
* ``touch(item)``: changes a resource, notifying subscribers.

Resources: ``reference://readme`` (text), ``reference://logo`` (binary) and the template
``reference://items/{item}``. Prompts: ``greeting(name)`` and
``code_review(code, language)``, with completion of ``language``. Lists are served two
items a page, so that clients' pagination is exercised.
"""

from __future__ import annotations

import asyncio
import time

from .errors import ToolError
from .server import Context, Server

__all__ = ["build"]

_LANGUAGES = ("c", "go", "javascript", "python", "rust", "typescript")


def build() -> Server:
    """Return the reference server with its tools, resources and prompts."""
    server = Server("mcp_stdio-reference",
                    instructions="The mcp_stdio reference server: echo, add, sleep, blob and more.",
                    page_size=2)
    items = {"1": "first item", "2": "second item"}

    # The benchmarks' work horses are coroutine functions: they run on the event loop, with
    # no worker thread in the way.
    @server.tool()
    async def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    @server.tool()
    async def add(a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @server.tool()
    async def sleep(seconds: float, ctx: Context) -> str:
        """Wait for the given number of seconds, reporting progress; a cancellation stops it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        step = 0
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return "slept"
            await asyncio.sleep(min(0.05, left))
            step += 1
            ctx.report_progress(min(seconds, step * 0.05), seconds)

    @server.tool()
    async def blob(size: int) -> str:
        """Return a text of exactly size bytes."""
        return "x" * size

    @server.tool(output_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}, "celsius": {"type": "number"}},
        "required": ["city", "celsius"],
    })
    def weather(city: str) -> dict:
        """Return the weather of a city, as structured content."""
        return {"city": city, "celsius": 21.5}

    @server.tool()
    def fail(message: str = "this tool always fails") -> str:
        """Fail with the given message (a tool error, not a protocol error)."""
        raise ToolError(message)

    @server.tool()
    def log(level: str, message: str, ctx: Context) -> str:
        """Send a log message to the client at the given level."""
        ctx.log(level, message, "reference")
        return f"logged at {level}"

    @server.tool()
    async def sample(prompt: str, ctx: Context) -> str:
        """Ask the client's model (sampling/createMessage) and return its answer."""
        result = await ctx.sample([{"role": "user", "content": {"type": "text", "text": prompt}}], max_tokens=100)
        content = result.get("content")
        return content.get("text", "") if isinstance(content, dict) else ""

    @server.tool()
    async def sample_as_task(prompt: str, ctx: Context) -> dict:
        """Ask the client's model as a task (2025-11-25): create it, look at it, wait for its result."""
        if not ctx.supports("tasks.requests.sampling.createMessage"):
            raise ToolError("the client does not run sampling requests as tasks")
        created = await ctx.request("sampling/createMessage", {
            "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}], "maxTokens": 100,
            "task": {"ttl": 60000}})
        task_id = created["task"]["taskId"]
        status = (await ctx.request("tasks/get", {"taskId": task_id}))["status"]
        listed = [task["taskId"] for task in (await ctx.request("tasks/list", {}))["tasks"]]
        result = await ctx.request("tasks/result", {"taskId": task_id})
        return {"first_status": status, "listed": task_id in listed, "text": result["content"]["text"]}

    @server.tool()
    async def ask(question: str, ctx: Context) -> dict:
        """Ask the user a question through the client (elicitation, form mode)."""
        return await ctx.elicit(question, {"type": "object", "properties": {"answer": {"type": "string"}},
                                           "required": ["answer"]})

    @server.tool()
    async def ask_url(url: str, ctx: Context) -> dict:
        """Send the user to a URL through the client (elicitation, URL mode)."""
        return await ctx.elicit_url("Please open this page.", url, "reference-elicitation")

    @server.tool()
    async def roots(ctx: Context) -> dict:
        """Return the client's roots."""
        return {"roots": await ctx.list_roots()}

    @server.tool()
    def touch(item: str, ctx: Context) -> str:
        """Change an item, notifying subscribers of reference://items/<item>."""
        items[item] = f"item {item}, changed at {time.time():.3f}"
        server.notify_resource_updated(f"reference://items/{item}")
        return "touched"

    @server.resource("reference://readme", description="What this server is.")
    def readme() -> str:
        return "The mcp_stdio reference server."

    @server.resource("reference://logo", mime_type="image/png", description="A tiny binary resource.")
    def logo() -> bytes:
        return b"\x89PNG\r\n\x1a\n" + bytes(range(32))

    @server.resource_template("reference://items/{item}", description="An item by its name.")
    def item(item: str) -> str:
        return items.get(item, f"item {item}")

    @server.prompt(description="Greet someone.")
    def greeting(name: str) -> str:
        return f"Please greet {name} warmly."

    @server.prompt(description="Review code in a language.")
    def code_review(code: str, language: str = "python") -> list:
        return [
            {"role": "user", "content": {"type": "text", "text": f"Review this {language} code:"}},
            {"role": "user", "content": {"type": "text", "text": code}},
        ]

    @server.completion("code_review", "language")
    def complete_language(value: str, context: dict) -> list:
        return [language for language in _LANGUAGES if language.startswith(value)]

    return server
