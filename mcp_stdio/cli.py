"""The command line: ``python -m mcp_stdio [options] [ACTION ...] [-- COMMAND ARGS...]``.

Talk to any stdio MCP server from a terminal or a script::

    python -m mcp_stdio -- npx -y @modelcontextprotocol/server-everything
    python -m mcp_stdio --reference tools
    python -m mcp_stdio --reference call add a=2 b=3
    python -m mcp_stdio --config ~/.config/Claude/claude_desktop_config.json
    python -m mcp_stdio --config .vscode/mcp.json --server files tools --json
    python -m mcp_stdio --config .vscode/mcp.json --all tools

The server is the command after ``--``, this package's reference server (``--reference``),
or a server of a configuration file (``--config FILE --server NAME``; ``--config FILE``
alone lists the file's servers, ``--all`` runs the action on every one of them as a
group). Options may come before or after the action.

Actions: ``info`` (the default: server, version, capabilities, instructions), ``tools``
(with each tool's parameters: ``name*: type``, ``*`` marks the required ones),
``resources``, ``templates``, ``prompts``, ``call NAME [key=value ...] [--args JSON]``,
``read URI``, ``prompt NAME [key=value ...]``, ``ping``, ``servers`` (of ``--config``).

``call`` arguments are coerced by the tool's ``inputSchema``: a parameter that accepts a
string gets the text as written (``message=123`` is ``"123"``); one of type integer,
number, boolean, null, array or object gets the text parsed as JSON (a usage error if it
is not JSON); a parameter the schema does not describe gets JSON if the text parses, else
the text. ``--args`` takes the whole object as JSON; ``key=value`` pairs are merged over
it. Prompt arguments are always strings.

During a call, progress from the server is shown on stderr (one line updated in place on
a terminal, at most one line a second otherwise), and each progress notification restarts
the ``--timeout`` clock, up to ``--max-total-timeout`` (default ten times ``--timeout``).
Ctrl-C (or SIGTERM) sends ``notifications/cancelled`` for the call in flight, stops the
server within the client's close bounds and exits with 130 (143), without a traceback.

Output is readable text by default and JSON with ``--json``. Nothing a server says can
drive the terminal: in text, ANSI escape sequences are removed, and the other control
characters (C0 except tab and newline, DEL, C1), the characters that reorder or hide
text (bidi embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, the marks
U+200E, U+200F and U+061C), U+2028, U+2029 and lone surrogates are shown as visible
``\\u202e`` escapes; in JSON the same characters are written as JSON ``\\uXXXX``
escapes, so the JSON means exactly what the server sent.

Exit status: 0 success; 1 the tool reported an error (``isError``), the server answered
with a JSON-RPC error or sent a malformed result; 2 usage or configuration error; 3 the
server could not be started; 4 the connection was lost or a request timed out; 130
interrupted (Ctrl-C), 143 terminated (SIGTERM). With ``--all``, the status of the first
server that failed, in configuration order (0 when none did). Every failure prints one
line (``error: ...``), never a Python traceback (``--verbose`` adds the trace of an
unexpected one).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import shlex
import shutil
import signal
import sys
import textwrap
import time
from typing import Any, Callable

from . import errors
from .cli_format import (
    Malformed,
    coerce_arguments,
    content_text,
    escape_json,
    escape_line,
    escape_text,
    items_of,
    json_value,
    need,
    optional_str,
    parameters,
    string_pairs,
)
from .config import ServerConfig, load_config, select_server

__all__ = ["main", "escape_text", "escape_json", "coerce_arguments"]

EXIT_OK, EXIT_TOOL_ERROR, EXIT_USAGE, EXIT_START, EXIT_CONNECTION = 0, 1, 2, 3, 4
# 128 + the signal number, as shells report a process ended by that signal.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM

ACTIONS = ("info", "tools", "resources", "templates", "prompts", "call", "read", "prompt", "ping", "servers")

# Seconds between progress lines when stderr is not a terminal (a log, a pipe).
PROGRESS_INTERVAL = 1.0


class _Usage(Exception):
    """A usage error found after parsing (exit status 2)."""


class _Failed(Exception):
    """A failure to report as it is (exit status 1), such as a tool missing from a group."""


# Output


class _Output:
    """Prints text or JSON on stdout; with ``collect``, keeps the JSON values instead."""

    def __init__(self, as_json: bool, collect: bool = False) -> None:
        self.as_json = as_json
        self.collected: list = [] if collect else None  # type: ignore[assignment]
        self.width = max(40, shutil.get_terminal_size((100, 24)).columns)

    def json(self, value: object) -> None:
        if self.collected is not None:
            self.collected.append(value)
        else:
            print(escape_json(value))

    def text(self, text: str) -> None:
        print(escape_text(text))

    def table(self, rows: list[tuple[str, str, str]], empty: str) -> None:
        """Print ``(name, description, detail)`` rows aligned on the names."""
        if not rows:
            print(empty)
            return
        rows = [(escape_line(name), " ".join(escape_text(text).split()), " ".join(escape_line(detail).split()))
                for name, text, detail in rows]
        left = min(max(len(name) for name, _, _ in rows), self.width // 3)
        room = max(20, self.width - left - 2)
        for name, text, detail in rows:
            # Long words are not broken: a \uXXXX escape must stay whole.
            lines = textwrap.wrap(text, room, max_lines=3, placeholder=" ...", break_long_words=False) or [""]
            if detail:
                lines += textwrap.wrap(detail, room, max_lines=4, placeholder=" ...", break_long_words=False)
            print(f"{name:<{left}}  {lines[0]}".rstrip())
            for line in lines[1:]:
                print(" " * (left + 2) + line)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> str:
    if _is_number(value):
        try:
            return f"{value:g}"
        except (OverflowError, ValueError):
            pass
    return escape_line(value)[:20]


class _Progress:
    """A progress callback that shows the latest notification on stderr."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.shown = False
        self.last = -PROGRESS_INTERVAL

    def __call__(self, progress: Any, total: Any = None, message: Any = None) -> None:
        text = f"progress: {_number(progress)}"
        if total is not None:
            text += f"/{_number(total)}"
            try:
                if _is_number(progress) and _is_number(total) and total > 0:
                    text += f" ({min(100.0, max(0.0, 100.0 * progress / total)):.0f}%)"
            except (OverflowError, ValueError):  # a hostile 10**400
                pass
        if message:
            text += " " + " ".join(escape_line(message).split())
        if self.tty:
            width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
            self.stream.write("\r\x1b[K" + text[:width])
            self.stream.flush()
            self.shown = True
        else:
            now = time.monotonic()
            if now - self.last >= PROGRESS_INTERVAL:
                self.last = now
                self.stream.write(text + "\n")
                self.stream.flush()

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


