"""Tier 1: parsing, classifying and serializing JSON-RPC messages."""

from __future__ import annotations

import json

import pytest

from mcp_stdio import errors, jsonrpc
from mcp_stdio.jsonrpc import (
    Batch,
    ErrorResponse,
    InvalidMessage,
    Notification,
    Request,
    Response,
    encode,
    encode_error,
    encode_notification,
    encode_request,
    encode_result,
    is_valid_id,
    parse,
    parse_text,
)


def test_classifies_request_notification_response_error():
    assert isinstance(parse(b'{"jsonrpc":"2.0","id":1,"method":"ping"}'), Request)
    assert isinstance(parse(b'{"jsonrpc":"2.0","method":"notifications/x"}'), Notification)
    assert isinstance(parse(b'{"jsonrpc":"2.0","id":"a","result":{}}'), Response)
    error = parse(b'{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"nope","data":[1]}}')
    assert isinstance(error, ErrorResponse)
    assert (error.id, error.code, error.message, error.data) == (3, -32601, "nope", [1])


def test_request_fields():
    message = parse(b'{"jsonrpc":"2.0","id":"x-1","method":"tools/call","params":{"name":"echo"}}')
    assert (message.id, message.method, message.params) == ("x-1", "tools/call", {"name": "echo"})


@pytest.mark.parametrize("bad_id", ["null", "true", "false", "1.5", "[1]", "{}"])
def test_request_ids_must_be_int_or_str(bad_id):
    message = parse(f'{{"jsonrpc":"2.0","id":{bad_id},"method":"m"}}'.encode())
    assert isinstance(message, InvalidMessage)
    assert "is not an integer or a string" in message.reason


@pytest.mark.parametrize("bad_id", ["true", "1.0", "[1]"])
def test_response_ids_must_be_int_or_str(bad_id):
    assert isinstance(parse(f'{{"jsonrpc":"2.0","id":{bad_id},"result":1}}'.encode()), InvalidMessage)


def test_error_response_may_have_null_id():
    message = parse(b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}')
    assert isinstance(message, ErrorResponse) and message.id is None


@pytest.mark.parametrize("line, expected", [
    (b'{"jsonrpc":"2.0","id":7,"result":{"a":1}}', {"jsonrpc": "2.0", "id": 7, "result": {"a": 1}}),
    (b'{"result":null,"id":"s","jsonrpc":"2.0"}', {"result": None, "id": "s", "jsonrpc": "2.0"}),
])
def test_a_plain_response_comes_back_lazily_as_its_dict_and_parse_still_makes_a_response(line, expected):
    assert parse_text(line.decode()) == expected and type(parse_text(line.decode())) is dict
    message = parse(line)
    assert type(message) is Response and (message.id, message.result) == (expected["id"], expected["result"])


@pytest.mark.parametrize("line, kind", [
    (b'{"jsonrpc":"2.0","id":true,"result":1}', InvalidMessage),  # a bool is not an id
    (b'{"jsonrpc":"2.0","id":null,"result":1}', InvalidMessage),
    (b'{"jsonrpc":"2.0","id":1.5,"result":1}', InvalidMessage),
    (b'{"jsonrpc":"1.0","id":1,"result":1}', InvalidMessage),
    (b'{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}', ErrorResponse),
    (b'{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}', InvalidMessage),
    (b'{"jsonrpc":"2.0","id":1,"method":"m","result":1}', Request),  # a method makes it a request
    (b'{"jsonrpc":"2.0","id":1,"result":1,"extra":0}', Response),  # any other shape: classified in full
    (b'{"jsonrpc":"2.0","result":1,"x":2}', InvalidMessage),
    (b'[{"jsonrpc":"2.0","id":1,"result":1}]', Batch),
])
def test_only_the_exact_plain_response_shape_is_left_as_a_dict(line, kind):
    assert type(parse_text(line.decode())) is kind
    assert type(parse(line)) is kind


def test_is_valid_id():
    assert is_valid_id(0) and is_valid_id("0")
    assert not is_valid_id(True) and not is_valid_id(None) and not is_valid_id(1.0)


@pytest.mark.parametrize(
    "line, reason",
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"hello world", "not valid JSON"),
        (b'{"jsonrpc":"2.0","id":1,"method":"m"', "not valid JSON"),
        (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
        (b"42", "expected an object"),
        (b"[]", "expected an object"),
        (b'{"jsonrpc":"1.0","id":1,"method":"m"}', '"jsonrpc" is not "2.0"'),
        (b'{"id":1,"method":"m"}', '"jsonrpc" is not "2.0"'),
        (b'{"jsonrpc":"2.0","id":1,"method":5}', '"method" is not a string'),
        (b'{"jsonrpc":"2.0","id":1,"method":"m","params":[1]}', '"params" is not an object'),
        (b'{"jsonrpc":"2.0"}', 'neither "method" nor "id"'),
        (b'{"jsonrpc":"2.0","id":1}', '"id" without "method", "result" or "error"'),
        (b'{"jsonrpc":"2.0","id":1,"result":1,"error":{}}', 'both "result" and "error"'),
        (b'{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}', '"error.code" is not an integer'),
        (b'{"jsonrpc":"2.0","id":1,"error":"boom"}', '"error" is not an object'),
    ],
)
def test_invalid_lines_are_reported_not_raised(line, reason):
    message = parse(line)
    assert isinstance(message, InvalidMessage)
    assert reason in message.reason
    assert len(message.excerpt) <= 200


