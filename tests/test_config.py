"""Configuration files: Claude Desktop/Cursor ``mcpServers``, VS Code ``servers``, and what hosts add."""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest

from mcp_stdio.config import ServerConfig, load_config, parse_config, select_server
from mcp_stdio.errors import ConfigError

from .helpers import CHILD_ENV

CONFIG = {
    "mcpServers": {
        "reference": {"command": sys.executable, "args": ["-m", "mcp_stdio.server"], "env": CHILD_ENV,
                      "type": "stdio", "timeout": 30000, "autoApprove": []},
        "off": {"command": "nothing", "disabled": True},
    }
}


def test_mcp_servers_tolerates_extras_and_converts_milliseconds():
    servers = parse_config(CONFIG, "x.json")
    reference = servers["reference"]
    assert reference.command == [sys.executable, "-m", "mcp_stdio.server"]
    assert reference.timeout == 30.0 and not reference.disabled and reference.problem is None
    assert servers["off"].disabled and servers["off"].command == ["nothing"]
    assert reference.connect_options() == {"env": CHILD_ENV, "timeout": 30.0}
    assert reference.source == "x.json" and reference.type == "stdio" and not reference.remote


def test_vscode_servers_format_is_read_beside_mcp_servers():
    document = {
        "servers": {"git": {"type": "stdio", "command": "uvx", "args": ["mcp-server-git"], "env": {"A": "1"},
                            "cwd": "/tmp"}},
        "mcpServers": {"files": {"command": "files-server"}},
    }
    servers = parse_config(document, "mcp.json")
    assert list(servers) == ["files", "git"]  # mcpServers first, then servers, each in file order
    git = servers["git"]
    assert git.command == ["uvx", "mcp-server-git"] and git.env == {"A": "1"} and git.cwd == "/tmp"
    settings = parse_config({"editor.fontSize": 12, "mcp": {"servers": {"x": {"command": "x"}}}}, "settings.json")
    assert settings["x"].command == ["x"]


def test_a_name_in_both_sections_is_refused():
    document = {"servers": {"a": {"command": "x"}}, "mcpServers": {"a": {"command": "y"}}}
    with pytest.raises(ConfigError) as info:
        parse_config(document, "mcp.json")
    assert str(info.value) == "mcp.json: server 'a': appears in both \"mcpServers\" and \"servers\""


def test_remote_entries_are_kept_but_skipped_with_one_warning_each(caplog):
    document = {"mcpServers": {
        "local": {"command": "x"},
        "http": {"type": "http", "url": "https://example.com/mcp"},
        "sse": {"type": "sse", "url": "https://example.com/sse"},
        "streamable": {"type": "streamable-http", "url": "https://example.com/mcp"},
        "bare": {"url": "https://example.com/mcp"},
        "windsurf": {"serverUrl": "https://example.com/mcp"},
        "off": {"url": "https://example.com/mcp", "disabled": True},
    }}
    with caplog.at_level(logging.WARNING, logger="mcp_stdio.config"):
        servers = parse_config(document, "mcp.json")
    messages = [r.getMessage() for r in caplog.records if r.name == "mcp_stdio.config"]
    assert messages == [
        "mcp.json: server 'http': skipped: a remote server (\"type\": 'http'); only stdio servers are supported",
        "mcp.json: server 'sse': skipped: a remote server (\"type\": 'sse'); only stdio servers are supported",
        "mcp.json: server 'streamable': skipped: a remote server (\"type\": 'streamable-http'); "
        "only stdio servers are supported",
        "mcp.json: server 'bare': skipped: a remote server (a \"url\" and no \"command\"); "
        "only stdio servers are supported",
        "mcp.json: server 'windsurf': skipped: a remote server (a \"url\" and no \"command\"); "
        "only stdio servers are supported",
    ]  # a disabled remote entry is skipped without a word
    assert [name for name, c in servers.items() if c.remote] == ["http", "sse", "streamable", "bare", "windsurf", "off"]
    assert servers["http"].url == "https://example.com/mcp" and servers["http"].command == []
    assert select_server(servers, "local", "mcp.json").command == ["x"]
    with pytest.raises(ConfigError) as info:
        select_server(servers, "http", "mcp.json")
    assert str(info.value) == ("mcp.json: server 'http': is a remote server (\"type\": 'http'); "
                               "only stdio servers are supported")


def test_selecting_a_disabled_or_missing_server_is_a_clear_error():
    servers = parse_config(CONFIG, "x.json")
    with pytest.raises(ConfigError) as info:
        select_server(servers, "off", "x.json")
    assert str(info.value) == "x.json: server 'off': is disabled in the file (\"disabled\": true)"
    with pytest.raises(ConfigError) as info:
        select_server(servers, "other", "x.json")
    assert str(info.value) == "x.json: server 'other': no such server in the file (it has: reference, off)"
    enabled_false = parse_config({"mcpServers": {"a": {"command": "x", "enabled": False}}})
    assert enabled_false["a"].disabled