# Actions on one client


async def _act(client: Any, args: argparse.Namespace, out: _Output, group: Any = None) -> int:
    """Run ``args.action`` on ``client`` (or, for ``tools`` and ``call``, on ``group``)."""
    action = args.action
    if action == "info":
        info = {"server": client.server_info, "protocolVersion": client.protocol_version,
                "capabilities": client.server_capabilities, "instructions": client.instructions}
        if out.as_json:
            out.json(info)
            return EXIT_OK
        server = need(client.server_info, dict, "serverInfo")
        name = optional_str(server, "name", "serverInfo") or "?"
        version = optional_str(server, "version", "serverInfo")
        capabilities = need(client.server_capabilities, dict, "capabilities")
        out.text(escape_line(f"{name} {version}".strip()) + f" (protocol {escape_line(client.protocol_version)})")
        out.text("capabilities: " + (", ".join(sorted(capabilities)) or "none"))
        instructions = client.instructions
        if instructions is not None:
            out.text("instructions: " + need(instructions, str, "instructions"))
        return EXIT_OK
    if action in ("tools", "resources", "templates", "prompts"):
        if group is not None and action == "tools":
            items = await group.list_tools()
        else:
            method = {"tools": client.list_tools, "resources": client.list_resources,
                      "templates": client.list_resource_templates, "prompts": client.list_prompts}[action]
            key = {"templates": "resourceTemplates"}.get(action, action)
            what = {"templates": "resources/templates/list"}.get(action, f"{action}/list")
            items = items_of(await method(), key, what)
        if out.as_json:
            out.json(items)
            return EXIT_OK
        label = {"resources": "uri", "templates": "uriTemplate"}.get(action, "name")
        rows = []
        for index, item in enumerate(items):
            what = f"{action}[{index}]"
            name = need(item.get(label), str, f"{what}.{label}")
            text = optional_str(item, "description", what) or optional_str(item, "title", what)
            detail = ""
            if action == "tools":
                detail = parameters(item)
            elif action == "prompts" and isinstance(item.get("arguments"), list):
                detail = ", ".join(f"{need(a.get('name'), str, what + '.arguments.name')}"
                                   f"{'*' if a.get('required') is True else ''}"
                                   for a in item["arguments"] if isinstance(a, dict))
            rows.append((name, text, detail))
        out.table(rows, f"(no {action})")
        return EXIT_OK
    if action == "call":
        return await _call(client, args, out, group)
    if action == "read":
        result = await client.read_resource(args.uri)
        if out.as_json:
            out.json(result)
            return EXIT_OK
        for index, contents in enumerate(items_of(result, "contents", "resources/read")):
            if "text" in contents:
                out.text(need(contents["text"], str, f"contents[{index}].text"))
            else:
                blob = need(contents.get("blob", ""), str, f"contents[{index}].blob")
                mime = optional_str(contents, "mimeType", f"contents[{index}]")
                out.text(f"[{len(blob) * 3 // 4} bytes of {mime or 'unknown type'}]")
        return EXIT_OK
    if action == "prompt":
        result = await client.get_prompt(args.name, string_pairs(args.pairs))
        if out.as_json:
            out.json(result)
            return EXIT_OK
        for index, message in enumerate(items_of(result, "messages", "prompts/get")):
            what = f"messages[{index}]"
            role = optional_str(message, "role", what)
            content = message.get("content")
            blocks = content if isinstance(content, list) else [content]
            out.text(f"[{role}] {content_text(blocks, what + '.content')}")
        return EXIT_OK
    await client.ping()
    if out.as_json:
        out.json({"ok": True})
    else:
        out.text("ok")
    return EXIT_OK


