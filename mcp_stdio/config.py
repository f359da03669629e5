"""Configuration files of desktop and editor hosts: ``mcpServers`` and VS Code's ``servers``.

Two shapes are read, alone or side by side in one file::

    {
      "mcpServers": {                                     Claude Desktop, Cursor, Windsurf...
        "files": {"command": "npx", "args": ["-y", "@scope/server", "/tmp"],
                  "env": {"TOKEN": "..."}, "cwd": "/tmp", "timeout": 30},
        "old": {"command": "python", "args": ["old.py"], "disabled": true},
        "web": {"url": "https://example.com/mcp"}
      },
      "servers": {                                        VS Code (.vscode/mcp.json)
        "git": {"type": "stdio", "command": "uvx", "args": ["mcp-server-git"],
                "env": {"TOKEN": "${input:token}"}, "envFile": "${workspaceFolder}/.env"}
      },
      "inputs": [{"type": "promptString", "id": "token", "description": "Git token"}]
    }

VS Code's ``settings.json`` shape, ``{"mcp": {"servers": {...}}}``, is read too, and files
may hold ``//`` and ``/* */`` comments and trailing commas, as VS Code's own files do.

Every entry is returned, in file order, as a :class:`ServerConfig`; one that cannot be
started says why in :attr:`ServerConfig.problem`:

* a **remote** entry (``"type"`` other than ``"stdio"``, such as ``"http"``, ``"sse"``,
  ``"streamable-http"``; or a ``"url"`` and no ``"command"``) is logged once as a WARNING
  on the ``mcp_stdio.config`` logger when the file is read, and skipped by
  :func:`mcp_stdio.connect_all`; selecting it by name raises :class:`ConfigError`;
* a **disabled** entry (``"disabled": true``, or ``"enabled": false``) is skipped by
  ``connect_all`` without a word; selecting it by name raises :class:`ConfigError`;
* an entry that uses a VS Code **input** (``${input:ID}``) whose value was not given
  (``inputs={"ID": value}``) cannot be started: ``connect_all`` records the error in
  ``group.errors``, and selecting it raises a :class:`ConfigError` naming the variable
  (mcp_stdio never prompts). Likewise an ``envFile`` that cannot be read.

Variables are expanded in ``command``, ``args``, ``env`` values, ``cwd`` and ``envFile``,
in both shapes: ``${env:NAME}`` (empty when unset, as in VS Code), ``${userHome}``,
``${workspaceFolder}`` and ``${workspaceFolderBasename}`` (the folder that holds the file, or
its parent when that folder's name starts with a dot, as ``.vscode`` and ``.cursor`` do),
``${pathSeparator}`` and ``${/}``, and ``${input:ID}`` from ``inputs``. Anything else
(``${HOME}``, ``${command:...}``) is left as written.

Other keys hosts add are tolerated: ``timeout`` (seconds per request, or milliseconds
when over 1,000, as some hosts write it), ``description``, ``autoApprove``,
``alwaysAllow`` and any unknown key, which is ignored. A malformed file or stdio entry
raises :class:`ConfigError` naming the file, the server and the problem.
"""

from __future__ import annotations

import json
import logging
import os
import re

from .errors import ConfigError

__all__ = ["ServerConfig", "load_config", "parse_config", "select_server"]

logger = logging.getLogger("mcp_stdio.config")

# The sections that hold servers: Claude Desktop, Cursor, Windsurf and Claude Code write
# "mcpServers"; VS Code writes "servers" in mcp.json and "mcp": {"servers"} in settings.json.
_SECTIONS = ("mcpServers", "servers")

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")