def test_vscode_inputs_are_refused_by_name_until_given(tmp_path):
    document = {
        "inputs": [{"type": "promptString", "id": "token", "description": "GitHub token", "password": True}],
        "servers": {"github": {"command": "gh-server", "args": ["--token=${input:token}"],
                               "env": {"TOKEN": "${input:token}", "OTHER": "${input:other}"}}},
    }
    servers = parse_config(document, "mcp.json")
    github = servers["github"]
    assert github.problem is not None
    with pytest.raises(ConfigError) as info:
        select_server(servers, "github", "mcp.json")
    assert str(info.value) == (
        "mcp.json: server 'github': uses ${input:token} ('GitHub token'), a VS Code input that mcp_stdio "
        "does not prompt for: give its value (--input token=VALUE on the command line, inputs= in the library)")
    partly = parse_config(document, "mcp.json", inputs={"token": "s3cret"})["github"]
    assert "${input:other}" in partly.problem
    given = parse_config(document, "mcp.json", inputs={"token": "s3cret", "other": "o"})["github"]
    assert given.problem is None
    assert given.command == ["gh-server", "--token=s3cret"] and given.env == {"TOKEN": "s3cret", "OTHER": "o"}


def test_variables_are_expanded_as_vscode_does(tmp_path, monkeypatch):
    monkeypatch.setenv("MCP_STDIO_TEST_VAR", "value")
    workspace = tmp_path / "project"
    (workspace / ".vscode").mkdir(parents=True)
    path = workspace / ".vscode" / "mcp.json"
    path.write_text(json.dumps({"servers": {"a": {
        "command": "${userHome}${/}bin${pathSeparator}server",
        "args": ["${workspaceFolder}", "${workspaceFolderBasename}", "${env:MCP_STDIO_TEST_VAR}",
                 "${env:MCP_STDIO_UNSET}", "${HOME}", "${command:pick}"],
        "cwd": "${workspaceFolder}/sub"}}}))
    a = load_config(path)["a"]
    home = os.path.expanduser("~")
    assert a.command == [f"{home}{os.sep}bin{os.sep}server", str(workspace), "project", "value", "",
                         "${HOME}", "${command:pick}"]
    assert a.cwd == f"{workspace}/sub"
    plain = tmp_path / "mcp.json"  # not in a dot folder: the file's own folder
    plain.write_text(json.dumps({"mcpServers": {"b": {"command": "${workspaceFolder}/run"}}}))
    assert load_config(plain)["b"].command == [f"{tmp_path}/run"]


def test_env_file_is_read_under_env(tmp_path):
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".env").write_text('# comment\nexport A=1\nB="two words"\nC=\'x\' \nD=plain # note\n\nE=over\nbad\n')
    path = tmp_path / ".vscode" / "mcp.json"
    path.write_text(json.dumps({"servers": {
        "a": {"command": "x", "envFile": "${workspaceFolder}/.env", "env": {"E": "env wins"}},
        "b": {"command": "x", "envFile": "missing.env"}}}))
    servers = load_config(path)
    assert servers["a"].env == {"A": "1", "B": "two words", "C": "x", "D": "plain", "E": "env wins"}
    assert servers["b"].problem == f'cannot read its "envFile" {tmp_path}/missing.env: No such file or directory'


def test_comments_and_trailing_commas_are_accepted(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text('{\n  // VS Code writes comments\n  "servers": {\n    /* block */ "a": {"command": "x // not a '
                    'comment", "args": ["/*", "a,]"],},\n  },\n}\n')
    assert load_config(path)["a"].command == ["x // not a comment", "/*", "a,]"]
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  // fine\n  "servers": {"a": {"command": "x"}\n}\n')
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert str(info.value) == f"{bad}: not valid JSON: Expecting ',' delimiter: line 5 column 1 (char 50)"


@pytest.mark.parametrize("document, message", [
    ([], "x.json: the top level must be a JSON object"),
    ({}, 'x.json: no "mcpServers" or "servers" object'),
    ({"mcpServers": []}, 'x.json: "mcpServers" must be an object of servers by name'),
    ({"servers": 1}, 'x.json: "servers" must be an object of servers by name'),
    ({"mcpServers": {"a": 1}}, "x.json: server 'a': must be an object"),
    ({"mcpServers": {"a": {}}}, "x.json: server 'a': \"command\" must be a non-empty string"),
    ({"mcpServers": {"a": {"command": "x", "args": "y"}}},
     "x.json: server 'a': \"args\" must be a list of strings"),
    ({"mcpServers": {"a": {"command": "x", "env": {"K": 1}}}},
     "x.json: server 'a': \"env\" must map strings to strings"),
    ({"mcpServers": {"a": {"command": "x", "type": 5}}}, "x.json: server 'a': \"type\" must be a string"),
    ({"mcpServers": {"a": {"command": "x", "timeout": -1}}},
     "x.json: server 'a': \"timeout\" must be a positive number"),
    ({"mcpServers": {"a": {"command": "x", "disabled": "no"}}},
     "x.json: server 'a': \"disabled\" must be true or false"),
    ({"mcpServers": {"a": {"command": "x", "enabled": 0}}},
     "x.json: server 'a': \"enabled\" must be true or false"),
    ({"servers": {"a": {"command": "x", "envFile": ["a"]}}}, "x.json: server 'a': \"envFile\" must be a string"),
])
def test_malformed_configs_name_the_file_server_and_problem(document, message):
    with pytest.raises(ConfigError) as info:
        parse_config(document, "x.json")
    assert str(info.value) == message


def test_unreadable_and_invalid_json_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it: No such file or directory"):
        load_config(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=f"{bad}: not valid JSON"):
        load_config(bad)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ConfigError, match="cannot read it"):
        load_config(binary)


def test_server_config_check_and_repr():
    ServerConfig("a", ["x"]).check()
    with pytest.raises(ConfigError, match="<config>: server 'a': is disabled"):
        ServerConfig("a", ["x"], disabled=True).check()
    assert repr(ServerConfig("a", ["x"])) == "ServerConfig('a', ['x'])"
