"""README.rst stays true: its examples run, and CI runs its test command."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import mcp_stdio

from .helpers import CHILD_ENV, ROOT, run

README = (ROOT / "README.rst").read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", README)
    return ["\n".join(line[4:] for line in block.splitlines()).strip() + "\n" for block in blocks]


def test_quick_start_runs_and_matches_the_example_file():
    quick = python_blocks()[0]
    assert quick in (ROOT / "examples" / "quickstart.py").read_text(encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", quick], capture_output=True, text=True, timeout=60,
                         cwd=ROOT, env={**CHILD_ENV, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "mcp_stdio-reference 2026-07-28"  # the reference server serves both eras
    assert lines[1].startswith("['echo', 'add', 'sleep', 'blob', 'weather'")
    assert lines[2] == "hello"


def block_with(text: str) -> str:
    [block] = [b for b in python_blocks() if text in b]
    return block


def run_block(source: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=120,
                         cwd=ROOT, env={**CHILD_ENV, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_every_python_example_is_covered_by_a_test():
    covered = ("mcp_stdio.connect(command)", "Server(\"demo\")", "connect_all(servers)", "mcp_stdio.sync.connect(")
    for block in python_blocks():
        assert any(marker in block for marker in covered), block[:200]


def test_group_example():
    lines = run_block(block_with("connect_all(servers)"))
    assert lines == ["['first', 'second'] ['broken']", "26 first__echo", "3", "2"]


def test_sync_example():
    assert run_block(block_with("mcp_stdio.sync.connect(")) == ["mcp_stdio-reference", "no asyncio here"]


def test_console_examples_run():
    commands = [line.strip()[2:] for line in README.splitlines() if line.strip().startswith("$ python -m mcp_stdio")]
    assert len(commands) == 6
    env = dict(CHILD_ENV, PATH="/usr/bin:/bin")
    for command in commands:
        argv = [sys.executable if part == "python" else part for part in shlex.split(command)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip(), command


def test_server_example_serves_its_tool(tmp_path):
    source = block_with('Server("demo")')
    script = tmp_path / "demo_server.py"
    script.write_text(source, encoding="utf-8")

    async def main():
        async with mcp_stdio.connect([sys.executable, str(script)], env=CHILD_ENV) as client:
            tools = await client.list_tools()
            assert tools["tools"][0]["inputSchema"] == {
                "type": "object",
                "properties": {"name": {"type": "string"}, "excited": {"type": "boolean", "default": False}},
                "required": ["name"],
            }
            assert tools["tools"][0]["description"] == "Say hello."
            result = await client.call_tool("greet", {"name": "Ada", "excited": True})
            return mcp_stdio.tool_text(result)

    assert run(main()) == "Hello, Ada!"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install -e '.[test]'" in README and "python -m pytest" in README
    assert "python -m pip install -e '.[test]'" in ci
    assert "python -m pytest" in ci


def test_readme_defaults_match_the_code():
    from mcp_stdio import client, framing, transport

    assert f"``timeout``            ``{client.DEFAULT_TIMEOUT}``" in README
    assert f"``startup_timeout``    ``{client.DEFAULT_STARTUP_TIMEOUT}``" in README
    assert f"``close_timeout``      ``{client.DEFAULT_CLOSE_TIMEOUT}``" in README
    assert f"``exit_timeout``       ``{client.DEFAULT_EXIT_TIMEOUT}``" in README
    assert f"``terminate_timeout``  ``{client.DEFAULT_TERMINATE_TIMEOUT}``" in README
    assert f"``queue_size``         ``{transport.DEFAULT_QUEUE_SIZE}``" in README
    assert f"``probe_timeout``      ``{client.DEFAULT_PROBE_TIMEOUT}``" in README
    assert f"``max_input_rounds``   ``{client.DEFAULT_MAX_INPUT_ROUNDS}``" in README
    assert framing.DEFAULT_MAX_MESSAGE_SIZE == 64 * 1024 * 1024 and "64 MiB" in README
    for name in transport.DEFAULT_INHERITED_ENV:
        assert f"``{name}``" in README


