"""What a consumer sees: every module's public names resolve, carry docstrings and types.

Three checks a user would otherwise make for us: ``from mcp_stdio.x import *`` works for
every module (each name in ``__all__`` exists), the generated stub of the synchronous client
matches the async client it mirrors, and a type checker run on a consumer's code catches a
misspelt result key (the results are TypedDicts, not ``dict[str, Any]``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import textwrap

import pytest

import mcp_stdio

from .helpers import ROOT

# Scripts run as child processes by the tests and the bench: not modules to import.
SCRIPTS = ("mcp_stdio.bench.servers.",)


def public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(mcp_stdio.__path__, "mcp_stdio."):
        if info.name.startswith(SCRIPTS) or info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", public_modules())
def test_every_public_name_resolves_and_is_documented(name):
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no module docstring"
    exported = getattr(module, "__all__", None)
    if exported is None:
        return
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    for public in exported:
        value = getattr(module, public)  # raises if __all__ names something that is not there
        if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == name:
            assert value.__doc__, f"{name}.{public} has no docstring"


def test_the_events_union_is_exported():
    from mcp_stdio.events import AnyEvent, ResultReceived

    assert "AnyEvent" in mcp_stdio.events.__all__
    # A union for type checkers; at run time the base class, so isinstance() works with it.
    assert isinstance(ResultReceived(1, "ping", {}, None), AnyEvent)


def test_the_sync_stub_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_sync_stub.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("argv", [["mcp_stdio", "--help"], ["mcp_stdio.bench", "--help"]])
def test_entry_points_load_each_module_once(argv):
    # runpy warns (RuntimeWarning) when the module it runs was already imported under its
    # own name: the sign of a module loaded twice, with two copies of its globals.
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", *argv],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "RuntimeWarning" not in done.stderr


def test_the_reference_server_module_runs_once_and_exits_on_end_of_input():
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "mcp_stdio.server"],
                          input="", capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "RuntimeWarning" not in done.stderr


CONSUMER = '''
from __future__ import annotations

import mcp_stdio


async def main() -> None:
    async with mcp_stdio.connect(mcp_stdio.reference_server_command()) as client:
        result = await client.call_tool("echo", {"text": "hi"})
        for block in result["contnet"]:
            print(block)
'''


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed for this interpreter (.ci/run installs it)")
def test_a_type_checker_catches_a_misspelt_result_key(tmp_path):
    consumer = tmp_path / "consumer.py"
    consumer.write_text(textwrap.dedent(CONSUMER), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "cache"), str(consumer)],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "MYPYPATH": str(ROOT)})
    assert '"contnet"' in done.stdout, done.stdout + done.stderr
    # The misspelt key is the only complaint about the consumer: the calls it makes type-check.
    assert [line for line in done.stdout.splitlines() if line.startswith("consumer.py") and "error:" in line] == [
        'consumer.py:10: error: TypedDict "CallToolResult" has no key "contnet"  [typeddict-item]'], done.stdout
    fixed = consumer.read_text(encoding="utf-8").replace("contnet", "content")
    consumer.write_text(fixed, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path / "cache"), str(consumer)],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "MYPYPATH": str(ROOT)})
    assert "consumer.py" not in done.stdout, done.stdout
