"""README.rst stays true: its examples run, and CI runs its test command."""

from __future__ import annotations

import sys

import pytest

import mcp_stdio

from .helpers import CHILD_ENV, ROOT, run
from .readme import PYTHON_EXAMPLES, README, SERVER_EXAMPLE, block_with, checkout, console_examples, python_blocks


def test_quick_start_runs_and_matches_the_example_file():
    quick = python_blocks()[0]
    assert "mcp_stdio.connect(command)" in quick
    assert quick in (ROOT / "examples" / "quickstart.py").read_text(encoding="utf-8")


def test_every_python_example_is_covered_by_a_test():
    covered = (*PYTHON_EXAMPLES, SERVER_EXAMPLE)
    for block in python_blocks():
        assert any(marker in block for marker in covered), block[:200]


@pytest.mark.parametrize("marker", PYTHON_EXAMPLES)
def test_python_example_runs_in_the_checkout(marker):
    PYTHON_EXAMPLES[marker](checkout().run_python(block_with(marker)))


def test_the_examples_start_the_reference_server_in_a_way_that_works_from_anywhere():
    # "python -m mcp_stdio.server" in a child needs the package installed: servers do not
    # inherit PYTHONPATH, so a vendored folder could not run the examples.
    for block in python_blocks():
        assert '"mcp_stdio.server"' not in block
    for command in console_examples():
        assert "mcp_stdio.server" not in command


@pytest.mark.parametrize("command", console_examples())
def test_console_example_runs_in_the_checkout(command):
    setting = checkout()
    reason = setting.cannot_run(command)
    if reason:
        pytest.skip(reason)
    done = setting.run(setting.argv(command))
    assert done.returncode == 0, (command, done.stderr)
    assert done.stdout.strip(), command


def test_the_console_examples_are_all_there():
    commands = console_examples()
    assert len(commands) == 7
    assert sum(command.startswith("python -m mcp_stdio ") for command in commands) == 6
    assert "mcp-stdio-client --reference tools" in commands


def test_server_example_serves_its_tool(tmp_path):
    source = block_with(SERVER_EXAMPLE)
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


def test_ci_runs_the_readme_install_and_test_commands_as_written():
    development = README[README.index("\nDevelopment\n"):]
    block = development[development.index("::\n\n") + 3:]
    commands = [line.strip() for line in block[:block.index("\n\n", 1)].splitlines() if line.strip()]
    assert commands == ["python -m pip install -e '.[test]'", "python -m pytest"]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    for command in commands:
        assert command in ci_lines


def test_readme_defaults_match_the_code():
    from mcp_stdio import framing, transport
    from mcp_stdio import options as client

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




def test_tox_fails_rather_than_skips_a_missing_interpreter():
    import configparser

    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    assert tox["tox"]["skip_missing_interpreters"] == "false"
    envs = [name.strip() for name in tox["tox"]["envlist"].split(",")]
    assert envs[:5] == ["py39", "py310", "py311", "py312", "py313"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "--skip-missing-interpreters=false -e py39,py310,py311,py312,py313,lint " in ci
