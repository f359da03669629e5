"""Tier 1: the session state machine, and a client session joined to the reference server
in memory (no event loop, no process)."""

from __future__ import annotations

import json

import pytest

from mcp_stdio.errors import LocalProtocolError, RemoteError, RemoteProtocolError, UnsupportedProtocolVersion
from mcp_stdio.framing import Oversized
from mcp_stdio.jsonrpc import ErrorResponse, InvalidMessage, Notification, Request, Response
from mcp_stdio.server import build_reference_server
from mcp_stdio.session import (
    HANDSHAKE_VERSIONS,
    ClientSession,
    Endpoint,
    HandshakeComplete,
    HandshakeFailed,
    State,
    UnexpectedResponse,
    negotiate_version,
)

INFO = {"name": "test", "version": "0"}


def answer(msg_id, result) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": result}).encode() + b"\n"


def ready_session() -> ClientSession:
    session = ClientSession()
    msg_id, _ = session.initialize(INFO, {})
    [event] = session.receive_data(answer(msg_id, {"protocolVersion": "2025-06-18", "capabilities": {}}))
    assert isinstance(event, HandshakeComplete)
    session.send_initialized()
    return session


def test_initialize_proposes_the_latest_version():
    session = ClientSession()
    msg_id, data = session.initialize(INFO, {"roots": {}}, token="t")
    sent = json.loads(data)
    assert sent == {"jsonrpc": "2.0", "id": msg_id, "method": "initialize",
                    "params": {"protocolVersion": "2025-11-25", "capabilities": {"roots": {}}, "clientInfo": INFO}}
    assert session.state is State.INITIALIZING


@pytest.mark.parametrize("version", HANDSHAKE_VERSIONS)
def test_every_supported_version_is_accepted(version):
    session = ClientSession()
    msg_id, _ = session.initialize(INFO, {}, token="tok")
    [event] = session.receive_data(answer(msg_id, {"protocolVersion": version, "capabilities": {}}))
    assert isinstance(event, HandshakeComplete) and event.token == "tok"
    assert session.protocol_version == version and session.state is State.INITIALIZED
    assert json.loads(session.send_initialized()) == {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert session.state is State.READY


@pytest.mark.parametrize("version", ["2023-01-01", "2026-07-28", None, 5])
def test_unsupported_version_fails_the_handshake(version):
    session = ClientSession()
    msg_id, _ = session.initialize(INFO, {})
    [event] = session.receive_data(answer(msg_id, {"protocolVersion": version, "capabilities": {}}))
    assert isinstance(event, HandshakeFailed)
    assert isinstance(event.error, UnsupportedProtocolVersion)
    assert str(event.error) == (f"server answered protocol version {version!r}; this client supports "
                                "2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05")


def test_initialize_error_and_bad_result_fail_the_handshake():
    session = ClientSession()
    msg_id, _ = session.initialize(INFO, {})
    [event] = session.receive_data(
        json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32602, "message": "no"}}).encode() + b"\n")
    assert isinstance(event.error, RemoteError) and event.error.code == -32602
    session = ClientSession()
    msg_id, _ = session.initialize(INFO, {})
    [event] = session.receive_data(answer(msg_id, [1, 2]))
    assert isinstance(event.error, RemoteProtocolError)


def test_lifecycle_rules_are_enforced():
    session = ClientSession()
    with pytest.raises(LocalProtocolError, match="cannot send tools/list before initialize"):
        session.send_request("tools/list")
    session.initialize(INFO, {})
    with pytest.raises(LocalProtocolError, match="initialize sent twice"):
        session.initialize(INFO, {})
    with pytest.raises(LocalProtocolError, match="before the server answered initialize"):
        session.send_request("tools/list")
    session.send_request("ping")  # pings are allowed during initialization
    with pytest.raises(LocalProtocolError, match="cannot send notifications/initialized"):
        session.send_initialized()
    session.close()
    with pytest.raises(LocalProtocolError, match="the session is closing"):
        session.send_request("ping")


def test_ids_count_up_and_are_never_reused():
    session = ready_session()
    ids = [session.send_request("ping")[0] for _ in range(5)]
    assert ids == sorted(set(ids)) and ids[0] > 1


def test_response_is_matched_to_its_token():
    session = ready_session()
    msg_id, _ = session.send_request("tools/list", None, token="T")
    [event] = session.receive_data(answer(msg_id, {"tools": []}))
    assert isinstance(event, Response)
    assert (event.result, event.method, event.token) == ({"tools": []}, "tools/list", "T")
    assert session.pending_count == 0