def test_invalid_request_keeps_its_id_for_the_error_answer():
    message = parse(b'{"jsonrpc":"2.0","id":7,"method":"m","params":"x"}')
    assert isinstance(message, InvalidMessage) and message.id == 7 and message.code == -32600
    assert parse(b"nonsense").code == -32700


def test_utf8_bom_is_tolerated():
    assert isinstance(parse(b'\xef\xbb\xbf{"jsonrpc":"2.0","method":"n"}'), Notification)


def test_batch_is_split_into_messages():
    batch = parse(b'[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"result":{}},3]')
    assert isinstance(batch, Batch)
    assert [type(m) for m in batch.messages] == [Notification, Response, InvalidMessage]


def test_encoding_is_compact_utf8_with_newline():
    data = encode_request(1, "tools/call", {"name": "échø", "t": "a\nb\u2028"})
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    assert b" " not in data
    assert "échø".encode() in data  # ensure_ascii=False
    assert json.loads(data) == {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                "params": {"name": "échø", "t": "a\nb\u2028"}}


def test_encoders_build_the_four_shapes():
    assert json.loads(encode_notification("n")) == {"jsonrpc": "2.0", "method": "n"}
    assert json.loads(encode_request(2, "m")) == {"jsonrpc": "2.0", "id": 2, "method": "m"}
    assert json.loads(encode_result("a", {"x": 1})) == {"jsonrpc": "2.0", "id": "a", "result": {"x": 1}}
    assert json.loads(encode_error(None, -32700, "Parse error")) == {
        "jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
    assert json.loads(encode_error(3, -1, "m", {"d": 1}))["error"]["data"] == {"d": 1}


def test_lone_surrogate_falls_back_to_escapes_and_is_read_as_the_replacement_character():
    data = encode({"jsonrpc": "2.0", "method": "n", "params": {"t": "\ud800"}})
    assert data.isascii() and b"\\ud800" in data
    # The documented rule: a lone surrogate read from a peer becomes U+FFFD (keys too);
    # an escaped pair is one character.
    assert parse(data.rstrip(b"\n")).params == {"t": "\ufffd"}
    message = parse(b'{"jsonrpc":"2.0","method":"n","params":{"\\udfff":"a\\ud83d\\ude00b"}}')
    assert message.params == {"\ufffd": "a\U0001f600b"}


def test_unserializable_values_raise_a_clear_error():
    with pytest.raises(ValueError, match="cannot serialize message as JSON"):
        encode({"x": float("nan")})
    with pytest.raises(ValueError, match="cannot serialize message as JSON"):
        encode({"x": object()})


@pytest.mark.parametrize("params", [
    {"name": "échø", "arguments": {"f": 1.5, "i": -7, "n": None, "b": [True, False], "s": "a\"\\\n\u2028"}},
    {"nested": [[{"k": {}}], [], {}], "big": 10 ** 30, "key": {"1": "x"}},
    {1: "int key", 2.5: "float key", None: "null key", False: "bool key"},
])
def test_the_reused_encoder_writes_what_json_dumps_writes(params):
    expected = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "m", "params": params}, ensure_ascii=False,
                          separators=(",", ":"), allow_nan=False)
    assert encode_request(7, "m", params) == (expected + "\n").encode()
    assert encode({"jsonrpc": "2.0", "id": 7, "method": "m", "params": params}) == (expected + "\n").encode()


def test_a_cycle_and_deep_nesting_are_clear_errors():
    # The reused encoder does not track cycles: a cycle ends in RecursionError, then the
    # checking encoder names it.
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="cannot serialize message as JSON: Circular reference detected"):
        encode_request(1, "m", {"x": loop})
    deep: dict = {}
    inner = deep
    for _ in range(100_000):
        inner["a"] = inner = {}
    with pytest.raises(ValueError, match="cannot serialize message as JSON: maximum recursion depth"):
        encode({"jsonrpc": "2.0", "method": "n", "params": deep})
    assert encode_request(2, "m", {"ok": 1}) == b'{"jsonrpc":"2.0","id":2,"method":"m","params":{"ok":1}}\n'


def test_without_the_json_accelerator_the_same_bytes(monkeypatch):
    params = {"name": "t", "arguments": {"s": "é", "l": [1, 2.5, None]}}
    fast = encode_request(3, "tools/call", params)
    monkeypatch.setattr(jsonrpc, "_C_ENCODE", None)
    assert encode_request(3, "tools/call", params) == fast
    with pytest.raises(ValueError, match="Out of range float"):
        encode_request(3, "m", {"x": float("inf")})


def test_error_code_table_matches_the_spec():
    # JSON-RPC 2.0 section 5.1, and MCP 2025-11-25 (resources: -32002; URL elicitation: -32042).
    assert errors.PARSE_ERROR == -32700
    assert errors.INVALID_REQUEST == -32600
    assert errors.METHOD_NOT_FOUND == -32601
    assert errors.INVALID_PARAMS == -32602
    assert errors.INTERNAL_ERROR == -32603
    assert errors.RESOURCE_NOT_FOUND == -32002
    assert errors.URL_ELICITATION_REQUIRED == -32042