async def _call(client: Any, args: argparse.Namespace, out: _Output, group: Any) -> int:
    arguments: dict = {}
    if args.args is not None:
        try:
            arguments = json_value(args.args)
        except ValueError as exc:
            raise _Usage(f"--args is not valid JSON: {exc}") from None
        if not isinstance(arguments, dict):
            raise _Usage("--args must be a JSON object")
    if args.pairs:
        schema = await _input_schema(client, group, args.name)
        try:
            arguments.update(coerce_arguments(args.pairs, schema))
        except ValueError as exc:
            raise _Usage(str(exc)) from None
    progress = _Progress()
    options = {"progress_callback": progress, "reset_timeout_on_progress": True,
               "max_total_timeout": args.max_total_timeout}
    try:
        if group is not None:
            try:
                result = await group.call_tool(args.name, arguments, **options)
            except KeyError as exc:
                raise _Failed(exc.args[0]) from None
        else:
            result = await client.call_tool(args.name, arguments, **options)
    finally:
        progress.done()
    need(result, dict, "the tools/call result")
    if out.as_json:
        out.json(result)
    else:
        content = result.get("content")
        if content is not None:
            text = content_text(content, "content")
            if text or "structuredContent" not in result:
                out.text(text)
        if "structuredContent" in result and not content:
            out.json(result["structuredContent"])
    return EXIT_TOOL_ERROR if need(result.get("isError", False), bool, "isError") else EXIT_OK


async def _input_schema(client: Any, group: Any, name: str) -> object:
    """Return the ``inputSchema`` of tool ``name``, or None if it cannot be known."""
    from .group import _checked_tools

    try:
        if group is not None:
            tools = await group.list_tools()
        else:
            tools = _checked_tools(await client.list_tools())
    except errors.MCPStdioError:
        return None
    if isinstance(tools, str):
        return None
    for tool in tools:
        if tool["name"] == name:
            return tool.get("inputSchema")
    return None


# Running