def test_error_answer_is_matched_too():
    session = ready_session()
    msg_id, _ = session.send_request("x", None, token="T")
    [event] = session.receive_data(
        json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32601, "message": "m"}}).encode() + b"\n")
    assert isinstance(event, ErrorResponse) and event.token == "T" and event.method == "x"


def test_unknown_duplicate_wrong_type_and_late_answers_are_never_delivered():
    session = ready_session()
    first, _ = session.send_request("a", None, token="A")
    second, _ = session.send_request("b", None, token="B")
    events = session.receive_data(
        answer(9999, 1) + answer(str(first), 1) + answer(first, "ok") + answer(first, "dup") + answer(True, 1))
    kinds = [type(e) for e in events]
    assert kinds == [UnexpectedResponse, UnexpectedResponse, Response, UnexpectedResponse, InvalidMessage]
    assert "never used" in events[0].reason
    assert "is a string but our request ids are integers" in events[1].reason
    assert "not pending" in events[3].reason
    cancel = session.cancel(second, "changed my mind")
    assert json.loads(cancel) == {"jsonrpc": "2.0", "method": "notifications/cancelled",
                                  "params": {"requestId": second, "reason": "changed my mind"}}
    [late] = session.receive_data(answer(second, "late"))
    assert isinstance(late, UnexpectedResponse)


def test_initialize_is_never_cancelled():
    session = ClientSession()
    msg_id, _ = session.initialize(INFO, {})
    assert session.cancel(msg_id, "timeout") is None
    assert session.pending_count == 0


def test_cancel_of_an_answered_request_sends_nothing():
    session = ready_session()
    msg_id, _ = session.send_request("a")
    session.receive_data(answer(msg_id, 1))
    assert session.cancel(msg_id) is None


def test_take_pending_empties_the_table():
    session = ready_session()
    for name in "abc":
        session.send_request(name, None, token=name.upper())
    assert [(m, t) for _, m, t in session.take_pending()] == [("a", "A"), ("b", "B"), ("c", "C")]
    assert session.pending_count == 0


def test_requests_and_notifications_from_the_peer_are_events():
    session = ready_session()
    events = session.receive_data(b'{"jsonrpc":"2.0","id":"s1","method":"ping"}\n'
                                  b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}\n')
    assert [type(e) for e in events] == [Request, Notification]


def test_oversized_line_is_an_event():
    endpoint = Endpoint(max_message_size=10)
    [event] = endpoint.receive_data(b"x" * 11 + b"\n")
    assert isinstance(event, Oversized)


def test_unencodable_params_raise_before_registering():
    session = ready_session()
    with pytest.raises(ValueError):
        session.send_request("m", {"x": float("inf")})
    assert session.pending_count == 0


def test_negotiate_version():
    assert negotiate_version("2025-03-26") == "2025-03-26"
    assert negotiate_version("1999-01-01") == "2025-11-25"
    assert negotiate_version(None) == "2025-11-25"


class Link:
    """A client session and the reference server joined in memory."""

    def __init__(self) -> None:
        self.client = ClientSession()
        self.server = build_reference_server()

    def exchange(self, data: bytes) -> list:
        return self.client.receive_data(self.server.receive(data))


def test_in_memory_handshake_and_calls_against_the_reference_server():
    link = Link()
    _, data = link.client.initialize(INFO, {})
    [event] = link.exchange(data)
    assert isinstance(event, HandshakeComplete)
    assert event.result["serverInfo"]["name"] == "mcp_stdio-reference"
    assert link.exchange(link.client.send_initialized()) == []
    batch = b"".join(link.client.send_request("tools/call", {"name": "echo", "arguments": {"text": str(i)}},
                                              token=i)[1] for i in range(50))
    events = link.exchange(batch)
    assert [(e.token, e.result["content"][0]["text"]) for e in events] == [(i, str(i)) for i in range(50)]


def test_in_memory_errors_from_the_reference_server():
    link = Link()
    _, data = link.client.initialize(INFO, {})
    link.exchange(data)
    link.exchange(link.client.send_initialized())
    _, data = link.client.send_request("nope/nope")
    [event] = link.exchange(data)
    assert isinstance(event, ErrorResponse) and event.code == -32601
    _, data = link.client.send_request("tools/call", {"name": "missing"})
    [event] = link.exchange(data)
    assert isinstance(event, ErrorResponse) and event.code == -32602
    _, data = link.client.send_request("tools/call", {"name": "add", "arguments": {"a": 1}})
    [event] = link.exchange(data)
    assert event.result["isError"] is True and "missing 1 required" in event.result["content"][0]["text"]
    # A line that is not JSON gets a parse error with a null id, and the server goes on.
    [event] = link.exchange(b"garbage\n")
    assert isinstance(event, UnexpectedResponse) and event.message.code == -32700
