"""Tier 1: the shared Endpoint and the client session, message by message (no event loop,
no process): ids, the pending table, answers, cancellation, the handshake's versions."""

from __future__ import annotations

import json

import pytest

from mcp_stdio.client_session import ClientSession
from mcp_stdio.errors import LocalProtocolError, RemoteError, UnsupportedProtocolVersion
from mcp_stdio.events import (
    AnswerRejected,
    ErrorReceived,
    HandshakeComplete,
    HandshakeFailed,
    MessageRejected,
    MessageTooLong,
    NotificationReceived,
    RequestReceived,
    ResultReceived,
    UnexpectedAnswer,
)
from mcp_stdio.lifecycle import HANDSHAKE_VERSIONS, State, negotiate_version
from mcp_stdio.session import Endpoint

INFO = {"name": "test", "version": "0"}
SERVER_INFO = {"name": "server", "version": "0"}


def answer(msg_id, result) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}).encode() + b"\n"


def init_result(version: object = "2025-06-18") -> dict:
    return {"protocolVersion": version, "capabilities": {}, "serverInfo": SERVER_INFO}


def new_session() -> ClientSession:
    return ClientSession(INFO, {"roots": {}}, protocol="handshake")


def ready_session() -> ClientSession:
    session = new_session()
    msg_id = json.loads(session.start())["id"]
    [event] = session.receive_data(answer(msg_id, init_result()))
    assert isinstance(event, HandshakeComplete)
    assert json.loads(session.data_to_send()) == {"jsonrpc": "2.0", "method": "notifications/initialized"}
    return session


def test_initialize_proposes_the_latest_version():
    session = new_session()
    sent = json.loads(session.start())
    assert sent == {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-11-25", "capabilities": {"roots": {}}, "clientInfo": INFO}}
    assert session.state is State.INITIALIZING
    with pytest.raises(LocalProtocolError, match="start\\(\\) called twice"):
        session.start()


@pytest.mark.parametrize("version", HANDSHAKE_VERSIONS)
def test_every_supported_version_is_accepted(version):
    session = new_session()
    msg_id = json.loads(session.start())["id"]
    [event] = session.receive_data(answer(msg_id, init_result(version)))
    assert isinstance(event, HandshakeComplete) and event.version == version
    assert session.version == version and session.state is State.READY and session.era == "handshake"


@pytest.mark.parametrize("version", ["2023-01-01", "2026-07-28"])
def test_unsupported_version_fails_the_handshake(version):
    session = new_session()
    msg_id = json.loads(session.start())["id"]
    [event] = session.receive_data(answer(msg_id, init_result(version)))
    assert isinstance(event, HandshakeFailed)
    assert isinstance(event.error, UnsupportedProtocolVersion)
    assert str(event.error) == (f"server answered protocol version {version!r}; this client supports "
                                "2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05")


@pytest.mark.parametrize("result, reason", [
    ([1, 2], "initialize result is not an object: [1, 2]"),
    ({"protocolVersion": 5}, "initialize result: $.protocolVersion is missing or not a string"),
    ({"protocolVersion": "2025-11-25"}, "initialize result: $: required property 'capabilities' is missing"),
])
def test_a_malformed_initialize_result_fails_the_handshake(result, reason):
    session = new_session()
    msg_id = json.loads(session.start())["id"]
    [event] = session.receive_data(answer(msg_id, result))
    assert isinstance(event, HandshakeFailed)
    assert str(event.error).startswith(f"answered with a malformed message: {reason}")


def test_an_initialize_error_fails_the_handshake():
    session = new_session()
    msg_id = json.loads(session.start())["id"]
    [event] = session.receive_data(
        json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32602, "message": "no"}}).encode() + b"\n")
    assert isinstance(event, HandshakeFailed)
    assert isinstance(event.error.__cause__, RemoteError) and event.error.__cause__.code == -32602
    assert str(event.error) == "refused initialize: initialize: no (code -32602)"


def test_ids_count_up_and_are_never_reused():
    session = ready_session()
    ids = [session.send_request("ping")[0] for _ in range(5)]
    assert ids == sorted(set(ids)) and ids[0] > 1


