"""shapes.py: the params and results of every MCP message, checked per protocol version.

Two groups: the first compares the shipped data with the official schemas and runs the
official 2026-07-28 examples (skipped without them: set MCP_SPEC_DIR); the second needs only
the shipped data and always runs.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_stdio import shapes
from mcp_stdio.errors import LocalProtocolError

from .helpers import ROOT

SPEC_DIR = Path(os.environ.get("MCP_SPEC_DIR") or ROOT.parent / "shared" / "mcp-spec")
EXAMPLES = SPEC_DIR / "2026-07-28" / "examples"
DATA = ROOT / "mcp_stdio" / "schemas"
LATEST = "2026-07-28"
BEFORE_LATEST = [v for v in shapes.VERSIONS if v != LATEST]
TEXT = {"type": "text", "text": "hello"}
# What every 2026-07-28 request carries (basic/index: per-request _meta).
META = {"io.modelcontextprotocol/protocolVersion": LATEST, "io.modelcontextprotocol/clientCapabilities": {}}


def spec_available() -> bool:
    return all((SPEC_DIR / version / "schema.json").is_file() for version in shapes.VERSIONS)


def need_spec() -> None:
    if not spec_available():
        pytest.skip(f"official MCP schemas not found: set MCP_SPEC_DIR to the folder holding "
                    f"<version>/schema.json and README.md (tried {SPEC_DIR})")


def complete(version: str, result: dict) -> dict:
    """Return ``result`` as a server of ``version`` sends it (2026-07-28: with resultType)."""
    return dict(result, resultType="complete") if version == LATEST else result


def shipped(version: str) -> dict:
    return json.loads((DATA / f"{version}.json").read_text(encoding="utf-8"))


def run_gen(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(cwd / "tools" / "gen_schemas.py"), "--spec-dir", str(SPEC_DIR), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


# With the official schemas


def test_shipped_data_is_what_the_official_schemas_give():
    need_spec()
    done = run_gen("--check")
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""


def test_gen_schemas_check_reports_a_changed_file_and_generation_restores_it(tmp_path):
    need_spec()
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "gen_schemas.py", tmp_path / "tools")
    shutil.copytree(DATA, tmp_path / "mcp_stdio" / "schemas")
    changed = tmp_path / "mcp_stdio" / "schemas" / "2025-06-18.json"
    changed.write_text(changed.read_text(encoding="utf-8").replace('"content"', '"contents"', 1), encoding="utf-8")
    (tmp_path / "mcp_stdio" / "schemas" / "1999-01-01.json").write_text("{}", encoding="utf-8")
    done = run_gen("--check", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"gen_schemas: mcp_stdio/schemas/2025-06-18.json is not what {SPEC_DIR} gives",
        f"gen_schemas: mcp_stdio/schemas/1999-01-01.json is not what {SPEC_DIR} gives",
    ]
    assert run_gen(cwd=tmp_path).returncode == 0
    assert run_gen("--check", cwd=tmp_path).returncode == 0
    for version in shapes.VERSIONS:
        assert (tmp_path / "mcp_stdio" / "schemas" / f"{version}.json").read_bytes() == (
            DATA / f"{version}.json").read_bytes()


def test_shipped_data_names_its_source():
    need_spec()
    readme = (SPEC_DIR / "README.md").read_text(encoding="utf-8")
    for version in shapes.VERSIONS:
        source = shipped(version)["source"]
        assert source["repository"] == "https://github.com/modelcontextprotocol/modelcontextprotocol"
        assert source["commit"] in readme
        assert source["path"] == f"schema/{version}/schema.json"
        assert source["license"] == "MIT"


def example_files() -> list:
    return sorted(EXAMPLES.glob("*/*.json")) if spec_available() else [None]


def method_level_checks(name: str, value):
    """Yield ``(call, problems)`` for each way shapes.py checks an example of type ``name``."""
    for method in shapes.methods(LATEST):
        info = shapes.method_info(LATEST, method)
        if info.definition == name:  # a whole message: its params
            for sender in info.senders:
                yield (f"check_params({method!r}, sender={sender!r})",
                       shapes.check_params(LATEST, method, value.get("params"), sender=sender))
        if info.params == f"#/$defs/{name}":
            for sender in info.senders:
                yield f"check_params({method!r}, sender={sender!r})", shapes.check_params(
                    LATEST, method, value, sender=sender)
        if info.result == name or (name == "InputRequiredResult" and info.input_required):
            yield f"check_result({method!r})", shapes.check_result(LATEST, method, value)
        if info.result and name == f"{info.result}Response":
            yield f"check_result({method!r})", shapes.check_result(LATEST, method, value["result"])


# Official examples that contradict the official schema. This one lacks the cacheScope and
# ttlMs that ReadResourceResult requires; the schema's ReadResourceResultResponse still
# accepts it because its other option, InputRequiredResult, matches any object with a string
# resultType. shapes.py chooses by resultType, so it sees the missing members.
UPSTREAM_MISTAKES = {
    "ReadResourceResultResponse/read-resource-result-response": [
        "$: required property 'cacheScope' is missing", "$: required property 'ttlMs' is missing"],
}


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p and f"{p.parent.name}/{p.stem}")
def test_every_official_example_is_valid(path):
    need_spec()
    name, value = path.parent.name, json.loads(path.read_text(encoding="utf-8"))
    assert shapes.check(LATEST, name, value) == []
    for call, problems in method_level_checks(name, value):
        assert problems == UPSTREAM_MISTAKES.get(f"{name}/{path.stem}", []), call


def test_examples_cover_every_kind_of_check():
    need_spec()
    calls = set()
    for path in example_files():
        calls.update(call.split("(")[0] for call, _ in method_level_checks(
            path.parent.name, json.loads(path.read_text(encoding="utf-8"))))
    assert calls == {"check_params", "check_result"}


def resolve(defs: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = defs
        for part in schema["$ref"][len("#/$defs/"):].split("/"):
            node = node[part]
        schema = node
    return schema


WRONG = {"string": 12345, "integer": "12345", "number": "12345", "boolean": "yes", "array": "x", "object": "x"}


def mutations(defs: dict, schema: dict, value: dict):
    """Yield ``(what, mutated)``: ``value`` without one required member, or with a member
    of the wrong type."""
    schema = resolve(defs, schema)
    for key in schema.get("required", ()):
        # A result without resultType is a complete one (basic/index): not a mutation.
        if key in value and key != "resultType":
            yield f"without {key!r}", {k: v for k, v in value.items() if k != key}
    for key, sub in (schema.get("properties") or {}).items():
        sub = resolve(defs, sub)
        kind = sub.get("type")
        if key not in value:
            continue
        if type(kind) is str:
            yield f"{key!r} of the wrong type", dict(value, **{key: WRONG[kind]})
        elif "const" in sub or "enum" in sub:  # the data keeps no type beside a const
            yield f"{key!r} of the wrong type", dict(value, **{key: 12345 if type(value[key]) is str else "x"})


def mutated_examples():
    """Yield ``(id, (method, sender, value))``: a mutated example of a params type (the
    sender given) or of a result type (sender ``None``), in which shapes.py must find a
    problem."""
    if not spec_available():
        return
    defs = shipped(LATEST)["$defs"]
    for path in sorted(EXAMPLES.glob("*/*.json")):
        name, value = path.parent.name, json.loads(path.read_text(encoding="utf-8"))
        target = None
        for method in shapes.methods(LATEST):
            info = shapes.method_info(LATEST, method)
            if info.definition == name and type(value.get("params")) is dict:
                target = method, info.params, value["params"]
            elif info.params == f"#/$defs/{name}":
                target = method, info.params, value
            elif info.result == name or (name == "InputRequiredResult" and info.input_required):
                target = method, f"#/$defs/{name}", value
            elif info.result and name == f"{info.result}Response":
                target = method, f"#/$defs/{info.result}", value["result"]
            if target is not None:
                break
        if target is None:
            continue
        method, schema, value = target
        info = shapes.method_info(LATEST, method)
        sender = info.senders[0] if schema == info.params else None
        for what, bad in mutations(defs, {"$ref": schema}, value):
            yield f"{path.parent.name}/{path.stem} {what}", (method, sender, bad)


MUTATED = list(mutated_examples())


@pytest.mark.parametrize("case", [c for _, c in MUTATED] or [None], ids=[i for i, _ in MUTATED] or None)
def test_every_mutated_official_example_is_invalid(case):
    need_spec()
    method, sender, value = case
    if sender is None:
        assert shapes.check_result(LATEST, method, value) != []
    else:
        assert shapes.check_params(LATEST, method, value, sender=sender) != []


def test_mutations_cover_requests_notifications_and_results():
    need_spec()
    names = {name.split("/")[0] for name, _ in MUTATED}
    assert {"CallToolRequest", "CallToolRequestParams", "CallToolResult", "CallToolResultResponse",
            "CancelledNotification", "ProgressNotificationParams", "DiscoverResult", "CreateMessageRequest",
            "CreateMessageResult", "ElicitResult", "ListRootsResult", "InputRequiredResult"} <= names
    assert len(MUTATED) > 100


# Without the official schemas: the shipped data only


def test_versions_are_the_shipped_files():
    assert sorted(path.stem for path in DATA.glob("*.json")) == list(shapes.VERSIONS)
    for version in shapes.VERSIONS:
        assert shipped(version)["version"] == version


def test_the_module_is_sans_io():
    tree = ast.parse((ROOT / "mcp_stdio" / "shapes.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "json", "typing"}


@pytest.mark.parametrize("version", shapes.VERSIONS)
def test_every_definition_and_params_schema_compiles(version):
    data = shipped(version)
    for name in data["$defs"]:
        assert type(shapes.check(version, name, {})) is list
    for method in shapes.methods(version):
        info = shapes.method_info(version, method)
        for sender in info.senders:
            assert type(shapes.check_params(version, method, {}, sender=sender)) is list
        if info.result:
            assert type(shapes.check_result(version, method, {})) is list


@pytest.mark.parametrize("version", shapes.VERSIONS)
def test_a_call_tool_result_needs_content_in_every_version(version):
    assert shapes.check_result(version, "tools/call", complete(version, {"content": [TEXT]})) == []
    assert shapes.check_result(version, "tools/call", complete(version, {"content": [TEXT], "isError": True})) == []
    assert shapes.check_result(version, "tools/call", complete(version, {})) == [
        "$: required property 'content' is missing"]
    assert shapes.check_result(version, "tools/call", complete(version, {"content": "hello"})) == [
        "$.content: 'hello' is not of type array"]
    assert shapes.check_result(version, "tools/call", complete(version, {"content": [TEXT], "isError": "no"})) == [
        "$.isError: 'no' is not of type boolean"]


@pytest.mark.parametrize("version", shapes.VERSIONS)
def test_structured_content_is_checked_from_2025_06_18(version):
    result = complete(version, {"content": [], "structuredContent": {"temperature": 22}})
    assert shapes.check_result(version, "tools/call", result) == []
    text = complete(version, {"content": [], "structuredContent": "22 degrees"})
    if version in ("2025-06-18", "2025-11-25"):
        assert shapes.check_result(version, "tools/call", text) == [
            "$.structuredContent: '22 degrees' is not of type object"]
    else:  # unknown before 2025-06-18 (an extra member); any JSON value in 2026-07-28
        assert shapes.check_result(version, "tools/call", text) == []


@pytest.mark.parametrize("version", shapes.VERSIONS)
def test_a_tools_list_result_needs_a_list_of_tools(version):
    page = {"cacheScope": "private", "ttlMs": 0} if version == LATEST else {}
    tool = {"name": "echo", "inputSchema": {"type": "object"}}
    assert shapes.check_result(version, "tools/list", complete(version, dict(page, tools=[tool]))) == []
    assert shapes.check_result(version, "tools/list", complete(version, dict(page, tools="echo"))) == [
        "$.tools: 'echo' is not of type array"]
    assert shapes.check_result(version, "tools/list", complete(version, dict(page, tools=[{"name": "echo"}]))) == [
        "$.tools[0]: required property 'inputSchema' is missing"]


def test_2026_list_results_need_a_cache_scope_and_a_ttl():
    assert shapes.check_result(LATEST, "tools/list", {"resultType": "complete", "tools": []}) == [
        "$: required property 'cacheScope' is missing", "$: required property 'ttlMs' is missing"]
    assert shapes.check_result(LATEST, "tools/list", {"resultType": "complete", "tools": [], "cacheScope": "all",
                                                      "ttlMs": -1}) == [
        "$.cacheScope: 'all' is not one of ['private', 'public']", "$.ttlMs: -1 is less than the minimum 0"]


@pytest.mark.parametrize("version", shapes.VERSIONS)
@pytest.mark.parametrize("sender", ["client", "server"])
def test_a_progress_token_is_a_string_or_an_integer(version, sender):
    if version == LATEST and sender == "client":  # 2026-07-28: no request goes to the client
        assert shapes.check_params(version, "notifications/progress", {"progressToken": 1, "progress": 1},
                                   sender=sender) is None
        return
    for token in ("abc", 7):
        assert shapes.check_params(version, "notifications/progress", {"progressToken": token, "progress": 0.5,
                                                                       "total": 1}, sender=sender) == []
    for token in (1.5, None, [1], {"id": 1}, True):
        assert shapes.check_params(version, "notifications/progress", {"progressToken": token, "progress": 1},
                                   sender=sender) == [f"$.progressToken: {token!r} is not of type string or integer"]
    assert shapes.check_params(version, "notifications/progress", {"progressToken": 1}, sender=sender) == [
        "$: required property 'progress' is missing"]
    assert shapes.check_params(version, "notifications/progress", None, sender=sender) == [
        "$: params are required by notifications/progress"]


@pytest.mark.parametrize("version", BEFORE_LATEST)
def test_an_initialize_result_needs_a_protocol_version(version):
    result = {"protocolVersion": version, "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}}
    assert shapes.check_result(version, "initialize", result) == []
    del result["protocolVersion"]
    assert shapes.check_result(version, "initialize", result) == ["$: required property 'protocolVersion' is missing"]
    assert shapes.check(version, "InitializeResult", result) == ["$: required property 'protocolVersion' is missing"]
    assert shapes.check(version, "Implementation", {"name": "s"}) == ["$: required property 'version' is missing"]


def test_a_discover_result_needs_everything_the_schema_requires():
    result = {"resultType": "complete", "supportedVersions": [LATEST], "capabilities": {"tools": {}},
              "cacheScope": "public", "ttlMs": 60000}
    assert shapes.check_result(LATEST, "server/discover", result) == []
    assert shapes.check(LATEST, "DiscoverResult", result) == []
    for key in ("supportedVersions", "capabilities", "cacheScope", "ttlMs"):
        assert shapes.check_result(LATEST, "server/discover", {k: v for k, v in result.items() if k != key}) == [
            f"$: required property {key!r} is missing"]
    # basic/index: "clients MUST treat an absent resultType as complete".
    assert shapes.check_result(LATEST, "server/discover", {k: v for k, v in result.items() if k != "resultType"}) == []
    assert shapes.check(LATEST, "DiscoverResult", {k: v for k, v in result.items() if k != "resultType"}) == [
        "$: required property 'resultType' is missing"]
    assert shapes.check_result(LATEST, "server/discover", dict(result, supportedVersions=LATEST)) == [
        f"$.supportedVersions: {LATEST!r} is not of type array"]


def test_methods_of_each_version():
    requests = {v: set(shapes.methods(v, kind="request", sender="client")) for v in shapes.VERSIONS}
    base = {"initialize", "ping", "tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list",
            "resources/templates/list", "resources/read", "resources/subscribe", "resources/unsubscribe",
            "logging/setLevel", "completion/complete"}
    tasks = {"tasks/get", "tasks/result", "tasks/cancel", "tasks/list"}
    assert requests["2024-11-05"] == requests["2025-03-26"] == requests["2025-06-18"] == base
    assert requests["2025-11-25"] == base | tasks
    assert requests[LATEST] == {"server/discover", "subscriptions/listen", "tools/list", "tools/call", "prompts/list",
                                "prompts/get", "resources/list", "resources/templates/list", "resources/read",
                                "completion/complete"}
    server_requests = {v: set(shapes.methods(v, kind="request", sender="server")) for v in shapes.VERSIONS}
    assert server_requests["2024-11-05"] == server_requests["2025-03-26"] == {"ping", "sampling/createMessage",
                                                                              "roots/list"}
    assert server_requests["2025-06-18"] == {"ping", "sampling/createMessage", "roots/list", "elicitation/create"}
    assert server_requests["2025-11-25"] == server_requests["2025-06-18"] | tasks
    assert server_requests[LATEST] == set()
    assert shapes.methods(LATEST, kind="input") == ("elicitation/create", "roots/list", "sampling/createMessage")
    assert shapes.methods(LATEST, kind="notification", sender="client") == ("notifications/cancelled",)
    assert "notifications/subscriptions/acknowledged" in shapes.methods(LATEST, kind="notification", sender="server")
    assert "notifications/elicitation/complete" in shapes.methods("2025-11-25", sender="server")
    assert shapes.methods("2025-11-25", kind="notification", sender="client") == (
        "notifications/cancelled", "notifications/initialized", "notifications/progress",
        "notifications/roots/list_changed", "notifications/tasks/status")


def test_method_info_is_data():
    info = shapes.method_info("2025-11-25", "tools/call")
    assert (info.method, info.kind, info.senders, info.definition, info.params, info.params_required, info.result,
            info.task, info.input_required) == (
        "tools/call", "request", ("client",), "CallToolRequest", "#/$defs/CallToolRequestParams", True,
        "CallToolResult", True, False)
    assert repr(info) == ("MethodInfo('tools/call', kind='request', senders=('client',), "
                          "definition='CallToolRequest', result='CallToolResult')")
    ping = shapes.method_info("2024-11-05", "ping")
    assert (ping.senders, ping.params_required, ping.result) == (("client", "server"), False, "EmptyResult")
    sampling = shapes.method_info(LATEST, "sampling/createMessage")
    assert (sampling.kind, sampling.senders, sampling.result) == ("input", ("server",), "CreateMessageResult")
    assert [m for m in shapes.methods(LATEST) if shapes.method_info(LATEST, m).input_required] == [
        "prompts/get", "resources/read", "tools/call"]
    assert [m for m in shapes.methods("2025-11-25") if shapes.method_info("2025-11-25", m).task] == [
        "elicitation/create", "sampling/createMessage", "tools/call"]
    assert shapes.method_info(LATEST, "initialize") is None
    assert shapes.method_info("2025-11-25", "server/discover") is None


@pytest.mark.parametrize("version", shapes.VERSIONS)
def test_unknown_methods_and_wrong_senders_answer_none(version):
    assert shapes.check_params(version, "x/unknown", {}, sender="client") is None
    assert shapes.check_params(version, "tools/call", {"name": "echo"}, sender="server") is None
    assert shapes.check_params(version, "sampling/createMessage", {}, sender="client") is None
    assert shapes.check_params(version, "notifications/tools/list_changed", None, sender="client") is None
    assert shapes.check_params(version, "notifications/tools/list_changed", None, sender="server") == []


def test_methods_that_exist_in_some_versions_only():
    for version in shapes.VERSIONS:
        has = set(shapes.methods(version))
        assert ("elicitation/create" in has) == (version >= "2025-06-18")
        assert ("tasks/get" in has) == (version == "2025-11-25")
        assert ("notifications/elicitation/complete" in has) == (version == "2025-11-25")
        for method in ("server/discover", "subscriptions/listen", "notifications/subscriptions/acknowledged"):
            assert (method in has) == (version == LATEST)
        for method in ("initialize", "ping", "logging/setLevel", "resources/subscribe", "notifications/initialized",
                       "notifications/roots/list_changed"):
            assert (method in has) == (version != LATEST)
    assert shapes.check_params("2025-03-26", "elicitation/create", {"message": "?", "requestedSchema": {}},
                               sender="server") is None


@pytest.mark.parametrize("version", BEFORE_LATEST)
def test_absent_params(version):
    assert shapes.check_params(version, "tools/list", None, sender="client") == []
    assert shapes.check_params(version, "ping", None, sender="server") == []
    assert shapes.check_params(version, "tools/call", None, sender="client") == ["$: params are required by tools/call"]
    assert shapes.check_params(version, "tools/call", {"name": 3}, sender="client") == [
        "$.name: 3 is not of type string"]
    assert shapes.check_params(version, "tools/call", "echo", sender="client") == ["$: 'echo' is not of type object"]


def test_2026_requests_carry_their_version_and_capabilities_in_meta():
    assert shapes.check_params(LATEST, "tools/list", None, sender="client") == ["$: params are required by tools/list"]
    assert shapes.check_params(LATEST, "tools/list", {}, sender="client") == ["$: required property '_meta' is missing"]
    assert shapes.check_params(LATEST, "tools/list", {"_meta": META}, sender="client") == []
    assert shapes.check_params(LATEST, "tools/call", {"_meta": {}, "name": "echo"}, sender="client") == [
        "$._meta: required property 'io.modelcontextprotocol/clientCapabilities' is missing",
        "$._meta: required property 'io.modelcontextprotocol/protocolVersion' is missing"]
    assert shapes.check_params(LATEST, "server/discover", {"_meta": META}, sender="client") == []
    assert shapes.check_params(LATEST, "subscriptions/listen", {"_meta": META}, sender="client") == [
        "$: required property 'notifications' is missing"]


def test_2026_result_type_chooses_the_shape():
    done = {"resultType": "complete", "content": [TEXT]}
    assert shapes.check_result(LATEST, "tools/call", done) == []
    assert shapes.check_result(LATEST, "tools/call", {"content": [TEXT]}) == []  # absent: complete
    assert shapes.check_result(LATEST, "tools/call", dict(done, resultType="partial")) == [
        "$.resultType: 'partial' is not 'complete' or 'input_required'"]
    assert shapes.check_result(LATEST, "tools/call", dict(done, resultType=1)) == [
        "$.resultType: 1 is not 'complete' or 'input_required'"]
    assert shapes.check_result(LATEST, "tools/call", "done") == ["$: 'done' is not of type object"]
    assert shapes.check_result(LATEST, "tools/call", {"resultType": "input_required", "requestState": "s1"}) == []
    assert shapes.check_result(LATEST, "tools/list", {"resultType": "input_required", "requestState": "s1"}) == [
        "$.resultType: a tools/list result cannot be 'input_required'"]
    assert shapes.check_result(LATEST, "tools/call", {"resultType": "input_required"}) == [
        "$: neither 'inputRequests' nor 'requestState' is present"]


def test_2026_input_requests_are_checked_as_their_methods():
    asks = {
        "name": {"method": "elicitation/create",
                 "params": {"message": "Name?", "requestedSchema": {"type": "object", "properties": {}}}},
        "roots": {"method": "roots/list"},
        "llm": {"method": "sampling/createMessage",
                "params": {"messages": [{"role": "user", "content": TEXT}], "maxTokens": 10}},
    }
    result = {"resultType": "input_required", "inputRequests": asks}
    assert shapes.check_result(LATEST, "prompts/get", result) == []
    for method in shapes.methods(LATEST, kind="input"):
        ask = next(a for a in asks.values() if a["method"] == method)
        assert shapes.check_params(LATEST, method, ask.get("params"), sender="server") == []
    bad = copy.deepcopy(asks)
    bad["llm"]["params"]["maxTokens"] = "ten"
    bad["name"]["method"] = "tools/call"
    del bad["roots"]["method"]
    problems = shapes.check_result(LATEST, "tools/call", {"resultType": "input_required", "inputRequests": bad})
    assert sorted(problems) == [
        "$.inputRequests.llm.params.maxTokens: 'ten' is not of type integer",
        "$.inputRequests.name.method: 'tools/call' is not an input request of 2026-07-28",
        "$.inputRequests.roots.method: None is not an input request of 2026-07-28",
    ]


@pytest.mark.parametrize("version", shapes.VERSIONS)
def test_the_client_checks_what_its_callbacks_return(version):
    message = {"role": "assistant", "content": TEXT, "model": "m"}
    assert shapes.check_result(version, "sampling/createMessage", message) == []
    assert shapes.check_result(version, "sampling/createMessage", dict(message, role="robot")) == [
        "$.role: 'robot' is not one of ['assistant', 'user']"]
    assert shapes.check_result(version, "roots/list", {"roots": [{"uri": "file:///tmp"}]}) == []
    assert shapes.check_result(version, "roots/list", {"roots": [{"name": "tmp"}]}) == [
        "$.roots[0]: required property 'uri' is missing"]
    if version >= "2025-06-18":
        assert shapes.check_result(version, "elicitation/create", {"action": "accept", "content": {"n": 1}}) == []
        assert shapes.check_result(version, "elicitation/create", {"action": "ok"}) == [
            "$.action: 'ok' is not one of ['accept', 'cancel', 'decline']"]


def test_task_augmented_results_are_create_task_results():
    task = {"taskId": "t1", "status": "working", "createdAt": "2025-11-25T00:00:00Z",
            "lastUpdatedAt": "2025-11-25T00:00:00Z", "ttl": None}
    assert shapes.check_result("2025-11-25", "tools/call", {"task": task}, task=True) == []
    assert shapes.check_result("2025-11-25", "sampling/createMessage", {"task": task}, task=True) == []
    assert shapes.check_result("2025-11-25", "tools/call", {"task": dict(task, status="sleeping")}, task=True) == [
        "$.task.status: 'sleeping' is not one of ['cancelled', 'completed', 'failed', 'input_required', 'working']"]
    assert shapes.check_result("2025-11-25", "tools/call", {"content": []}, task=True) == [
        "$: required property 'task' is missing"]
    with pytest.raises(LocalProtocolError, match=r"^tools/list requests cannot be task-augmented in 2025-11-25$"):
        shapes.check_result("2025-11-25", "tools/list", {}, task=True)
    with pytest.raises(LocalProtocolError, match=r"^tools/call requests cannot be task-augmented in 2025-06-18$"):
        shapes.check_result("2025-06-18", "tools/call", {}, task=True)


def test_results_of_unknown_methods_are_generic_results():
    assert shapes.check_result("2025-11-25", "x/custom", {"anything": 1}) == []
    assert shapes.check_result("2025-11-25", "x/custom", []) == ["$: [] is not of type object"]
    assert shapes.check_result(LATEST, "x/custom", {"resultType": "complete", "anything": 1}) == []
    assert shapes.check_result(LATEST, "x/custom", {"resultType": "input_required", "requestState": "s"}) == []


def test_problems_are_few():
    many = {"content": [{"type": "text"}] * 50}
    assert len(shapes.check_result("2025-11-25", "tools/call", many)) == shapes.MAX_PROBLEMS == 5


def test_misuse_raises_local_protocol_errors():
    with pytest.raises(LocalProtocolError, match=r"^no schema for protocol version '1999-01-01' \(known: 2024-11-05"):
        shapes.check_params("1999-01-01", "ping", None, sender="client")
    with pytest.raises(LocalProtocolError, match=r"^sender must be 'client' or 'server', not 'peer'$"):
        shapes.check_params("2025-11-25", "ping", None, sender="peer")
    with pytest.raises(LocalProtocolError, match=r"^no definition 'Nothing' in the schema of 2025-11-25$"):
        shapes.check("2025-11-25", "Nothing", {})
    with pytest.raises(LocalProtocolError, match=r"^kind must be one of"):
        shapes.methods("2025-11-25", kind="requests")


def test_error_shapes_of_2026():
    error = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32022, "message": "Unsupported protocol version",
                                                  "data": {"requested": "1999-01-01", "supported": [LATEST]}}}
    assert shapes.check(LATEST, "UnsupportedProtocolVersionError", error) == []
    del error["error"]["data"]["supported"]
    assert shapes.check(LATEST, "UnsupportedProtocolVersionError", error) == [
        "$.error.data: required property 'supported' is missing"]


LAZY = r"""
import sys
opened = []
sys.addaudithook(lambda event, args: event == "open" and str(args[0]).endswith(".json") and opened.append(
    str(args[0]).replace("\\", "/").rsplit("/", 2)[-2:]))
