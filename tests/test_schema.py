"""The stdlib JSON Schema validator, and every message we write checked against the
official schema of the negotiated version."""

from __future__ import annotations

import json

import pytest

from mcp_stdio.schema import SchemaError, Validator, compile_schema
from mcp_stdio.server import build_reference_server
from mcp_stdio.session import HANDSHAKE_VERSIONS, ClientSession

from . import spec

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
    with pytest.raises(SchemaError, match="remote \\$ref 'https://example.com/s.json' is not supported"):
        Validator({"$ref": "https://example.com/s.json"})
    with pytest.raises(SchemaError, match="points to nothing"):
        Validator({"$ref": "#/$defs/missing"})
    with pytest.raises(SchemaError, match="unknown type 'strin'"):
        Validator({"type": "strin"})


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
    checker = spec.checker(version)
    client = ClientSession(supported_versions=(version,))
    server = build_reference_server()
    sent_by_client: list[bytes] = []
    methods: dict = {}

    def exchange(data: bytes) -> list:
        sent_by_client.append(data)
        for message in spec.lines(data):
            if "method" in message and "id" in message:
                methods[message["id"]] = message["method"]
        answer = server.receive(data)
        for message in spec.lines(answer):
            assert checker.errors(message, methods.get(message.get("id"))) == [], message
        return client.receive_data(answer)

    _, data = client.initialize({"name": "t", "version": "1"}, {})
    exchange(data)
    exchange(client.send_initialized())
    exchange(client.send_request("ping")[1])
    exchange(client.send_request("tools/list")[1])
    exchange(client.send_request("tools/call", {"name": "echo", "arguments": {"text": "é"}})[1])
    exchange(client.send_request("tools/call", {"name": "add", "arguments": {"a": 1}})[1])
    exchange(client.send_request("tools/call", {"name": "nope"})[1])
    exchange(client.send_request("unknown/method")[1])
    msg_id, data = client.send_request("tools/call", {"name": "sleep", "arguments": {"seconds": 0}})
    exchange(client.cancel(msg_id, "because"))
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