class ServerConfig:
    """One server of a configuration file.

    Attributes:
        name: its key in the file.
        command: the argv list (``command`` followed by ``args``); empty for a remote entry.
        env: extra environment variables (merged over the allow-list), or ``None``.
        cwd: working directory, or ``None``.
        timeout: seconds per request, or ``None`` for the client's default.
        disabled: whether the host marked it disabled.
        type: ``"stdio"``, or the remote transport the entry names (``"http"``, ``"sse"``,
            ``"url"`` for an entry with only a ``url``...).
        url: a remote entry's URL, or ``None``.
        problem: why the entry cannot be started (remote, an input without a value, an
            unreadable ``envFile``), or ``None``; a disabled entry has no problem.
        source: the file it came from (``"<config>"`` for a dict).
    """

    __slots__ = ("name", "command", "env", "cwd", "timeout", "disabled", "type", "url", "problem", "source")

    def __init__(self, name: str, command: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                 timeout: float | None = None, disabled: bool = False, *, type: str = "stdio",
                 url: str | None = None, problem: str | None = None, source: str = "<config>") -> None:
        self.name = name
        self.command = command
        self.env = env
        self.cwd = cwd
        self.timeout = timeout
        self.disabled = disabled
        self.type = type
        self.url = url
        self.problem = problem
        self.source = source

    @property
    def remote(self) -> bool:
        """Whether the entry names a remote server (not served by mcp_stdio)."""
        return self.type != "stdio"

    def check(self) -> None:
        """Raise :class:`ConfigError` if this entry cannot be started.

        Raises:
            ConfigError: the entry is disabled, remote, or has a :attr:`problem`.
        """
        if self.problem is not None:
            raise ConfigError(self.source, self.name, self.problem)
        if self.disabled:
            raise ConfigError(self.source, self.name, 'is disabled in the file ("disabled": true)')

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


def load_config(path: str | os.PathLike, *, inputs: dict[str, str] | None = None) -> dict[str, ServerConfig]:
    """Read a configuration file; return its servers by name, in file order.

    Args:
        path: the file.
        inputs: values of VS Code ``${input:ID}`` variables, by ``ID``.

    Raises:
        ConfigError: the file cannot be read or is malformed.
    """
    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8-sig") as source:
            text = source.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(where, None, f"cannot read it: {reason}") from None
    try:
        document = json.loads(text)
    except ValueError:
        try:  # VS Code's files are JSON with comments and trailing commas
            document = json.loads(_strip_jsonc(text))
        except ValueError as exc:
            raise ConfigError(where, None, f"not valid JSON: {exc}") from None
    return parse_config(document, where, inputs=inputs, workspace=_workspace(where))


def parse_config(document: object, where: str = "<config>", *, inputs: dict[str, str] | None = None,
                 workspace: str | None = None) -> dict[str, ServerConfig]:
    """Validate a decoded configuration; see :func:`load_config`.

    Args:
        document: the decoded JSON.
        where: the file's name, for messages.
        inputs: values of VS Code ``${input:ID}`` variables.
        workspace: the folder ``${workspaceFolder}`` stands for (default: the current one).
    """
    if not isinstance(document, dict):
        raise ConfigError(where, None, "the top level must be a JSON object")
    sections = []
    for key in _SECTIONS:
        if key in document:
            sections.append((key, document[key]))
    settings = document.get("mcp")
    if not sections and isinstance(settings, dict) and "servers" in settings:
        sections.append(('"mcp": "servers"', settings["servers"]))
    if not sections:
        raise ConfigError(where, None, 'no "mcpServers" or "servers" object')
    context = _Context(where, inputs or {}, _input_descriptions(document.get("inputs")),
                       workspace if workspace is not None else os.getcwd())
    result: dict[str, ServerConfig] = {}
    for key, servers in sections:
        if not isinstance(servers, dict):
            raise ConfigError(where, None, f'"{key}" must be an object of servers by name')
        for name, entry in servers.items():
            if name in result:
                raise ConfigError(where, name, 'appears in both "mcpServers" and "servers"')
            result[name] = _server(context, name, entry)
    return result


def select_server(servers: dict[str, ServerConfig], name: str, where: str = "<config>") -> ServerConfig:
    """Return the server ``name`` of a loaded file, ready to start.

    Raises:
        ConfigError: no such server, or it is disabled, remote or has a problem.
    """
    chosen = servers.get(name)
    if chosen is None:
        raise ConfigError(where, name, f"no such server in the file (it has: {', '.join(servers) or 'none'})")
    chosen.check()
    return chosen


class _Context:
    __slots__ = ("where", "inputs", "descriptions", "workspace")

    def __init__(self, where: str, inputs: dict[str, str], descriptions: dict[str, str], workspace: str) -> None:
        self.where = where
        self.inputs = inputs
        self.descriptions = descriptions
        self.workspace = workspace


