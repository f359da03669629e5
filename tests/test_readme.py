"""README.rst stays true: its examples run, and CI runs its test command."""

from __future__ import annotations

import re
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


def readme_options_table() -> dict[str, str]:
    """The README's table of client options: name -> default, as written."""
    section = README[README.index("\nThe client\n"):README.index("\nCallbacks\n")]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"``(\w+)``\s+(\S.*?)\s{2,}", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def test_readme_options_table_lists_every_option_with_its_default():
    import inspect

    from mcp_stdio import framing, transport
    from mcp_stdio.client import Client

    table = readme_options_table()
    callbacks = {"message_handler", "stderr_callback", "logging_callback", "sampling_callback",
                 "elicitation_callback", "list_roots_callback", "roots"}
    parameters = inspect.signature(Client.__init__).parameters
    options = {name: parameter.default for name, parameter in parameters.items()
               if parameter.kind is parameter.KEYWORD_ONLY and name not in callbacks - {"message_handler",
                                                                                         "stderr_callback"}}
    assert set(table) == set(options), set(table) ^ set(options)
    for name, default in options.items():
        written = table[name]
        if name == "max_message_size":
            assert default == framing.DEFAULT_MAX_MESSAGE_SIZE == 64 * 1024 * 1024 and written == "64 MiB"
        elif name == "client_info":
            assert default is None and written == "mcp_stdio"
        else:
            assert written == f"``{default!r}``".replace("'", '"'), (name, written, default)
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


def test_the_layout_section_names_every_module():
    layout = README[README.index("\nLayout\n"):]
    modules = sorted(path.name for path in (ROOT / "mcp_stdio").glob("*.py")
                     if path.name not in ("__init__.py", "__main__.py"))
    missing = [name for name in modules if f"``{name}``" not in layout]
    assert not missing, f"README's Layout section does not name {missing}"
    for folder in ("server/", "bench/", "schemas/"):
        assert f"``{folder}``" in layout
