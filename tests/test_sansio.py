"""The protocol core does no I/O: prove it from the source, and pin the public API."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

import mcp_stdio

from .helpers import ROOT

SANS_IO = ["framing.py", "jsonrpc.py", "session.py", "client_session.py", "server_session.py", "events.py",
           "lifecycle.py", "errors.py", "types.py", "modern.py", "schema.py",
           "schema_compile.py", "schema_patterns.py", "schema_run.py", "shapes.py", "tasks.py"]
FORBIDDEN = {"asyncio", "subprocess", "os", "signal", "socket", "selectors", "threading"}


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", SANS_IO)
def test_core_module_imports_no_io(name):
    assert not imported_modules(ROOT / "mcp_stdio" / name) & FORBIDDEN


def test_runtime_imports_only_the_standard_library():
    stdlib = set(sys.stdlib_module_names) if hasattr(sys, "stdlib_module_names") else None
    if stdlib is None:
        pytest.skip("sys.stdlib_module_names needs Python 3.10")
    for path in sorted((ROOT / "mcp_stdio").rglob("*.py")):
        # A sibling file is local: the fault servers, run as scripts, import their _common.py.
        third_party = {name for name in imported_modules(path) if name not in stdlib and name != "mcp_stdio"
                       and not (path.parent / f"{name}.py").is_file()}
        assert not third_party, f"{path} imports {third_party}"


def test_importing_the_package_loads_no_third_party_module_and_no_asyncio():
    code = ("import sys; before = set(sys.modules); import mcp_stdio; "
            "print(' '.join(sorted(set(sys.modules) - before)))")
    loaded = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True).stdout.split()
    assert "asyncio" not in loaded
    allowed_roots = set(getattr(sys, "stdlib_module_names", ())) | {"mcp_stdio"}
    if allowed_roots != {"mcp_stdio"}:
        assert {name.split(".")[0] for name in loaded} <= allowed_roots


def test_public_api():
    assert set(mcp_stdio.__all__) == {
        "__version__", "reference_server_command", "connect", "Client", "DEFAULT_TIMEOUT", "connect_all",
        "ClientGroup", "pool", "Pool", "Agent", "tool_text", "is_error", "InitializeResult", "ListToolsResult",
        "CallToolResult",
        "ListResourcesResult", "ListResourceTemplatesResult", "ReadResourceResult", "ListPromptsResult",
        "GetPromptResult", "CompleteResult",
        "MCPStdioError", "StartError", "SpawnError", "UnsupportedProtocolVersion", "ConnectionClosed",
        "ServerExited", "MessageTooLarge", "ProtocolError", "LocalProtocolError", "RemoteProtocolError",
        "CapabilityError", "SchemaError", "RequestError", "RemoteError", "ToolError", "InputRequired",
        "RequestTimeout", "ClientClosedError", "ConfigError",
    }
    for name in mcp_stdio.__all__:
        value = getattr(mcp_stdio, name)
        if callable(value) and not isinstance(value, type(dict[str, int])):
            assert value.__doc__, f"{name} has no docstring"


def test_errors_tree():
    from mcp_stdio import errors

    assert issubclass(errors.SpawnError, errors.StartError)
    assert issubclass(errors.UnsupportedProtocolVersion, errors.StartError)
    assert issubclass(errors.ServerExited, errors.ConnectionClosed)
    assert issubclass(errors.MessageTooLarge, errors.ConnectionClosed)
    assert issubclass(errors.RequestTimeout, TimeoutError)
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type):
            assert issubclass(value, errors.MCPStdioError)
            assert value.__doc__


def test_error_messages_are_built_from_attributes():
    from mcp_stdio import errors

    assert str(errors.ServerExited(-9, ["boom"])) == "server killed by SIGKILL; stderr tail:\n  boom"
    assert str(errors.ServerExited(3)) == "server exited with status 3"
    assert str(errors.RemoteError(-32601, "Method not found", None, "x/y")) == "x/y: Method not found (code -32601)"
    assert str(errors.RequestTimeout("tools/call", 1.5)) == "tools/call: no answer within 1.5 s"
    assert str(errors.SpawnError(["nope"], "command not found on PATH")) == (
        "cannot start 'nope': command not found on PATH")
    assert errors.describe_returncode(None) == "still running"
    assert errors.describe_returncode(-200) == "killed by signal 200"
