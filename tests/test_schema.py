"""The stdlib JSON Schema validator, and every message we write checked against the
official schema of the negotiated version."""

from __future__ import annotations

import json
import os
import pathlib
import re

import pytest

from mcp_stdio.lifecycle import HANDSHAKE_VERSIONS
from mcp_stdio.schema import SchemaError, Validator, compile_schema

from . import spec
from .helpers import ROOT

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]*$"},
        "age": {"type": "integer", "minimum": 0, "exclusiveMaximum": 150},
        "score": {"type": "number", "multipleOf": 0.5},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 3},
        "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
        "kind": {"enum": ["a", "b", None]},
        "fixed": {"const": {"x": 1}},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "one": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}]},
        "nope": {"not": {"type": "string"}},
        "node": {"$ref": "#/$defs/node"},
    },
    "required": ["name"],
    "additionalProperties": False,
    "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}},
                       "additionalProperties": False}},
}


def errors(instance):
    return Validator(SCHEMA).errors(instance)


def test_valid_instance_has_no_errors():
    assert errors({"name": "ada", "age": 36, "score": 1.5, "tags": ["x", "y"], "pair": [1, "a"], "kind": None,
                   "fixed": {"x": 1.0}, "either": 3, "one": 5, "nope": 1,
                   "node": {"next": {"next": {}}}}) == []


@pytest.mark.parametrize("instance, expected", [
    ({}, "$: required property 'name' is missing"),
    ({"name": 5}, "$.name: 5 is not of type string"),
    ({"name": ""}, "$.name: string shorter than 1"),
    ({"name": "abcdef"}, "$.name: string longer than 5"),
    ({"name": "AB"}, "$.name: 'AB' does not match '^[a-z]*$'"),
    ({"name": "a", "age": True}, "$.age: True is not of type integer"),
    ({"name": "a", "age": 1.5}, "$.age: 1.5 is not of type integer"),
    ({"name": "a", "age": -1}, "$.age: -1 is less than the minimum 0"),
    ({"name": "a", "age": 150}, "$.age: 150 is not less than 150"),
    ({"name": "a", "score": 0.3}, "$.score: 0.3 is not a multiple of 0.5"),
    ({"name": "a", "tags": ["x", "x"]}, "$.tags: items are not unique"),
    ({"name": "a", "tags": ["a", "b", "c", "d"]}, "$.tags: more than 3 items"),
    ({"name": "a", "tags": [1]}, "$.tags[0]: 1 is not of type string"),
    ({"name": "a", "pair": [1, "a", 2]}, "$.pair[2]: no value is allowed here"),
    ({"name": "a", "pair": ["1"]}, "$.pair[0]: '1' is not of type integer"),
    ({"name": "a", "kind": "c"}, "$.kind: 'c' is not one of ['a', 'b', None]"),
    ({"name": "a", "fixed": {"x": True}}, "$.fixed: {'x': True} is not {'x': 1}"),
    ({"name": "a", "either": 1.5}, "$.either: 1.5 matches none of anyOf"),
    ({"name": "a", "one": 12}, "$.one: 12 matches 2 of oneOf, not exactly one"),
    ({"name": "a", "nope": "s"}, "$.nope: 's' must not match 'not'"),
    ({"name": "a", "extra": 1}, "$: additional property 'extra' is not allowed"),
    ({"name": "a", "node": {"next": {"bad": 1}}}, "$.node.next: additional property 'bad' is not allowed"),
])
def test_each_keyword_reports_its_violation(instance, expected):
    assert errors(instance) == [expected]


def test_draft07_definitions_if_then_else_and_boolean_schemas():
    validator = Validator({"definitions": {"n": {"type": "number"}}, "$ref": "#/definitions/n",
                           "if": {"minimum": 10}, "then": {"multipleOf": 5}, "else": {"maximum": 3}})
    assert validator.is_valid(15) and validator.is_valid(2)
    assert not validator.is_valid(12) and not validator.is_valid(5)
    assert Validator(True).is_valid(object()) and not Validator(False).is_valid(1)