def _server(context: _Context, name: str, entry: object) -> ServerConfig:
    where = context.where

    def fail(problem: str) -> ConfigError:
        return ConfigError(where, name, problem)

    if not isinstance(entry, dict):
        raise fail("must be an object")
    kind = entry.get("type", "stdio")
    if not isinstance(kind, str):
        raise fail('"type" must be a string')
    url = entry.get("url", entry.get("serverUrl"))
    if kind == "stdio" and "command" not in entry and url is not None:
        kind = "url"
    disabled = _disabled(entry, fail)
    if kind != "stdio":
        what = ('a remote server (a "url" and no "command")' if kind == "url"
                else f'a remote server ("type": {kind!r})')
        if not disabled:
            logger.warning("%s: server %r: skipped: %s; only stdio servers are supported", where, name, what)
        return ServerConfig(name, [], disabled=disabled, type=kind, url=url if isinstance(url, str) else None,
                            problem=f"is {what}; only stdio servers are supported", source=where)
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
    env_file = entry.get("envFile")
    if env_file is not None and not isinstance(env_file, str):
        raise fail('"envFile" must be a string')
    timeout = entry.get("timeout")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise fail('"timeout" must be a positive number')
        if timeout > 1000:  # hosts that write milliseconds
            timeout = timeout / 1000
    missing: list[str] = []

    def expand(text: str) -> str:
        return _expand(text, context, missing)

    argv = [expand(command), *(expand(arg) for arg in args)]
    env = {key: expand(value) for key, value in env.items()} if env else {}
    cwd = expand(cwd) if cwd is not None else None
    problem = None
    if missing:
        first = missing[0]
        described = f" ({context.descriptions[first]!r})" if first in context.descriptions else ""
        problem = (f"uses ${{input:{first}}}{described}, a VS Code input that mcp_stdio does not prompt for: "
                   f"give its value (--input {first}=VALUE on the command line, inputs= in the library)")
    elif env_file is not None:
        path = os.path.join(context.workspace, expand(env_file))
        try:
            env = dict(_read_env_file(path), **env)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problem = f'cannot read its "envFile" {path}: {reason}'
    return ServerConfig(name, argv, env or None, cwd, timeout, disabled, problem=problem, source=where)


def _disabled(entry: dict, fail) -> bool:
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise fail('"disabled" must be true or false')
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail('"enabled" must be true or false')
    return disabled or not enabled


def _expand(text: str, context: _Context, missing: list[str]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("env:"):
            return os.environ.get(name[4:], "")
        if name.startswith("input:"):
            key = name[6:]
            if key in context.inputs:
                return context.inputs[key]
            if key not in missing:
                missing.append(key)
            return match.group(0)
        if name == "userHome":
            return os.path.expanduser("~")
        if name == "workspaceFolder":
            return context.workspace
        if name == "workspaceFolderBasename":
            return os.path.basename(context.workspace)
        if name in ("pathSeparator", "/"):
            return os.sep
        return match.group(0)

    return _VARIABLE.sub(replace, text) if "${" in text else text


def _input_descriptions(inputs: object) -> dict[str, str]:
    """Return VS Code's ``inputs`` descriptions by id (malformed items are ignored)."""
    result = {}
    if isinstance(inputs, list):
        for item in inputs:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("description"), str):
                result[item["id"]] = item["description"]
    return result


def _workspace(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.basename(folder).startswith("."):  # .vscode/mcp.json, .cursor/mcp.json
        return os.path.dirname(folder)
    return folder


def _read_env_file(path: str) -> dict[str, str]:
    """Read a ``.env`` file: ``KEY=value`` lines, ``#`` comments, optional ``export`` and quotes."""
    result = {}
    with open(path, encoding="utf-8") as source:
        for line in source:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[7:].lstrip()
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or not key:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                quote, value = value[0], value[1:-1]
                if quote == '"':
                    value = value.replace("\\n", "\n")
            else:
                value = value.split(" #", 1)[0].rstrip()
            result[key] = value
    return result


def _strip_jsonc(text: str) -> str:
    """Blank out ``//`` and ``/* */`` comments and trailing commas, outside strings.

    Blanking (spaces, newlines kept) instead of removing keeps the positions in a JSON
    error message right.
    """
    out = []
    i, n = 0, len(text)
    pending_comma = -1  # index in out of a comma that may be trailing
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i:end + 1])
            pending_comma = -1
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        else:
            if char in "]}" and pending_comma >= 0:
                out[pending_comma] = " "
            if char == ",":
                pending_comma = len(out)
            elif not char.isspace():
                pending_comma = -1
            out.append(char)
            i += 1
    return "".join(out)