def _parser() -> argparse.ArgumentParser:
    from .options import DEFAULT_STARTUP_TIMEOUT, DEFAULT_TIMEOUT

    parser = argparse.ArgumentParser(
        prog="python -m mcp_stdio",
        usage="%(prog)s [options] [ACTION [ARGS...]] [-- COMMAND ARGS...]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.dedent("""\
            Talk to an MCP server over stdio: the command after --, this package's reference
            server (--reference), or a server of a configuration file (--config FILE --server
            NAME; --config FILE alone lists its servers; --all uses every one of them).

            actions:
              info                          server, version, capabilities, instructions (default)
              tools                         the tools and their parameters (* marks required ones)
              resources, templates, prompts the other lists
              call NAME [key=value ...]     call a tool; values typed by its inputSchema
              read URI                      read a resource
              prompt NAME [key=value ...]   get a prompt
              ping                          check that the server answers
              servers                       the servers of the --config file"""),
        epilog="exit status: 0 ok, 1 tool or server error or malformed result, 2 usage,\n"
               "3 server did not start, 4 connection lost or timeout, 130 interrupted")
    add = parser.add_argument
    add("words", nargs="*", metavar="ACTION", help=argparse.SUPPRESS)
    add("--config", metavar="FILE", help="a configuration file (mcpServers, or VS Code's servers)")
    add("--server", metavar="NAME", help="the server's name in the --config file")
    add("--all", action="store_true", help="run the action on every server of the --config file")
    add("--reference", action="store_true", help="use this package's reference server")
    add("--json", action="store_true", help="print JSON instead of text")
    add("--args", metavar="JSON", help="call: the arguments as one JSON object")
    add("--timeout", type=float, metavar="SECONDS",
        help=f"seconds per request; progress restarts it; 0: none (default {DEFAULT_TIMEOUT:g}, as the library)")
    add("--max-total-timeout", type=float, metavar="SECONDS",
        help="call: the limit progress cannot extend (default ten times --timeout)")
    add("--startup-timeout", type=float, default=DEFAULT_STARTUP_TIMEOUT, metavar="SECONDS",
        help=f"seconds to start the server and handshake (default {DEFAULT_STARTUP_TIMEOUT:g})")
    add("--probe-timeout", type=float, metavar="SECONDS",
        help="seconds the automatic era selection waits for server/discover (default: the library's)")
    add("--protocol", default="auto", choices=("auto", "handshake", "2026-07-28"),
        help="protocol era (default auto: server/discover, else the initialize handshake)")
    add("--verbose", action="store_true", help="trace every message and the server's stderr on stderr")
    add("--env", action="append", default=[], metavar="KEY=VALUE",
        help="an environment variable for the server (repeatable)")
    add("--input", action="append", default=[], metavar="ID=VALUE",
        help="the value of a VS Code ${input:ID} of the --config file (repeatable)")
    add("--cwd", metavar="DIR", help="working directory of the server")
    add("--inherit-env", action="store_true", help="pass the whole environment to the server")
    return parser


def _split_words(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Set ``args.action`` and its operands from the positional words."""
    words = list(args.words)
    action = words.pop(0) if words else None
    if action is not None and action not in ACTIONS:
        parser.error(f"unknown action {action!r} (choose from {', '.join(ACTIONS)})")
    args.action = action
    args.name = args.uri = None
    args.pairs = []
    if action in ("call", "prompt"):
        if not words:
            parser.error(f"{action}: the {'tool' if action == 'call' else 'prompt'} name is missing")
        args.name, args.pairs = words[0], words[1:]
    elif action == "read":
        if len(words) != 1:
            parser.error("read takes one URI")
        args.uri = words[0]
    elif words:
        parser.error(f"{action} takes no arguments (got {' '.join(words)})")
    if args.args is not None and action != "call":
        parser.error("--args goes with call")


class _Logging(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return escape_text(super().format(record))


def _setup_logging(verbose: bool) -> None:
    """``--verbose``: every ``mcp_stdio`` log line (the message trace included), not
    asyncio's; otherwise only the configuration file's warnings (skipped entries): the
    client's warnings about a misbehaving server are for those who asked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Logging("%(name)s %(message)s" if verbose else "warning: %(message)s"))
    target = logging.getLogger("mcp_stdio" if verbose else "mcp_stdio.config")
    target.addHandler(handler)
    target.setLevel(logging.DEBUG if verbose else logging.WARNING)
    target.propagate = False


def _status(exc: BaseException) -> int:
    if isinstance(exc, (errors.ConfigError, _Usage)):
        return EXIT_USAGE
    if isinstance(exc, errors.StartError):
        return EXIT_START
    if isinstance(exc, (errors.ConnectionClosed, errors.RequestTimeout, errors.ClientClosedError)):
        return EXIT_CONNECTION
    return EXIT_TOOL_ERROR


def _message(exc: BaseException, verbose: bool = False, protocol: str | None = None, prefix: str = "error: ") -> str:
    """Return the lines that report ``exc`` on stderr.

    A :class:`StartError` gets a hint naming the era that was tried (its ``era``, else the
    ``--protocol`` given) and the ``--protocol`` to try instead.
    """
    if isinstance(exc, Malformed):
        text = f"malformed result from the server: {exc}"
    elif isinstance(exc, (errors.MCPStdioError, _Usage, _Failed)):
        text = str(exc)
    else:
        text = f"unexpected {type(exc).__name__}: {exc}"
    lines = [prefix + escape_text(text)]
    if verbose and not isinstance(exc, (errors.MCPStdioError, _Usage, _Failed, Malformed)):
        import traceback

        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
        lines.insert(0, escape_text(trace))
    era = None
    if isinstance(exc, errors.StartError) and not isinstance(exc, errors.SpawnError):
        era = getattr(exc, "era", None) or protocol
    if era == "handshake":
        lines.append("hint: this was the handshake era (initialize, protocol 2025-11-25 and older); "
                     "for a 2026-07-28 server try --protocol 2026-07-28")
    elif era == "auto":
        lines.append("hint: the era was chosen automatically (server/discover, then initialize); name it with "
                     "--protocol handshake or --protocol 2026-07-28, or give a slow server a longer --probe-timeout")
    elif era is not None:
        lines.append(f"hint: this was the {escape_text(era)} era (server/discover); "
                     "for an older server try --protocol handshake")
    return "\n".join(lines)


async def _interruptible(run: Callable[[], Any]) -> int:
    """Await ``run()``; on SIGINT or SIGTERM cancel it (once) and return 128 + the signal."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def on_signal(signum: int) -> None:
        # Only the first signal cancels: the client's close() is bounded, and a second
        # cancellation would abandon it and orphan the server.
        if not received:
            received.append(signum)
            task.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (RuntimeError, ValueError, NotImplementedError):  # not the main thread
            pass
    try:
        return await run()
    except asyncio.CancelledError:
        if received:
            return 128 + received[0]
        raise
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _selected(args: argparse.Namespace, servers: dict[str, ServerConfig]) -> ServerConfig:
    if args.server is not None:
        return select_server(servers, args.server, args.config)
    usable = [config for config in servers.values()
              if not config.disabled and config.problem is None]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise _Usage(f"{args.config}: no server in the file can be started "
                     f"(it has: {', '.join(servers) or 'none'}; --config FILE alone says why)")
    raise _Usage(f"{args.config} has {len(usable)} servers ({', '.join(c.name for c in usable)}): "
                 "choose one with --server NAME, or use --all")


def _adjusted(config: ServerConfig, env: dict[str, str], cwd: str | None, timeout_given: bool) -> ServerConfig:
    """Return ``config`` with the command line's --env, --cwd and --timeout over the file's."""
    return ServerConfig(config.name, config.command, dict(config.env or {}, **env) or None, cwd or config.cwd,
                        None if timeout_given else config.timeout, config.disabled, type=config.type,
                        url=config.url, problem=config.problem, source=config.source)


def _list_servers(servers: dict[str, ServerConfig], out: _Output) -> int:
    if out.as_json:
        out.json([{"name": c.name, "type": c.type, "command": c.command, "url": c.url, "cwd": c.cwd,
                   "env": sorted(c.env or ()), "disabled": c.disabled, "problem": c.problem}
                  for c in servers.values()])
        return EXIT_OK
    rows = []
    for config in servers.values():
        if config.remote:
            text = f"(skipped: remote, {config.type}) {config.url or ''}"
        elif config.problem is not None:
            text = f"(cannot start: {config.problem}) {shlex.join(config.command)}"
        else:
            text = ("(disabled) " if config.disabled else "") + shlex.join(config.command)
        rows.append((config.name, text, ""))
    out.table(rows, "(no servers)")
    return EXIT_OK


async def _run_group(args: argparse.Namespace, configs: dict[str, ServerConfig], options: dict,
                     out: _Output) -> int:
    import mcp_stdio

    status = EXIT_OK

    def failed(name: str, exc: BaseException) -> None:
        nonlocal status
        # A ConfigError names its server already.
        prefix = "error: " if isinstance(exc, errors.ConfigError) else f"error: server {escape_text(repr(name))}: "
        print(_message(exc, args.verbose, args.protocol, prefix), file=sys.stderr)
        if status == EXIT_OK:
            status = _status(exc)

    async with mcp_stdio.connect_all(configs, **options) as group:
        for name, exc in group.errors.items():
            failed(name, exc)
        started = dict(group.errors)
        if args.action in ("tools", "call"):
            first = next(iter(group.clients.values()), None)
            try:
                code = await _act(first, args, out, group)
            except _Failed as failure:
                print(f"error: {escape_text(failure)}", file=sys.stderr)
                code = EXIT_TOOL_ERROR
            except (errors.MCPStdioError, Malformed) as error:
                # A call routed to one server: its failure, reported as in single mode.
                print(_message(error, args.verbose, args.protocol), file=sys.stderr)
                code = _status(error)
            if args.action == "call":
                return code  # the routed call's own status: the other servers were only listed
            for name, problem in group.errors.items():
                if name not in started:
                    failed(name, problem)
            return status or code
        collected: dict = {}
        for name, client in group.clients.items():
            sink = _Output(out.as_json, collect=True)
            if not out.as_json:
                print(f"== {escape_text(name)} ==")
            try:
                code = await _act(client, args, sink)
            except Exception as exc:  # noqa: BLE001 - one server's failure is reported, the others go on
                if isinstance(exc, (_Usage, BrokenPipeError)):
                    raise
                failed(name, exc)
                continue
            if code and status == EXIT_OK:
                status = code
            if sink.collected:
                collected[name] = sink.collected[0]
        if out.as_json:
            out.json(collected)
        return status


async def _run_one(args: argparse.Namespace, command: list[str], options: dict, out: _Output) -> int:
    import mcp_stdio

    async with mcp_stdio.connect(command, **options) as client:
        return await _act(client, args, out)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    for stream in (sys.stdout, sys.stderr):
        try:  # a text a terminal cannot encode is shown escaped, never a UnicodeEncodeError
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (``| head``): not an error of ours.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _main(argv: list[str]) -> int:
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    parser = _parser()
    args = parser.parse_intermixed_args(argv)
    _split_words(parser, args)
    sources = sum((bool(command), bool(args.config), args.reference))
    if sources > 1:
        parser.error("give one server: a command after --, --reference, or --config")
    if args.server and not args.config:
        parser.error("--server goes with --config")
    if args.all and not args.config:
        parser.error("--all goes with --config")
    if args.all and args.server:
        parser.error("give either --server or --all")
    if args.action == "servers" and not args.config:
        parser.error("servers lists the servers of a --config file")
    if not sources:
        parser.error("no server: put its command after --, or use --reference, or --config FILE")
    _setup_logging(args.verbose)
    out = _Output(args.json)
    timeout = args.timeout
    options: dict = {"startup_timeout": args.startup_timeout, "inherit_env": args.inherit_env,
                     "protocol": args.protocol}
    if timeout is not None:
        options["timeout"] = timeout or None
    if args.probe_timeout is not None:
        options["probe_timeout"] = args.probe_timeout
    if args.verbose:
        options["stderr_callback"] = lambda line: print(f"stderr: {escape_text(line)}", file=sys.stderr, flush=True)
    try:
        env = string_pairs(args.env, "--env ")
        configs: dict[str, ServerConfig] = {}
        if args.config:
            inputs = string_pairs(args.input, "--input ")
            quiet = not args.all  # listing shows the remote entries; one server: the others do not matter
            config_logger = logging.getLogger("mcp_stdio.config")
            previous = config_logger.level
            if quiet:
                config_logger.setLevel(logging.ERROR)
            try:
                servers = load_config(args.config, inputs=inputs)
            finally:
                config_logger.setLevel(previous)
            if args.action == "servers" or (args.action is None and not args.server and not args.all):
                return _list_servers(servers, out)
            if args.all:
                configs = {name: _adjusted(c, env, args.cwd, timeout is not None) for name, c in servers.items()}
            else:
                chosen = _adjusted(_selected(args, servers), env, args.cwd, timeout is not None)
                command = chosen.command
                options.update(chosen.connect_options())
        else:
            if args.reference:
                import mcp_stdio

                command = mcp_stdio.reference_server_command()
            if env:
                options["env"] = env
            if args.cwd:
                options["cwd"] = args.cwd
    except (ValueError, errors.ConfigError, _Usage) as exc:
        print(f"error: {escape_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    args.action = args.action or "info"
    if args.all:
        run = functools.partial(_run_group, args, configs, options, out)
    else:
        run = functools.partial(_run_one, args, command, options, out)
    try:
        code = asyncio.run(_interruptible(run))
    except BrokenPipeError:
        raise  # see main()
    except Exception as exc:  # noqa: BLE001 - every failure is one line, never a traceback
        print(_message(exc, args.verbose, args.protocol), file=sys.stderr)
        return _status(exc)
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        print("interrupted" if code == EXIT_INTERRUPTED else "terminated", file=sys.stderr)
    return code
