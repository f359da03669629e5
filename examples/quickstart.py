"""The README's quick start: talk to the reference server."""

import asyncio

import mcp_stdio


async def main():
    command = mcp_stdio.reference_server_command()  # argv of the reference server
    async with mcp_stdio.connect(command) as client:
        print(client.server_info["name"], client.protocol_version)
        tools = await client.list_tools()
        print([tool["name"] for tool in tools["tools"]])
        result = await client.call_tool("echo", {"text": "hello"})
        print(mcp_stdio.tool_text(result))
        print(await asyncio.gather(*(client.call_tool("add", {"a": i, "b": 1}) for i in range(3))))


asyncio.run(main())