import mcp_stdio.shapes as shapes
print(len(opened), "mcp_stdio.schema" in sys.modules)
shapes.check_params("2025-11-25", "notifications/progress", {"progressToken": 1, "progress": 1}, sender="server")
print(opened, "mcp_stdio.schema" in sys.modules)
shapes.check_result("2025-11-25", "tools/call", {"content": []})
shapes.method_info("2025-11-25", "ping")
print(len(opened))
shapes.methods("2024-11-05")
print(opened[1:])
"""


def test_data_is_read_on_first_use_one_version_at_a_time():
    done = subprocess.run([sys.executable, "-s", "-c", LAZY], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        "0 False",
        "[['schemas', '2025-11-25.json']] True",
        "1",
        "[['schemas', '2024-11-05.json']]",
    ]


def test_validators_are_compiled_once():
    shapes.check_result("2025-06-18", "tools/call", {"content": []})
    loaded = shapes._version("2025-06-18")
    validator = loaded.validator("#/$defs/CallToolResult")
    shapes.check_result("2025-06-18", "tools/call", {"content": [TEXT]})
    assert loaded.validator("#/$defs/CallToolResult") is validator


def test_2026_json_values_hold_no_fraction_and_no_null():
    # The 2026-07-28 schema's JSONValue is an object, an array, a string, an integer or a
    # boolean: capabilities and sampling metadata holding 0.5 or null are refused. Pinned
    # so that a fix upstream shows here when the data is regenerated.
    discover = {"resultType": "complete", "supportedVersions": [LATEST], "cacheScope": "public", "ttlMs": 0}
    for value in (0.5, None):
        result = dict(discover, capabilities={"experimental": {"x": {"v": value}}})
        assert shapes.check_result(LATEST, "server/discover", result) == [
            f"$.capabilities.experimental.x.v: {value!r} matches none of anyOf"]
    assert shapes.check_result(LATEST, "server/discover", dict(discover, capabilities={
        "experimental": {"x": {"v": [1, "a", True, {"b": 2}]}}})) == []
    assert shapes.check_result("2025-11-25", "initialize", {
        "protocolVersion": "2025-11-25", "serverInfo": {"name": "s", "version": "1"},
        "capabilities": {"experimental": {"x": {"v": 0.5}}}}) == []