def test_remote_refs_are_never_fetched():
    with pytest.raises(SchemaError) as caught:
        Validator({"$ref": "https://example.com/s.json"})
    assert str(caught.value) == "#: remote $ref 'https://example.com/s.json' is not supported (never fetched)"
    with pytest.raises(SchemaError) as caught:
        Validator({"properties": {"a": {"$ref": "#/$defs/missing"}}})
    assert str(caught.value) == "#/properties/a: $ref '#/$defs/missing' points to nothing"
    with pytest.raises(SchemaError) as caught:
        Validator({"type": "strin"})
    assert str(caught.value) == "#: unknown type 'strin'"


def test_compiled_validators_are_cached_per_schema_object():
    schema = {"type": "string"}
    assert compile_schema(schema) is compile_schema(schema)
    assert compile_schema({"type": "string"}) is not compile_schema(schema)


@spec.required
def test_the_checker_catches_a_bad_message():
    checker = spec.checker("2025-11-25")
    assert checker.errors({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}}) != []
    assert checker.errors({"jsonrpc": "2.0", "id": 1, "method": "nonexistent/method"}) == [
        "method 'nonexistent/method' does not exist in 2025-11-25"]


@spec.required
@pytest.mark.parametrize("version", HANDSHAKE_VERSIONS)
def test_everything_the_client_and_reference_server_write_validates(version):
    # Imported here: this test drives the protocol core; the rest of the module needs only
    # the validator, and must not break when the core moves.
    import subprocess

    from mcp_stdio.client_session import ClientSession

    from .helpers import CHILD_ENV, REFERENCE

    checker = spec.checker(version)
    client = ClientSession({"name": "t", "version": "1"}, {}, protocol="handshake", handshake_versions=(version,))
    server = subprocess.Popen(REFERENCE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(CHILD_ENV, PATH=""))
    sent_by_client: list[bytes] = []
    methods: dict = {}

    def exchange(data: bytes) -> None:
        sent_by_client.append(data)
        wanted = 0
        for message in spec.lines(data):
            if "method" in message and "id" in message:
                methods[message["id"]] = message["method"]
                wanted += 1
        server.stdin.write(data)
        server.stdin.flush()
        while wanted:
            line = server.stdout.readline()
            message = json.loads(line)
            assert checker.errors(message, methods.get(message.get("id"))) == [], message
            wanted -= "method" not in message
            client.receive_data(line)
        more = client.data_to_send()
        if more:
            exchange(more)

    try:
        exchange(client.start())
        assert client.version == version
        exchange(client.send_request("ping")[1])
        exchange(client.send_request("tools/list")[1])
        exchange(client.send_request("tools/call", {"name": "echo", "arguments": {"text": "é"}})[1])
        exchange(client.send_request("tools/call", {"name": "add", "arguments": {"a": 1}})[1])
        exchange(client.send_request("tools/call", {"name": "nope"})[1])
        exchange(client.send_request("unknown/method")[1])
        msg_id, data = client.send_request("tools/call", {"name": "sleep", "arguments": {"seconds": 5}})
        sent_by_client.append(data)
        server.stdin.write(data + client.cancel(msg_id, "because"))
        server.stdin.flush()
        exchange(client.send_request("ping")[1])  # answered; the cancelled call never is
    finally:
        server.stdin.close()
        server.stdout.read()
        server.stdout.close()
        server.wait(10)
    for data in sent_by_client:
        for message in spec.lines(data):
            if message.get("method") == "unknown/method":
                continue  # deliberately outside the spec, to see the server's error answer
            assert checker.errors(message) == [], message


@spec.required
def test_every_json_example_of_2026_07_28_parses_as_the_library_reads_it():
    from mcp_stdio.jsonrpc import InvalidMessage, parse

    examples = spec.examples()
    assert len(examples) > 50
    envelopes = 0
    for path in examples:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("jsonrpc") == "2.0":
            envelopes += 1
            message = parse(json.dumps(data, ensure_ascii=False).encode())
            assert not isinstance(message, InvalidMessage), (path, message)
    assert envelopes > 20


