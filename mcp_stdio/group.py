"""Many servers at once: :func:`connect_all` and :class:`ClientGroup`.

::

    async with mcp_stdio.connect_all("mcp.json") as group:
        for tool in await group.list_tools():
            print(tool["name"])                      # "files__read_file", "git__log", ...
        result = await group.call_tool("files__read_file", {"path": "README.md"})
        print(group.errors)                          # {"broken": SpawnError(...)} if one failed

Servers start concurrently, at most ``max_concurrent_starts`` at a time (spawning is the
expensive part, and ``npx`` wrappers hammer the disk). A server that fails to start, or
whose list of tools fails or is malformed, does not stop the others: its exception (of
any type) is kept in :attr:`ClientGroup.errors`. Disabled and remote entries of a
configuration file are skipped (:attr:`ClientGroup.skipped` says why). Closing the group
closes every server, in parallel.

Tool names are ``<server><separator><tool>`` and :meth:`ClientGroup.call_tool` routes by
that name. Routing is unambiguous because a server name may not contain the separator,
nor end with part of it (``a_`` with ``__``): such a server is not started and its error
is in :attr:`ClientGroup.errors`. So ``files__extra__x`` can only be the tool ``extra__x``
of server ``files``; a server named ``files__extra`` is refused, never shadowed. Each
full name therefore splits at the first separator into exactly one (server, tool) pair.
A server that lists the same tool name twice is served its first entry (a warning is
logged).

"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from .client import Client
from .config import ServerConfig, load_config, parse_config
from .errors import ConfigError, RemoteProtocolError, UnknownTool
from .types import CallToolResult

__all__ = ["ClientGroup", "connect_all", "DEFAULT_MAX_CONCURRENT_STARTS"]

logger = logging.getLogger("mcp_stdio.group")

# Spawns at once: enough to overlap the handshakes of slow launchers, few enough that a
# config with fifty npx servers does not start fifty Node.js processes in the same second.
DEFAULT_MAX_CONCURRENT_STARTS = 8


def connect_all(servers: Any, **options: Any) -> ClientGroup:
    """Return a :class:`ClientGroup`; nothing starts until ``async with`` (or ``start()``).

    Args:
        servers: a path to a configuration file (``mcpServers`` or VS Code ``servers``),
            the dict such a file holds, or ``{name: argv list, entry dict or ServerConfig}``.
        **options: keyword arguments of :class:`ClientGroup`.
    """
    return ClientGroup(servers, **options)


def _is_document(servers: dict) -> bool:
    if "mcpServers" in servers or isinstance(servers.get("mcp"), dict):
        return True
    section = servers.get("servers")
    return isinstance(section, dict) and all(isinstance(entry, dict) for entry in section.values())


def _normalize(servers: Any, inputs: dict[str, str] | None) -> dict[str, ServerConfig]:
    if isinstance(servers, (str, os.PathLike)):
        return load_config(servers, inputs=inputs)
    if isinstance(servers, dict) and _is_document(servers):
        return parse_config(servers, inputs=inputs)
    result = {}
    for name, value in dict(servers).items():
        if isinstance(value, ServerConfig):
            result[name] = value
        elif isinstance(value, dict):
            result.update(parse_config({"mcpServers": {name: value}}, inputs=inputs))
        else:
            result[name] = ServerConfig(name, list(value))
    return result


def _fits(name: str, separator: str) -> bool:
    """Whether ``name + separator`` first contains the separator where the name ends."""
    return bool(name) and (name + separator).find(separator) == len(name)


class ClientGroup:
    """Several servers used as one.

    Args:
        servers: see :func:`connect_all`.
        max_concurrent_starts: servers spawned at once.
        separator: between server and tool names in :meth:`list_tools` (not empty).
        inputs: values of VS Code ``${input:ID}`` variables in a configuration file.
        **client_options: keyword arguments for every :class:`mcp_stdio.Client`
            (a server's own ``env``, ``cwd`` and ``timeout`` from the file win).

    Attributes:
        configs: every entry, by name, in configuration order.
        clients: the running servers' clients, by name.
        errors: by server name, the exception that stopped it from starting (a
            ``ConfigError`` for an entry that cannot be started, such as one whose name does
            not fit the separator) or that its last :meth:`list_tools` raised.
        skipped: by server name, why a disabled or remote entry was not started.
    """

    def __init__(self, servers: Any, *, max_concurrent_starts: int = DEFAULT_MAX_CONCURRENT_STARTS,
                 separator: str = "__", inputs: dict[str, str] | None = None, **client_options: Any) -> None:
        if not isinstance(separator, str) or not separator:
            raise ValueError("separator must be a non-empty string")
        self.configs = _normalize(servers, inputs)
        self.max_concurrent_starts = max_concurrent_starts
        self.separator = separator
        self._options = client_options
        self.clients: dict[str, Client] = {}
        self.errors: dict[str, BaseException] = {}
        self.skipped: dict[str, str] = {}
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
                except Exception as exc:  # any failure of one server is that server's
                    self.errors[config.name] = exc
                    return
            self.clients[config.name] = client

        starting = []
        for config in self.configs.values():
            if config.disabled:
                self.skipped[config.name] = "disabled"
            elif config.remote:
                self.skipped[config.name] = config.problem or "remote"
            elif config.problem is not None:
                self.errors[config.name] = ConfigError(config.source, config.name, config.problem)
            elif not _fits(config.name, self.separator):
                part = "contains" if self.separator in config.name else "ends with part of"
                self.errors[config.name] = ConfigError(
                    config.source, config.name,
                    f"its name {part} the separator {self.separator!r}, so its tools' names "
                    f"(server{self.separator}tool) would be ambiguous: rename it or choose another separator")
            else:
                starting.append(start_one(config))
        try:
            await asyncio.gather(*starting)
        finally:
            # Servers finish starting in any order; keep the configuration's order.
            self.clients = {name: self.clients[name] for name in self.configs if name in self.clients}
            self.errors = {name: self.errors[name] for name in self.configs if name in self.errors}

    async def close(self) -> None:
        """Close every server, in parallel."""
        await asyncio.gather(*(client.close() for client in self.clients.values()))

    async def list_tools(self) -> list[dict]:
        """Return the tools of every server, renamed ``<server><separator><tool>``.

        Each tool dict also gets ``"server"`` (the server's name) and ``"toolName"`` (its
        own name). A server whose list fails, with any exception, or is malformed (a
        ``RemoteProtocolError``) is recorded in :attr:`errors` and skipped; a later
        successful list clears its entry.
        """
        names = list(self.clients)
        results = await asyncio.gather(*(self.clients[name].list_tools() for name in names),
                                       return_exceptions=True)
        tools = []
        routes: dict[str, tuple[str, str]] = {}
        for name, result in zip(names, results):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result  # KeyboardInterrupt, SystemExit, cancellation: not the server's
                self.errors[name] = result
                continue
            listed = _checked_tools(result)
            if isinstance(listed, str):
                self.errors[name] = RemoteProtocolError(f"malformed tools/list result: {listed}")
                continue
            self.errors.pop(name, None)
            for tool in listed:
                full = f"{name}{self.separator}{tool['name']}"
                if full in routes:
                    logger.warning("server %r lists the tool %r twice; the first is used", name, tool["name"])
                    continue
                routes[full] = (name, tool["name"])
                tools.append(dict(tool, name=full, server=name, toolName=tool["name"]))
        self._routes = routes
        return tools

    async def call_tool(self, name: str, arguments: dict | None = None, **options: Any) -> CallToolResult:
        """Call ``<server><separator><tool>`` on its server.

        Raises:
            UnknownTool: no running server offers a tool of that name (it is also a
                ``KeyError``).
        """
        if name not in self._routes:
            await self.list_tools()
        if name not in self._routes:
            server = name.partition(self.separator)[0]
            why = ""
            if server in self.errors:
                why = f": server {server!r} failed: {self.errors[server]}"
            elif server in self.skipped:
                why = f": server {server!r} was skipped ({self.skipped[server]})"
            raise UnknownTool(f"no tool {name!r} in this group (tools are named server{self.separator}tool){why}")
        server, tool = self._routes[name]
        return await self.clients[server].call_tool(tool, arguments, **options)

    def stats(self) -> dict:
        """Return each server's :meth:`~mcp_stdio.Client.stats` and the group's totals."""
        per = {name: client.stats() for name, client in self.clients.items()}
        failed = sum(1 for name in self.errors if name not in self.clients)
        totals: dict = {"servers": len(per), "failed_to_start": failed}
        for key in ("requests_sent", "in_flight", "failed", "timed_out", "bytes_sent", "bytes_received"):
            totals[key] = sum(stats[key] for stats in per.values())
        from .limits import fd_usage

        totals["fds"] = fd_usage()
        return {"servers": per, "total": totals}


def _checked_tools(result: object) -> list[dict] | str:
    """Return the tools of a ``tools/list`` result, or what is wrong with it."""
    if not isinstance(result, dict):
        return f"expected an object, got {type(result).__name__}"
    tools = result.get("tools")
    if not isinstance(tools, list):
        return f'"tools" must be a list, got {type(tools).__name__}'
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            return f"tools[{index}] must be an object, got {type(tool).__name__}"
        if not isinstance(tool.get("name"), str):
            return f'tools[{index}].name must be a string, got {type(tool.get("name")).__name__}'
    return tools
