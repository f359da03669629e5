"""The ``mcpServers`` configuration format of desktop and editor hosts.

A file looks like::

    {
      "mcpServers": {
        "files": {"command": "npx", "args": ["-y", "@scope/server", "/tmp"],
                  "env": {"TOKEN": "..."}, "cwd": "/tmp", "timeout": 30},
        "old": {"command": "python", "args": ["old.py"], "disabled": true}
      }
    }

Keys other hosts add are tolerated: ``disabled`` (the server is listed but not started),
``timeout`` (seconds per request, or milliseconds when over 1,000, as some hosts write it),
``type`` (must be ``"stdio"`` when present: other transports are not served here),
``description``, ``autoApprove``, ``alwaysAllow`` and any other unknown key, which is
ignored. A malformed file raises :class:`ConfigError` naming the file, the server and the
problem.
"""

from __future__ import annotations

import json
import os

from .errors import ConfigError

__all__ = ["ServerConfig", "load_config", "parse_config"]


class ServerConfig:
    """One server of a configuration file.

    Attributes:
        name: its key in ``mcpServers``.
        command: the argv list (``command`` followed by ``args``).
        env: extra environment variables (merged over the allow-list), or ``None``.
        cwd: working directory, or ``None``.
        timeout: seconds per request, or ``None`` for the client's default.
        disabled: whether the host marked it disabled.
    """

    __slots__ = ("name", "command", "env", "cwd", "timeout", "disabled")

    def __init__(self, name: str, command: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                 timeout: float | None = None, disabled: bool = False) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.cwd = cwd
        self.timeout = timeout
        self.disabled = disabled

    def connect_options(self) -> dict:
        """Return the keyword arguments for :func:`mcp_stdio.connect`."""
        options: dict = {}
        if self.env:
            options["env"] = self.env
        if self.cwd:
            options["cwd"] = self.cwd
        if self.timeout is not None:
            options["timeout"] = self.timeout
        return options

    def __repr__(self) -> str:
        return f"ServerConfig({self.name!r}, {self.command!r})"


def load_config(path: str | os.PathLike) -> dict[str, ServerConfig]:
    """Read a configuration file; return its servers by name, in file order.

    Raises:
        ConfigError: the file cannot be read or is malformed.
    """
    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8") as source:
            text = source.read()
    except OSError as exc:
        raise ConfigError(where, None, f"cannot read it: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigError(where, None, f"not valid JSON: {exc}") from None
    return parse_config(document, where)


def parse_config(document: object, where: str = "<config>") -> dict[str, ServerConfig]:
    """Validate a decoded configuration; see :func:`load_config`."""
    if not isinstance(document, dict):
        raise ConfigError(where, None, "the top level must be a JSON object")
    servers = document.get("mcpServers")
    if servers is None:
        raise ConfigError(where, None, 'no "mcpServers" object')
    if not isinstance(servers, dict):
        raise ConfigError(where, None, '"mcpServers" must be an object of servers by name')
    result = {}
    for name, entry in servers.items():
        result[name] = _server(where, name, entry)
    return result


def _server(where: str, name: str, entry: object) -> ServerConfig:
    def fail(problem: str) -> ConfigError:
        return ConfigError(where, name, problem)

    if not isinstance(entry, dict):
        raise fail("must be an object")
    kind = entry.get("type", "stdio")
    if kind != "stdio":
        raise fail(f'has "type": {kind!r}; only stdio servers are supported')
    command = entry.get("command")
    if not isinstance(command, str) or not command.strip():
        raise fail('"command" must be a non-empty string')
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise fail('"args" must be a list of strings')
    env = entry.get("env")
    if env is not None and (not isinstance(env, dict)
                            or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise fail('"env" must map strings to strings')
    cwd = entry.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise fail('"cwd" must be a string')
    timeout = entry.get("timeout")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise fail('"timeout" must be a positive number')
        if timeout > 1000:  # hosts that write milliseconds
            timeout = timeout / 1000
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise fail('"disabled" must be true or false')
    return ServerConfig(name, [command, *args], env or None, cwd, timeout, disabled)
