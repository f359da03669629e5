"""Many servers at once: :func:`connect_all` and :class:`ClientGroup`.

::

    async with mcp_stdio.connect_all("mcp.json") as group:
        for tool in await group.list_tools():
            print(tool["name"])                      # "files__read_file", "git__log", ...
        result = await group.call_tool("files__read_file", {"path": "README.md"})
        print(group.errors)                          # {"broken": SpawnError(...)} if one failed

Servers start concurrently, at most ``max_concurrent_starts`` at a time (spawning is the
expensive part, and ``npx`` wrappers hammer the disk). A server that fails to start does
not stop the others: its exception is kept in :attr:`ClientGroup.errors`. Tool names are
made collision-free as ``<server><separator><tool>`` and :meth:`ClientGroup.call_tool`
routes by that name. Closing the group closes every server, in parallel.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from .client import Client
from .config import ServerConfig, load_config
from .errors import MCPStdioError

__all__ = ["ClientGroup", "connect_all", "DEFAULT_MAX_CONCURRENT_STARTS"]

# Spawns at once: enough to overlap the handshakes of slow launchers, few enough that a
# config with fifty npx servers does not start fifty Node.js processes in the same second.
DEFAULT_MAX_CONCURRENT_STARTS = 8


def connect_all(servers: Any, **options: Any) -> ClientGroup:
    """Return a :class:`ClientGroup`; nothing starts until ``async with`` (or ``start()``).

    Args:
        servers: a path to an ``mcpServers`` file, the dict such a file holds (or its
            ``mcpServers`` part), or ``{name: argv list}``.
        **options: keyword arguments of :class:`ClientGroup`.
    """
    return ClientGroup(servers, **options)


def _normalize(servers: Any) -> dict[str, ServerConfig]:
    if isinstance(servers, (str, os.PathLike)):
        return load_config(servers)
    if isinstance(servers, dict) and "mcpServers" in servers:
        from .config import parse_config

        return parse_config(servers)
    result = {}
    for name, value in dict(servers).items():
        if isinstance(value, ServerConfig):
            result[name] = value
        elif isinstance(value, dict):
            from .config import parse_config

            result.update(parse_config({"mcpServers": {name: value}}))
        else:
            result[name] = ServerConfig(name, list(value))
    return result


class ClientGroup:
    """Several servers used as one.

    Args:
        servers: see :func:`connect_all`.
        max_concurrent_starts: servers spawned at once.
        separator: between server and tool names in :meth:`list_tools`.
        **client_options: keyword arguments for every :class:`mcp_stdio.Client`
            (a server's own ``env``, ``cwd`` and ``timeout`` from the file win).
    """

    def __init__(self, servers: Any, *, max_concurrent_starts: int = DEFAULT_MAX_CONCURRENT_STARTS,
                 separator: str = "__", **client_options: Any) -> None:
        self.configs = _normalize(servers)
        self.max_concurrent_starts = max_concurrent_starts
        self.separator = separator
        self._options = client_options
        self.clients: dict[str, Client] = {}
        self.errors: dict[str, BaseException] = {}
        self._routes: dict[str, tuple[str, str]] = {}

    async def __aenter__(self) -> ClientGroup:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start every enabled server; failures are recorded in :attr:`errors`, not raised."""
        limit = asyncio.Semaphore(self.max_concurrent_starts)

        async def start_one(config: ServerConfig) -> None:
            client = Client(config.command, **dict(self._options, **config.connect_options()))
            async with limit:
                try:
                    await client.start()
                except MCPStdioError as exc:
                    self.errors[config.name] = exc
                    return
            self.clients[config.name] = client

        await asyncio.gather(*(start_one(c) for c in self.configs.values() if not c.disabled))
        # Servers finish starting in any order; keep the configuration's order.
        self.clients = {name: self.clients[name] for name in self.configs if name in self.clients}
        self.errors = {name: self.errors[name] for name in self.configs if name in self.errors}

    async def close(self) -> None:
        """Close every server, in parallel."""
        await asyncio.gather(*(client.close() for client in self.clients.values()))

    async def list_tools(self) -> list[dict]:
        """Return the tools of every server, renamed ``<server><separator><tool>``.

        Each tool dict also gets ``"server"`` (the server's name) and ``"toolName"`` (its
        own name). A server whose list fails is recorded in :attr:`errors` and skipped.
        """
        names = list(self.clients)
        results = await asyncio.gather(*(self.clients[name].list_tools() for name in names),
                                       return_exceptions=True)
        tools = []
        self._routes = {}
        for name, result in zip(names, results):
            if isinstance(result, BaseException):
                if not isinstance(result, MCPStdioError):
                    raise result
                self.errors[name] = result
                continue
            for tool in result.get("tools", []):
                full = f"{name}{self.separator}{tool['name']}"
                self._routes[full] = (name, tool["name"])
                tools.append(dict(tool, name=full, server=name, toolName=tool["name"]))
        return tools

    async def call_tool(self, name: str, arguments: dict | None = None, **options: Any) -> dict:
        """Call ``<server><separator><tool>`` on its server.

        Raises:
            KeyError: no server offers a tool of that name.
        """
        if name not in self._routes:
            await self.list_tools()
        if name not in self._routes:
            raise KeyError(f"no tool {name!r} in this group (tools are named server{self.separator}tool)")
        server, tool = self._routes[name]
        return await self.clients[server].call_tool(tool, arguments, **options)

    def stats(self) -> dict:
        """Return each server's :meth:`~mcp_stdio.Client.stats` and the group's totals."""
        per = {name: client.stats() for name, client in self.clients.items()}
        totals: dict = {"servers": len(per), "failed_to_start": len(self.errors)}
        for key in ("requests_sent", "in_flight", "failed", "timed_out", "bytes_sent", "bytes_received"):
            totals[key] = sum(stats[key] for stats in per.values())
        from .limits import fd_usage

        totals["fds"] = fd_usage()
        return {"servers": per, "total": totals}