def test_answers_are_matched_to_their_token_and_method():
    session = ready_session()
    msg_id, _ = session.send_request("tools/list", None, token="T")
    [event] = session.receive_data(answer(msg_id, {"tools": []}))
    assert isinstance(event, ResultReceived)
    assert (event.result, event.method, event.token) == ({"tools": []}, "tools/list", "T")
    other, _ = session.send_request("x", None, token="X")
    [event] = session.receive_data(
        json.dumps({"jsonrpc": "2.0", "id": other, "error": {"code": -32601, "message": "m"}}).encode() + b"\n")
    assert isinstance(event, ErrorReceived) and event.token == "X" and event.method == "x"
    assert str(event.error) == "x: m (code -32601)"
    assert session.pending_count == 0


def test_unknown_duplicate_wrong_type_and_late_answers_are_never_delivered():
    session = ready_session()
    first, _ = session.send_request("a", None, token="A")
    second, _ = session.send_request("b", None, token="B")
    events = session.receive_data(
        answer(9999, {}) + answer(str(first), {}) + answer(first, {"v": "ok"}) + answer(first, {"v": "dup"})
        + answer(True, {}))
    assert [type(e) for e in events] == [UnexpectedAnswer, UnexpectedAnswer, ResultReceived, UnexpectedAnswer,
                                         MessageRejected]
    assert "never used" in events[0].reason
    assert "is a string but our request ids are integers" in events[1].reason
    assert "not pending" in events[3].reason
    # An MCP result is an object (JSONRPCResultResponse: "result": Result), an extension's too.
    third, _ = session.send_request("c", None, token="C")
    [rejected] = session.receive_data(answer(third, "not an object"))
    assert isinstance(rejected, AnswerRejected) and "is not of type object" in str(rejected.error)
    cancel = session.cancel(second, "changed my mind")
    assert json.loads(cancel) == {"jsonrpc": "2.0", "method": "notifications/cancelled",
                                  "params": {"requestId": second, "reason": "changed my mind"}}
    [late] = session.receive_data(answer(second, {"v": "late"}))
    assert isinstance(late, UnexpectedAnswer)


def test_initialize_is_never_cancelled_by_the_probe_or_the_caller():
    session = new_session()
    msg_id = json.loads(session.start())["id"]
    # The session owns initialize: it is not in the caller's hands to cancel it.
    [event] = session.receive_data(answer(msg_id, init_result()))
    assert isinstance(event, HandshakeComplete)
    assert session.cancel(msg_id, "timeout") is None


def test_cancel_of_an_answered_request_sends_nothing():
    session = ready_session()
    msg_id, _ = session.send_request("ping")
    session.receive_data(answer(msg_id, {}))
    assert session.cancel(msg_id) is None


def test_take_pending_empties_the_table():
    session = ready_session()
    for name in "abc":
        session.send_request(name, None, token=name.upper())
    assert [(m, t) for _, m, t in session.take_pending()] == [("a", "A"), ("b", "B"), ("c", "C")]
    assert session.pending_count == 0


def test_requests_and_notifications_from_the_peer_are_events_and_ping_is_answered():
    session = ready_session()
    events = session.receive_data(b'{"jsonrpc":"2.0","id":"s1","method":"ping"}\n'
                                  b'{"jsonrpc":"2.0","id":"s2","method":"roots/list"}\n'
                                  b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info",'
                                  b'"data":1}}\n')
    assert [type(e) for e in events] == [RequestReceived, NotificationReceived]
    assert json.loads(session.data_to_send()) == {"jsonrpc": "2.0", "id": "s1", "result": {}}


def test_oversized_line_is_an_event():
    endpoint = Endpoint(max_message_size=10)
    [event] = endpoint.receive_data(b"x" * 11 + b"\n")
    assert isinstance(event, MessageTooLong) and (event.size, event.limit) == (11, 10)


def test_unencodable_params_raise_before_registering():
    session = ready_session()
    with pytest.raises(ValueError):
        session.send_request("m", {"x": float("inf")})
    assert session.pending_count == 0


def test_negotiate_version():
    assert negotiate_version("2025-03-26") == "2025-03-26"
    assert negotiate_version("1999-01-01") == "2025-11-25"
    assert negotiate_version(None) == "2025-11-25"


def test_a_line_that_is_not_json_gets_a_parse_error_and_the_session_goes_on():
    session = ready_session()
    events = session.receive_data(b"garbage\n" + b'{"jsonrpc":"2.0","id":9,"method":"ping"}\n')
    assert [type(e) for e in events] == [MessageRejected]
    assert json.loads(session.data_to_send()) == {"jsonrpc": "2.0", "id": 9, "result": {}}