# Keywords and rules beyond the basics

def test_a_tree_recurses_through_properties_and_items():
    tree = Validator({"$defs": {"node": {"type": "object", "properties": {
        "next": {"$ref": "#/$defs/node"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "value": {"type": "integer"}}, "additionalProperties": False}}, "$ref": "#/$defs/node"})
    chain: dict = {"value": 1}
    for _ in range(100):
        chain = {"next": chain, "children": [{"value": 2}, {}]}
    assert tree.errors(chain) == []
    chain["next"]["children"][1]["value"] = "x"
    assert tree.errors(chain) == ["$.next.children[1].value: 'x' is not of type integer"]


@pytest.mark.parametrize("value, expected", [
    (0.3, True), (0.7, True), (1e308, True), (10 ** 400, True), (-2.5, True),
    (0.35, False), (0.1 + 0.2, False),  # 0.30000000000000004: its shortest repr is not a multiple
])
def test_multiple_of_is_exact_on_the_shortest_repr(value, expected):
    assert Validator({"multipleOf": 0.1}).is_valid(value) is expected


def test_multiple_of_with_integers_and_huge_numbers():
    assert Validator({"multipleOf": 3}).errors(10 ** 400 + 1) == ["$: <a 1329-bit integer> is not a multiple of 3"]
    assert Validator({"multipleOf": 3}).is_valid(3 * 10 ** 400)
    assert Validator({"multipleOf": 1e-300}).is_valid(1e300)
    assert Validator({"multipleOf": 2.5}).is_valid(10) and not Validator({"multipleOf": 2.5}).is_valid(11)


@pytest.mark.parametrize("a, b, equal", [
    (1, True, False), (0, False, False), (1, 1.0, True), (None, 0, False), ("null", None, False),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True), ({"a": 1}, {"a": True}, False),
    ([1, [2.0]], [1.0, [2]], True), ([1, 2], [2, 1], False), ({"a": [True]}, {"a": [1]}, False),
    ("a", "a", True), ([], {}, False),
])
def test_equality_is_json_equality(a, b, equal):
    assert Validator({"uniqueItems": True}).is_valid([a, "other", b]) is not equal
    assert Validator({"const": a}).is_valid(b) is equal
    assert Validator({"enum": ["other", a]}).is_valid(b) is equal


def test_enum_and_const_messages():
    assert Validator({"enum": [1, "a", [True]]}).errors(True) == ["$: True is not one of [1, 'a', [True]]"]
    assert Validator({"enum": [1, "a", [True]]}).is_valid([True]) and Validator({"enum": [1]}).is_valid(1.0)
    assert Validator({"const": None}).errors(0) == ["$: 0 is not None"]


def test_draft04_exclusive_bounds_and_contains_counts():
    assert Validator({"minimum": 1, "exclusiveMinimum": True}).errors(1) == ["$: 1 is not more than 1"]
    assert Validator({"maximum": 1, "exclusiveMaximum": False}).errors(1) == []
    counted = Validator({"contains": {"type": "string"}, "minContains": 2, "maxContains": 3})
    assert counted.errors(["a", 1]) == ["$: fewer than 2 items match 'contains'"]
    assert counted.errors(["a", "b", "c", "d"]) == ["$: more than 3 items match 'contains'"]
    assert counted.errors(["a", 1, "b"]) == []


