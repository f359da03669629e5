"""Write mcp_stdio/sync.pyi: the typed face of the generated synchronous client and pool.

mcp_stdio.sync builds its blocking methods at import time from the coroutine methods of
mcp_stdio.Client, mcp_stdio.Pool and mcp_stdio.Agent, so none is missed; a type
checker cannot see methods made at run time, so this tool writes their signatures (the
async ones, minus ``async``, with the same return types) into a stub next to the module.
``--check`` exits 1 when the committed stub differs from what would be written (the tests
run it).

    python tools/gen_sync_stub.py [--check]
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mcp_stdio.api as api  # noqa: E402
import mcp_stdio.client as client  # noqa: E402
from mcp_stdio.pool import Agent, Pool  # noqa: E402
import mcp_stdio.sync as sync  # noqa: E402
import mcp_stdio.types as types  # noqa: E402

STUB = ROOT / "mcp_stdio" / "sync.pyi"

# Where the names used in annotations come from.
SOURCES = {name: "mcp_stdio.types" for name in types.__all__}
SOURCES.update({"ProgressCallback": "mcp_stdio.api", "Subscription": "mcp_stdio.subscriptions",
                "State": "mcp_stdio.lifecycle", "Callbacks": "mcp_stdio.callbacks",
                "RequestCallback": "mcp_stdio.callbacks", "Client": None})
TYPING = ("Any", "Callable", "Optional", "Union")


def render_parameters(function: object) -> list[str]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    parts = []
    star_done = False
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if parameter.kind is parameter.VAR_KEYWORD:
            text = f"**{parameter.name}"
        elif parameter.kind is parameter.VAR_POSITIONAL:
            text = f"*{parameter.name}"
            star_done = True
        else:
            text = parameter.name
        if parameter.annotation is not parameter.empty:
            text += f": {parameter.annotation}"
        if parameter.default is not parameter.empty:
            text += " = ..."
        parts.append(text)
    return parts


def define(name: str, parameters: list[str], result: str) -> list[str]:
    """A stub method, one parameter per line when it would not fit in 120 columns."""
    line = f"    def {name}({', '.join(parameters)}) -> {result}: ..."
    if len(line) <= 120:
        return [line]
    return [f"    def {name}("] + [f"        {parameter}," for parameter in parameters] + [f"    ) -> {result}: ..."]


def returns(function: object) -> str:
    annotation = inspect.signature(function).return_annotation  # type: ignore[arg-type]
    return "Any" if annotation is inspect.Signature.empty else str(annotation)


def generate() -> str:
    used: set[str] = set()

    def note(text: str) -> str:
        used.update(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
        return text

    def members(source: type, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
        """The stub lines of ``source``'s blocking methods (its coroutine methods), then of its
        properties, plain methods and public attributes, which read through; by name."""
        found = {}
        for name in sync.blocking_methods(source):
            method = getattr(source, name)
            found[name] = define(name, [note(part) for part in render_parameters(method)], note(returns(method)))
        for name in sorted(dir(source)):
            if name.startswith("_") or name in skip or name in found:
                continue
            value = getattr(source, name)
            if isinstance(value, property):
                found[name] = ["    @property", f"    def {name}(self) -> {note(returns(value.fget))}: ..."]
            elif inspect.isfunction(value) and not inspect.iscoroutinefunction(value):
                found[name] = define(name, [note(part) for part in render_parameters(value)], note(returns(value)))
        for name, annotation in sorted(_slot_annotations(source).items()):
            if name not in skip:
                found[name] = [f"    {name}: {note(annotation)}"]
        return found

    def lines_of(found: dict[str, list[str]], names: list[str]) -> list[str]:
        return [line for name in names for line in found[name]]

    # What the client and the agent have alike goes in their base class, as at run time.
    of_client, of_agent = members(client.Client), members(Agent, skip=("pool",))
    shared = [name for name in of_client if of_agent.get(name) == of_client[name]]
    body = ["class SyncSubscription:",
            "    def __iter__(self) -> SyncSubscription: ...",
            "    def __next__(self) -> dict: ...",
            "    def __enter__(self) -> SyncSubscription: ...",
            "    def __exit__(self, *exc_info: object) -> None: ...",
            "    def close(self) -> None: ...",
            "    def __getattr__(self, name: str) -> Any: ...",
            "",
            "",
            "class _Requests:",
            "    def listen(self, **options: Any) -> SyncSubscription: ..."]
    body += lines_of(of_client, shared)
    body += ["", "",
             "class Client(_Requests):",
             "    def __init__(self, command: list[str], **options: Any) -> None: ...",
             "    def __enter__(self) -> Client: ...",
             "    def __exit__(self, *exc_info: object) -> None: ...",
             "    def start(self) -> None: ...",
             "    def close(self) -> None: ..."]
    body += lines_of(of_client, [name for name in of_client if name not in shared])
    body += ["", "",
             "class SyncPool:",
             "    def __init__(self, command: list[str], **options: Any) -> None: ...",
             "    def __enter__(self) -> SyncPool: ...",
             "    def __exit__(self, *exc_info: object) -> None: ...",
             "    def start(self) -> None: ...",
             "    def close(self) -> None: ...",
             "    def session(self, **options: Any) -> SyncAgent: ...",
             "    @property",
             f"    def pids(self) -> {note(returns(Pool.pids.fget))}: ...",
             f"    def stats(self) -> {note(returns(Pool.stats))}: ..."]
    body += lines_of(members(Pool), sync.blocking_methods(Pool))
    body += ["", "",
             "class SyncAgent(_Requests):",
             "    pool: SyncPool",
             "    def __enter__(self) -> SyncAgent: ...",
             "    def __exit__(self, *exc_info: object) -> None: ...",
             "    def close(self) -> None: ..."]
    body += lines_of(of_agent, [name for name in of_agent if name not in shared])
    body += ["", "", "def connect(command: list[str], **options: Any) -> Client: ...", "",
             "def pool(command: list[str], **options: Any) -> SyncPool: ...", "",
             "def blocking_methods(source: type = ...) -> list[str]: ...", "", "EXTRA_WAIT: float"]
    modules: dict[str, list[str]] = {}
    for name in sorted(used):
        if name in SOURCES and SOURCES[name] is not None:
            modules.setdefault(SOURCES[name], []).append(name)  # type: ignore[arg-type]
    lines = ['"""Generated by tools/gen_sync_stub.py from mcp_stdio.Client, mcp_stdio.Pool and mcp_stdio.Agent: '
             'do not edit."""', "",
             "from __future__ import annotations", "",
             f"from typing import {', '.join(name for name in TYPING if name in used or name == 'Any')}", ""]
    for module in sorted(modules):
        line = f"from {module} import {', '.join(modules[module])}"
        if len(line) > 120:
            line = "\n".join([f"from {module} import ("] + [f"    {name}," for name in modules[module]] + [")"])
        lines.append(line)
    lines += ["", f"__all__ = [{', '.join(f'{chr(34)}{name}{chr(34)}' for name in sync.__all__)}]", "", ""]
    return "\n".join(lines + body) + "\n"


def _slot_annotations(source: type) -> dict[str, str]:
    """The public attributes of ``source`` that read through (annotated in its __init__)."""
    found = {}
    text = inspect.getsource(source.__init__)  # type: ignore[misc]
    for match in re.finditer(r"^\s+self\.([a-z][a-z_]*)(?:: ([^=]+))? = ", text, re.MULTILINE):
        name, annotation = match.group(1), match.group(2)
        if name in getattr(source, "__slots__", ()) and not isinstance(getattr(source, name, None), property):
            found[name] = (annotation or "Any").strip()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the stub is out of date")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = STUB.read_text(encoding="utf-8") if STUB.exists() else ""
        if current != text:
            print(f"{STUB} is out of date: run python tools/gen_sync_stub.py", file=sys.stderr)
            return 1
        return 0
    STUB.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

del api  # imported so that its names resolve when signatures are read
