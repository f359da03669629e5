"""The command line: ``python -m mcp_stdio [options] [SUBCOMMAND ...] -- COMMAND ARGS...``.

Talk to any stdio MCP server from a terminal or a script::

    python -m mcp_stdio -- npx -y @modelcontextprotocol/server-everything
    python -m mcp_stdio tools -- python -m mcp_stdio.server
    python -m mcp_stdio call add a=2 b=3 -- python -m mcp_stdio.server
    python -m mcp_stdio --config ~/.config/claude/claude_desktop_config.json --server files tools

Subcommands: ``info`` (the default: server, version, capabilities, instructions),
``tools``, ``resources``, ``templates``, ``prompts``, ``call NAME [--args JSON | key=value
...]``, ``read URI``, ``prompt NAME [key=value ...]``, ``ping``. Output is readable text
by default and JSON with ``--json``. Text from the server is stripped of terminal control
sequences before it is shown.

Exit status: 0 success; 1 the tool reported an error (``isError``) or the server answered
with a JSON-RPC error; 2 usage or configuration error; 3 the server could not be started;
4 the connection was lost or a request timed out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import textwrap

from . import errors
from .config import load_config

__all__ = ["main", "strip_control"]

EXIT_OK, EXIT_TOOL_ERROR, EXIT_USAGE, EXIT_START, EXIT_CONNECTION = 0, 1, 2, 3, 4

# ANSI escape sequences (CSI, OSC, and two-character escapes), then the other C0/C1
# controls except newline and tab: a server must not be able to drive the terminal.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|"
                      r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_control(text: object) -> str:
    """Return ``text`` as a string without terminal control sequences."""
    return _CONTROL.sub("", str(text))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_stdio",
        description="Talk to an MCP server over stdio. Put the server command after --, "
                    "or name a server of an mcpServers configuration file.",
        epilog="exit status: 0 ok, 1 tool or server error, 2 usage, 3 server did not start, "
               "4 connection lost or timeout")
    parser.add_argument("--config", help="an mcpServers JSON file (desktop and editor hosts' format)")
    parser.add_argument("--server", help="the server's name in the --config file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument("--startup-timeout", type=float, default=60.0,
                        help="seconds to start the server and handshake (default 60)")
    parser.add_argument("--verbose", action="store_true", help="trace every message on stderr")
    parser.add_argument("--protocol", default="auto", choices=("auto", "handshake", "2026-07-28"),
                        help="protocol era (default auto: probe with server/discover, else the handshake)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="an environment variable for the server (repeatable)")
    parser.add_argument("--cwd", help="working directory of the server")
    parser.add_argument("--inherit-env", action="store_true", help="pass the whole environment to the server")
    sub = parser.add_subparsers(dest="action")
    sub.add_parser("info", help="server, version, capabilities and instructions (default)")
    sub.add_parser("tools", help="list the tools")
    sub.add_parser("resources", help="list the resources")
    sub.add_parser("templates", help="list the resource templates")
    sub.add_parser("prompts", help="list the prompts")
    sub.add_parser("ping", help="check that the server answers")
    call = sub.add_parser("call", help="call a tool")
    call.add_argument("name")
    call.add_argument("pairs", nargs="*", metavar="key=value", help="arguments (values parsed as JSON if they can be)")
    call.add_argument("--args", help="the arguments as one JSON object")
    read = sub.add_parser("read", help="read a resource")
    read.add_argument("uri")
    prompt = sub.add_parser("prompt", help="get a prompt")
    prompt.add_argument("name")
    prompt.add_argument("pairs", nargs="*", metavar="key=value")
    return parser


def _pairs(pairs: list[str], parse_json: bool) -> dict:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        if parse_json:
            try:
                result[key] = json.loads(value)
                continue
            except ValueError:
                pass
        result[key] = value
    return result


class _Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.width = max(40, shutil.get_terminal_size((100, 24)).columns)

    def json(self, value: object) -> None:
        print(json.dumps(value, indent=2, ensure_ascii=False))

    def table(self, rows: list[tuple[str, str]], empty: str) -> None:
        if not rows:
            print(empty)
            return
        left = min(max(len(strip_control(name)) for name, _ in rows), self.width // 3)
        for name, text in rows:
            name = strip_control(name)
            text = " ".join(strip_control(text).split())
            room = self.width - left - 2
            lines = textwrap.wrap(text, room, max_lines=3, placeholder=" ...") or [""]
            print(f"{name:<{left}}  {lines[0]}")
            for line in lines[1:]:
                print(" " * (left + 2) + line)

    def text(self, text: str) -> None:
        print(strip_control(text))


def _content_text(blocks: list) -> str:
    parts = []
    for block in blocks or ():
        kind = block.get("type")
        if kind == "text":
            parts.append(block.get("text", ""))
        elif kind == "resource":
            resource = block.get("resource") or {}
            parts.append(resource.get("text") or f"[resource {resource.get('uri')}]")
        elif kind == "resource_link":
            parts.append(f"[link {block.get('uri')}]")
        else:
            parts.append(f"[{kind} {block.get('mimeType', '')}]".replace(" ]", "]"))
    return "\n".join(parts)


async def _run(args: argparse.Namespace, command: list[str], options: dict, out: _Output) -> int:
    import mcp_stdio

    async with mcp_stdio.connect(command, **options) as client:
        action = args.action or "info"
        if action == "info":
            info = {"server": client.server_info, "protocolVersion": client.protocol_version,
                    "capabilities": client.server_capabilities, "instructions": client.instructions}
            if out.as_json:
                out.json(info)
            else:
                server = client.server_info
                out.text(f"{server.get('name', '?')} {server.get('version', '')} (protocol {client.protocol_version})")
                out.text("capabilities: " + (", ".join(sorted(client.server_capabilities)) or "none"))
                if client.instructions:
                    out.text("instructions: " + client.instructions)
            return EXIT_OK
        if action in ("tools", "resources", "templates", "prompts"):
            method = {"tools": client.list_tools, "resources": client.list_resources,
                      "templates": client.list_resource_templates, "prompts": client.list_prompts}[action]
            key = {"templates": "resourceTemplates"}.get(action, action)
            items = (await method())[key]
            if out.as_json:
                out.json(items)
            else:
                label = {"resources": "uri", "templates": "uriTemplate"}.get(action, "name")
                out.table([(item.get(label, "?"), item.get("description") or item.get("title") or "")
                           for item in items], f"(no {action})")
            return EXIT_OK
        if action == "call":
            arguments = json.loads(args.args) if args.args else {}
            if not isinstance(arguments, dict):
                raise ValueError("--args must be a JSON object")
            arguments.update(_pairs(args.pairs, parse_json=True))
            result = await client.call_tool(args.name, arguments)
            if out.as_json:
                out.json(result)
            else:
                out.text(_content_text(result.get("content")))
                if "structuredContent" in result and not result.get("content"):
                    out.json(result["structuredContent"])
            return EXIT_TOOL_ERROR if result.get("isError") else EXIT_OK
        if action == "read":
            result = await client.read_resource(args.uri)
            if out.as_json:
                out.json(result)
            else:
                for contents in result.get("contents", []):
                    out.text(contents.get("text") if "text" in contents
                             else f"[{len(contents.get('blob', '')) * 3 // 4} bytes of {contents.get('mimeType')}]")
            return EXIT_OK
        if action == "prompt":
            result = await client.get_prompt(args.name, _pairs(args.pairs, parse_json=False))
            if out.as_json:
                out.json(result)
            else:
                for message in result.get("messages", []):
                    out.text(f"[{message.get('role')}] {_content_text([message.get('content') or {}])}")
            return EXIT_OK
        await client.ping()
        if out.as_json:
            out.json({"ok": True})
        else:
            out.text("ok")
        return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    parser = _parser()
    args = parser.parse_args(argv)
    out = _Output(args.json)
    options: dict = {"timeout": args.timeout, "startup_timeout": args.startup_timeout,
                     "inherit_env": args.inherit_env, "protocol": args.protocol}
    try:
        env = _pairs(args.env, parse_json=False)
        if args.config or args.server:
            if command:
                parser.error("give either a command after -- or --config/--server, not both")
            if not (args.config and args.server):
                parser.error("--config and --server go together")
            servers = load_config(args.config)
            if args.server not in servers:
                raise errors.ConfigError(args.config, args.server, "no such server in the file "
                                         f"(it has: {', '.join(servers) or 'none'})")
            chosen = servers[args.server]
            command = chosen.command
            options.update(chosen.connect_options())
            env = dict(chosen.env or {}, **env)
        if not command:
            parser.error("no server: put its command after --, or use --config and --server")
        if env:
            options["env"] = env
        if args.cwd:
            options["cwd"] = args.cwd
    except (ValueError, errors.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s %(message)s", stream=sys.stderr)
    try:
        return asyncio.run(_run(args, command, options, out))
    except errors.StartError as exc:
        print(f"error: {strip_control(exc)}", file=sys.stderr)
        return EXIT_START
    except (errors.ConnectionClosed, errors.RequestTimeout) as exc:
        print(f"error: {strip_control(exc)}", file=sys.stderr)
        return EXIT_CONNECTION
    except (errors.RemoteError, errors.ProtocolError) as exc:
        print(f"error: {strip_control(exc)}", file=sys.stderr)
        return EXIT_TOOL_ERROR
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (``| head``): not an error of ours.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