def test_pattern_properties_property_names_and_additional_schema():
    validator = Validator({"patternProperties": {"^x-": {"type": "string"}}, "propertyNames": {"maxLength": 5},
                           "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "boolean"}})
    assert validator.errors({"a": 1, "x-b": "s", "c": True}) == []
    assert validator.errors({"x-b": 1, "c": 2, "toolong": True}) == [
        "$.x-b: 1 is not of type string", "$.c: 2 is not of type boolean", "$.toolong: string longer than 5"]


def test_several_problems_come_in_keyword_order():
    assert Validator({"type": "string", "enum": ["a"], "minLength": 2}).errors(5) == [
        "$: 5 is not of type string", "$: 5 is not one of ['a']"]
    assert Validator({"type": "object", "const": {"a": 1}, "required": ["a"]}).errors([]) == [
        "$: [] is not of type object", "$: [] is not {'a': 1}"]
    assert Validator({"type": "array", "items": {"type": "object", "required": ["a"]}}).errors([1, {}]) == [
        "$[0]: 1 is not of type object", "$[1]: required property 'a' is missing"]


def test_limit_stops_the_validation_early():
    validator = Validator({"items": {"type": "string"}})
    assert validator.errors(list(range(10_000)), limit=3) == ["$[0]: 0 is not of type string",
                                                               "$[1]: 1 is not of type string",
                                                               "$[2]: 2 is not of type string"]
    assert validator.errors([1], limit=0) == [] and not validator.is_valid([1])


# Patterns that real tool schemas use are accepted, and match as ECMA 262 says

@pytest.mark.parametrize("pattern, good, bad", [
    (r"^[a-z0-9_-]{1,64}$", "get_weather-2", "Get Weather"),
    (r"^\d{4}-\d{2}-\d{2}$", "2025-11-25", "2025-1-25"),
    (r"^https?://", "https://example.com", "ftp://example.com"),
    (r"^[A-Za-z0-9+/]*={0,2}$", "aGVsbG8=", "aGVs bG8="),
    (r"^(\+\d{1,3})?\d{10}$", "+331234567890", "+33123"),
    (r"^([a-z]+\.)*[a-z]+$", "api.example.com", "api..com"),
    (r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "my-tool-2", "my--tool"),
    (r"^(\d{1,3}\.){3}\d{1,3}$", "192.168.0.1", "192.168.0"),
    (r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "ada@example.com", "ada@example"),
    (r"^(?=.*[a-z])(?=.*\d).{8,}$", "abcdefg1", "abcdefgh"),
    (r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$", "1.20.3", "1.02.3"),
    (r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$", "com.example.app", "com.2app"),
    (r"^(?P<user>[a-z]+)@", "ada@x", "@x"),
    (r"(?i)^[a-f0-9]{8}$", "DEADbeef", "deadbeeg"),
    (r"b", "abc", "xyz"),  # searched, not anchored (ECMA 262)
    (r"^[a-z]+$", "abc", "abc\n"),  # "$" is the end of the string, as in ECMA 262
])
def test_common_patterns_are_accepted_and_searched(pattern, good, bad):
    validator = Validator({"pattern": pattern})
    assert validator.is_valid(good) and not validator.is_valid(bad)


def test_a_linear_pattern_searches_a_long_string():
    blob = "QUJD" * 240_000  # 960,000 characters of base64, under the pattern's limit (999,995)
    assert Validator({"pattern": r"^[A-Za-z0-9+/]*={0,2}$"}).errors(blob + "=", timeout=60) == []


# Discriminated unions: dispatch on the const, same verdict as trying every option

BLOCKS = {
    "$defs": {
        "text": {"type": "object", "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
                 "required": ["type", "text"]},
        "image": {"type": "object", "properties": {"type": {"const": "image"}, "data": {"type": "string"}},
                  "required": ["type", "data"]},
        "link": {"type": "object", "properties": {"type": {"enum": ["link"]}, "uri": {"type": "string"}},
                 "required": ["type", "uri"]},
    },
    "type": "array",
    "items": {"anyOf": [{"$ref": "#/$defs/text"}, {"$ref": "#/$defs/image"}, {"$ref": "#/$defs/link"}]},
}


def test_a_discriminated_union_reports_the_chosen_option_s_errors():
    validator = Validator(BLOCKS)
    assert validator.errors([{"type": "text", "text": "a"}, {"type": "link", "uri": "u"}]) == []
    assert validator.errors([{"type": "text", "text": 5}]) == ["$[0].text: 5 is not of type string"]
    assert validator.errors([{"type": "image", "text": "a"}]) == ["$[0]: required property 'data' is missing"]
    assert validator.errors([{"type": "video"}]) == ["$[0]: {'type': 'video'} matches none of anyOf"]
    assert validator.errors([{"text": "a"}]) == ["$[0]: {'text': 'a'} matches none of anyOf"]
    assert validator.errors(["text"]) == ["$[0]: 'text' matches none of anyOf"]


@pytest.mark.parametrize("keyword", ["anyOf", "oneOf"])
def test_dispatch_gives_the_verdict_of_trying_every_option(keyword):
    options = BLOCKS["items"]["anyOf"]
    dispatched = Validator(dict(BLOCKS, items={keyword: options}))
    # A false option defeats the dispatch (it has no const) and changes no verdict.
    tried = Validator(dict(BLOCKS, items={keyword: options + [False]}))
    samples = [{"type": "text", "text": "a"}, {"type": "text"}, {"type": "image", "data": "d"}, {"type": "link"},
               {"type": "link", "uri": 1}, {"type": "nope"}, {"type": ["text"]}, {"type": 1}, {}, "text", None,
               {"type": "text", "text": "a", "data": "d"}, {"type": "image", "data": "d", "uri": "u"}]
    for sample in samples:
        assert dispatched.is_valid([sample]) == tried.is_valid([sample]), sample


def test_one_of_reports_how_many_options_matched():
    validator = Validator({"oneOf": [{"properties": {"k": {"const": 1}}}, {"properties": {"k": {"const": 2}}}]})
    assert validator.errors({"k": 3}) == ["$: {'k': 3} matches 0 of oneOf, not exactly one"]
    assert validator.errors({"k": 1.0}) == []
    assert validator.errors({}) == ["$: {} matches 2 of oneOf, not exactly one"]


# The official MCP schemas, from $MCP_SPEC_DIR (default: ../shared/mcp-spec)

def spec_dir() -> pathlib.Path:
    """Return the folder of the official MCP schemas, or skip the test."""
    configured = os.environ.get("MCP_SPEC_DIR")
    folder = pathlib.Path(configured) if configured else ROOT.parent / "shared" / "mcp-spec"
    if not (folder / "2026-07-28" / "schema.json").is_file():
        pytest.skip(f"the official MCP schemas are not in {folder} (set MCP_SPEC_DIR to their folder)")
    return folder


@pytest.mark.parametrize("version", spec.VERSIONS)
def test_every_definition_of_every_version_compiles(version):
    root = json.loads((spec_dir() / version / "schema.json").read_text(encoding="utf-8"))
    key = "$defs" if "$defs" in root else "definitions"
    assert len(root[key]) > 50
    for name in root[key]:
        Validator(dict(root, **{"$ref": f"#/{key}/{name}"}))


def test_every_2026_07_28_example_validates_against_its_type():
    folder = spec_dir() / "2026-07-28"
    root = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    examples = sorted((folder / "examples").glob("*/*.json"))
    assert len(examples) > 100
    validators: dict = {}
    for path in examples:
        name = path.parent.name
        if name not in validators:
            validators[name] = Validator(dict(root, **{"$ref": f"#/$defs/{name}"}))
        instance = json.loads(path.read_text(encoding="utf-8"))
        assert validators[name].errors(instance, timeout=10) == [], path


def test_mcp_content_blocks_dispatch_on_their_type():
    root = json.loads((spec_dir() / "2026-07-28" / "schema.json").read_text(encoding="utf-8"))
    validator = Validator(dict(root, **{"$ref": "#/$defs/CallToolResult"}))
    result = {"content": [{"type": "text", "text": "ok"}, {"type": "image", "data": "aGk=", "mimeType": 3}],
              "resultType": "complete"}
    assert validator.errors(result) == ["$.content[1].mimeType: 3 is not of type string"]
    assert re.fullmatch(r"\$\.content\[1\]: \{.*\} matches none of anyOf",
                        validator.errors(dict(result, content=[{}, {"type": "gif"}]))[-1])
