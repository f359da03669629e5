"""Tier 1: a client session and a server session joined by an in-memory link, no event loop,
no process: the lifecycle, the era probe, version negotiation and the checks at the
boundary, one rule at a time."""

from __future__ import annotations

import json

import pytest

from mcp_stdio import lifecycle
from mcp_stdio.client_session import ClientSession
from mcp_stdio.errors import LocalProtocolError, RemoteProtocolError, UnsupportedProtocolVersion
from mcp_stdio.events import (
    AnswerRejected,
    CancelRequested,
    ClientInitialized,
    ErrorReceived,
    HandshakeComplete,
    HandshakeFailed,
    MessageRejected,
    ProgressReceived,
    RequestReceived,
    RestartForHandshake,
    ResultReceived,
    SessionStarted,
    UnexpectedAnswer,
)
from mcp_stdio.lifecycle import PROBE, Probe, State
from mcp_stdio.server_session import ServerSession

INFO = {"name": "test", "version": "1"}
TOOL_RESULT = {"content": [{"type": "text", "text": "hi"}]}


def capabilities(version: str) -> dict:
    return {"tools": {"listChanged": True}}


def server_session() -> ServerSession:
    return ServerSession({"name": "server", "version": "1"}, capabilities, instructions="be nice")


class Link:
    """A client session and a server session; ``pump`` carries bytes both ways."""

    def __init__(self, protocol: str = "handshake", **options) -> None:
        self.client = ClientSession(INFO, options.pop("client_capabilities", {}), protocol=protocol, **options)
        self.server = server_session()
        self.client_events: list = []
        self.server_events: list = []

    def start(self) -> None:
        self.to_server(self.client.start())

    def to_server(self, data: bytes) -> list:
        events = self.server.receive_data(data)
        self.server_events += events
        back = self.server.data_to_send()
        if back:
            self.to_client(back)
        return events

    def to_client(self, data: bytes) -> list:
        events = self.client.receive_data(data)
        self.client_events += events
        back = self.client.data_to_send()
        if back:
            self.to_server(back)
        return events


def line(message: dict) -> bytes:
    return json.dumps(message).encode() + b"\n"


def kinds(events: list) -> list[str]:
    return [type(event).__name__ for event in events]


# The handshake era


def test_handshake_negotiates_and_both_sides_are_ready():
    link = Link()
    link.start()
    assert kinds(link.client_events) == ["HandshakeComplete"]
    complete = link.client_events[0]
    assert (complete.era, complete.version) == ("handshake", "2025-11-25")
    assert complete.result["serverInfo"] == {"name": "server", "version": "1"}
    assert complete.result["instructions"] == "be nice"
    assert link.client.state is State.READY and link.server.state is State.READY
    assert kinds(link.server_events) == ["SessionStarted", "ClientInitialized"]
    assert link.server.client_info == INFO


def test_the_server_answers_an_unknown_version_with_its_latest_and_the_client_accepts_older_ones():
    link = Link(handshake_versions=("2024-11-05",))
    link.start()
    # The server does not speak "2024-11-05"? It does: the same version comes back.
    assert link.client.version == "2024-11-05" and link.server.version == "2024-11-05"
    server = server_session()
    server.receive_data(line({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": INFO}}))
    answer = json.loads(server.data_to_send())
    assert answer["result"]["protocolVersion"] == lifecycle.LATEST_HANDSHAKE_VERSION


def test_a_version_the_client_does_not_speak_fails_the_handshake():
    client = ClientSession(INFO, {}, protocol="handshake", handshake_versions=("2025-11-25",))
    request = json.loads(client.start())
    events = client.receive_data(line({"jsonrpc": "2.0", "id": request["id"], "result": {
        "protocolVersion": "2024-11-05", "capabilities": {}, "serverInfo": INFO}}))
    assert kinds(events) == ["HandshakeFailed"]
    assert isinstance(events[0].error, UnsupportedProtocolVersion)


def test_requests_before_initialize_and_a_second_initialize_are_refused_by_the_server():
    server = server_session()
    server.receive_data(line({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    server.receive_data(line({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
    answers = [json.loads(item) for item in server.data_to_send().splitlines()]
    assert answers[0]["error"] == {"code": -32600, "message": "tools/list before initialize: the session is not "
                                                              "initialized"}
    assert answers[1] == {"jsonrpc": "2.0", "id": 2, "result": {}}
    initialize = {"jsonrpc": "2.0", "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": INFO}}
    server.receive_data(line(dict(initialize, id=3)))
    events = server.receive_data(line(dict(initialize, id=4)))
    assert kinds(events) == ["MessageRejected"]
    second = json.loads(server.data_to_send().splitlines()[-1])
    assert second["error"] == {"code": -32600, "message": "initialize was already received: the session is "
                                                          "initialized"}


def test_the_client_cannot_send_before_the_handshake_and_not_after_close():
    client = ClientSession(INFO, {}, protocol="handshake")
    with pytest.raises(LocalProtocolError, match="cannot send tools/list before the session is ready"):
        client.send_request("tools/list")
    client.start()
    with pytest.raises(LocalProtocolError, match="cannot send tools/list before the session is ready"):
        client.send_request("tools/list")
    client.send_request("ping")  # pings are allowed while initialize is in flight
    client.close()
    with pytest.raises(LocalProtocolError, match="the session is closing"):
        client.send_request("ping")


# Checks at the boundary


def ready(protocol: str = "handshake") -> Link:
    link = Link(protocol)
    link.start()
    assert link.client.state is State.READY
    link.client_events.clear()
    link.server_events.clear()
    return link


def test_a_result_of_the_wrong_shape_fails_its_request_at_once():
    link = ready()
    msg_id, _ = link.client.send_request("tools/call", {"name": "x"}, token="future")
    events = link.client.receive_data(line({"jsonrpc": "2.0", "id": msg_id, "result": {"content": "nope"}}))
    assert kinds(events) == ["AnswerRejected"]
    event = events[0]
    assert (event.id, event.method, event.token) == (msg_id, "tools/call", "future")
    assert isinstance(event.error, RemoteProtocolError)
    assert str(event.error) == ("tools/call: the result does not match the 2025-11-25 schema: "
                                "$.content: 'nope' is not of type array")
    assert link.client.pending_count == 0


@pytest.mark.parametrize("answer, reason", [
    ({"jsonrpc": "2.0", "result": {}, "error": {"code": 1, "message": "m"}}, 'both "result" and "error"'),
    ({"jsonrpc": "2.0", "error": {"code": "x", "message": "m"}}, '"error.code" is not an integer'),
    ({"jsonrpc": "2.0", "error": {"code": 1}}, '"error.message" is not a string'),
    ({"jsonrpc": "1.0", "result": {}}, '"jsonrpc" is not "2.0"'),
])
def test_a_malformed_answer_carrying_a_pending_id_fails_that_request_at_once(answer, reason):
    link = ready()
    msg_id, _ = link.client.send_request("ping", None, token="t")
    events = link.client.receive_data(line(dict(answer, id=msg_id)))
    assert kinds(events) == ["AnswerRejected"]
    assert str(events[0].error) == f"ping: malformed answer: {reason}"


def test_non_standard_numbers_in_an_answer_fail_its_request_at_once():
    link = ready()
    msg_id, _ = link.client.send_request("ping", None, token="t")
    events = link.client.receive_data(b'{"jsonrpc":"2.0","id":%d,"result":{"x":NaN}}\n' % msg_id)
    assert kinds(events) == ["AnswerRejected"]
    assert str(events[0].error) == "ping: malformed answer: not valid JSON (NaN is not a JSON number)"


@pytest.mark.parametrize("bad_id", ['"\\u00b2"', '"' + "9" * 5000 + '"', "true", "1.5", "[1]", "{}"])
def test_unexpected_ids_of_any_shape_never_lose_the_real_answer_in_the_same_chunk(bad_id):
    link = ready()
    msg_id, _ = link.client.send_request("ping", None, token="t")
    chunk = (f'{{"jsonrpc":"2.0","id":{bad_id},"result":{{}}}}\n'
             f'{{"jsonrpc":"2.0","id":{msg_id},"result":{{}}}}\n')
    events = link.client.receive_data(chunk.encode())
    assert kinds(events)[-1] == "ResultReceived"
    assert kinds(events)[0] in ("UnexpectedAnswer", "MessageRejected")


def test_notifications_of_the_wrong_shape_are_rejected_and_the_answer_in_the_same_chunk_kept():
    link = ready()
    msg_id, _ = link.client.send_request("tools/call", {"name": "t"}, token="t", progress=True)
    chunk = b"".join(line(message) for message in (
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": [1], "progress": 1}},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": []}},
        {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "loud", "data": 1}},
        {"jsonrpc": "2.0", "id": msg_id, "result": TOOL_RESULT},
    ))
    events = link.client.receive_data(chunk)
    assert kinds(events) == ["MessageRejected", "MessageRejected", "MessageRejected", "ResultReceived"]


def test_progress_must_increase_and_is_only_for_our_tokens():
    link = ready()
    msg_id, data = link.client.send_request("tools/call", {"name": "t"}, token="t", progress=True)
    assert json.loads(data)["params"]["_meta"] == {"progressToken": msg_id}

    def progress(value, token=msg_id):
        return line({"jsonrpc": "2.0", "method": "notifications/progress",
                     "params": {"progressToken": token, "progress": value, "total": 10}})

    events = link.client.receive_data(progress(1) + progress(1) + progress(0.5) + progress(2) + progress(3, 999))
    assert kinds(events) == ["ProgressReceived", "MessageRejected", "MessageRejected", "ProgressReceived"]
    assert [e.progress for e in events if isinstance(e, ProgressReceived)] == [1, 2]
    assert events[1].reason == "notifications/progress: progress went from 1 to 1; it must increase"


def test_cancellation_of_a_request_being_handled_and_of_unknown_ids():
    link = ready()
    server = link.server
    server.receive_data(line({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "t"}}))
    events = server.receive_data(b"".join(line({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                                "params": {"requestId": request_id}})
                                          for request_id in (7, 8, "unknown")))
    assert kinds(events) == ["CancelRequested"]
    assert events[0].request_id == 7
    assert server.send_result(7, TOOL_RESULT) == b""  # "Not send a response for the cancelled request"
    assert server.incoming_count == 0


def test_a_result_that_breaks_the_schema_is_never_sent():
    link = ready()
    server = link.server
    server.receive_data(line({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "t"}}))
    with pytest.raises(LocalProtocolError, match="tools/call result is not valid for protocol 2025-11-25: "
                                                 "\\$: required property 'content' is missing"):
        server.send_result(7, {"contents": []})
    with pytest.raises(LocalProtocolError, match="Out of range float values are not JSON compliant"):
        server.send_result(7, {"content": [], "structuredContent": {"x": float("nan")}})
    assert json.loads(server.send_result(7, TOOL_RESULT))["result"] == TOOL_RESULT


def test_requests_beyond_max_incoming_and_duplicate_ids_are_refused():
    link = ready()
    server = link.server
    server.max_incoming = 2
    for request_id in (1, 2, 3, 1):
        server.receive_data(line({"jsonrpc": "2.0", "id": request_id, "method": "tools/list"}))
    answers = [json.loads(item) for item in server.data_to_send().splitlines()]
    assert [a["error"]["message"] for a in answers] == ["too many requests in flight (limit 2)",
                                                         "request id 1 is already in use by another request"]


def test_invalid_params_and_methods_of_another_version():
    link = ready()
    server = link.server
    server.receive_data(line({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": 5}}))
    server.receive_data(line({"jsonrpc": "2.0", "id": 2, "method": "subscriptions/listen", "params": {}}))
    server.receive_data(line({"jsonrpc": "2.0", "id": 3, "method": "vendor/custom", "params": {}}))
    events = server.receive_data(b"")
    answers = [json.loads(item) for item in server.data_to_send().splitlines()]
    assert answers[0]["error"] == {"code": -32602, "message": "Invalid params for tools/call: $.name: 5 is not of "
                                                              "type string"}
    assert answers[1]["error"]["code"] == -32601
    assert events == [] and server.incoming_count == 1  # the vendor method reaches the server's handlers


# The 2026-07-28 era and the era probe


def test_a_modern_client_and_server_need_no_handshake_and_requests_carry_their_meta():
    link = Link("2026-07-28", client_capabilities={"sampling": {}})
    link.start()
    assert kinds(link.client_events) == ["HandshakeComplete"]
    assert link.client.era == "2026-07-28" and link.server.state is State.NEW
    msg_id, data = link.client.send_request("tools/call", {"name": "t"})
    meta = json.loads(data)["params"]["_meta"]
    assert meta == {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {"sampling": {}},
                    "io.modelcontextprotocol/clientInfo": INFO}
    events = link.server.receive_data(data)
    assert kinds(events) == ["RequestReceived"] and events[0].version == "2026-07-28"
    answer = json.loads(link.server.send_result(msg_id, TOOL_RESULT))["result"]
    assert answer["resultType"] == "complete"
    assert answer["_meta"] == {"io.modelcontextprotocol/serverInfo": {"name": "server", "version": "1"}}


def test_the_server_checks_each_modern_request():
    server = server_session()

    def ask(meta):
        server.receive_data(line({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}))
        return json.loads(server.data_to_send())["error"]

    assert ask({"io.modelcontextprotocol/protocolVersion": "2099-01-01"}) == {
        "code": -32022, "message": "Unsupported protocol version",
        "data": {"supported": list(lifecycle.ALL_VERSIONS), "requested": "2099-01-01"}}
    assert ask({"io.modelcontextprotocol/protocolVersion": "2026-07-28"}) == {
        "code": -32602, "message": "Invalid params: _meta lacks io.modelcontextprotocol/clientCapabilities"}


def probe_link(answer_discover, answer_initialize=None):
    """A client in automatic mode against a scripted server; returns (client, events, sent)."""
    client = ClientSession(INFO, {}, protocol="auto")
    sent = [json.loads(client.start())]
    events: list = []

    def feed(message):
        events.extend(client.receive_data(line(message)))
        out = client.data_to_send()
        sent.extend(json.loads(item) for item in out.splitlines())

    return client, events, sent, feed


DISCOVER_RESULT = {"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
                   "ttlMs": 0, "cacheScope": "public"}
INITIALIZE_RESULT = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": INFO}


def test_probe_discover_result_means_modern():
    client, events, sent, feed = probe_link(None)
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "result": DISCOVER_RESULT})
    assert kinds(events) == ["HandshakeComplete"] and client.era == "2026-07-28"


def test_probe_a_legacy_refusal_falls_back_to_initialize_on_the_same_process():
    client, events, sent, feed = probe_link(None)
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "error": {"code": -32601, "message": "Method not found"}})
    assert kinds(events) == ["SendInitialize"] and sent[-1]["method"] == "initialize"
    feed({"jsonrpc": "2.0", "id": sent[-1]["id"], "result": INITIALIZE_RESULT})
    assert kinds(events)[-1] == "HandshakeComplete" and client.era == "handshake"
    assert sent[-1]["method"] == "notifications/initialized"


def test_probe_timeout_keeps_both_questions_open_and_a_late_discover_result_wins():
    client, events, sent, feed = probe_link(None)
    events += client.probe_timed_out()
    sent += [json.loads(item) for item in client.data_to_send().splitlines()]
    assert [m["method"] for m in sent] == ["server/discover", "initialize"]
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "result": DISCOVER_RESULT})
    assert client.era == "2026-07-28"
    # The late answer to initialize is dropped quietly, not an unexpected answer.
    feed({"jsonrpc": "2.0", "id": sent[1]["id"], "result": INITIALIZE_RESULT})
    assert kinds(events) == ["SendInitialize", "HandshakeComplete"]


def test_once_the_probe_is_settled_a_session_holds_no_id_set_of_its_own():
    # Memory per idle session (issue 16): the probe's bookkeeping returns to one shared
    # empty set once its last question is answered, late answers included.
    from mcp_stdio.session import NO_IDS

    client, events, sent, feed = probe_link(None)
    events += client.probe_timed_out()
    sent += [json.loads(item) for item in client.data_to_send().splitlines()]
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "result": DISCOVER_RESULT})
    assert client._ignored == {sent[1]["id"]}  # the late answer to initialize is still expected
    feed({"jsonrpc": "2.0", "id": sent[1]["id"], "result": INITIALIZE_RESULT})
    assert kinds(events) == ["SendInitialize", "HandshakeComplete"]
    assert client._special is NO_IDS and client._ignored is NO_IDS


def test_probe_timeout_then_initialize_result_means_the_handshake_and_a_late_discover_error_is_ignored():
    client, events, sent, feed = probe_link(None)
    client.probe_timed_out()
    sent += [json.loads(item) for item in client.data_to_send().splitlines()]
    feed({"jsonrpc": "2.0", "id": sent[1]["id"], "result": INITIALIZE_RESULT})
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "error": {"code": -32601, "message": "nope"}})
    assert kinds(events) == ["HandshakeComplete"] and client.era == "handshake"


def test_probe_a_modern_refusal_of_initialize_asks_again_and_continues_in_2026():
    client, events, sent, feed = probe_link(None)
    client.probe_timed_out()
    sent += [json.loads(item) for item in client.data_to_send().splitlines()]
    feed({"jsonrpc": "2.0", "id": sent[1]["id"], "error": {"code": -32022, "message": "serving 2026-07-28",
                                                            "data": {"supported": ["2026-07-28"]}}})
    assert sent[-1]["method"] == "server/discover" and sent[-1]["id"] != sent[0]["id"]
    feed({"jsonrpc": "2.0", "id": sent[-1]["id"], "result": DISCOVER_RESULT})
    assert kinds(events) == ["HandshakeComplete"] and client.era == "2026-07-28"


def test_probe_another_refusal_of_initialize_while_discover_is_unanswered_fails_the_start_at_once():
    client, events, sent, feed = probe_link(None)
    client.probe_timed_out()
    sent += [json.loads(item) for item in client.data_to_send().splitlines()]
    feed({"jsonrpc": "2.0", "id": sent[1]["id"], "error": {"code": -32603, "message": "no"}})
    assert kinds(events) == ["HandshakeFailed"], kinds(events)


def test_probe_a_server_that_dies_on_the_probe_is_started_again_for_the_handshake():
    client = ClientSession(INFO, {}, protocol="auto")
    client.start()
    assert kinds(client.receive_eof()) == ["RestartForHandshake"]


def test_probe_a_malformed_discover_result_fails_the_start_and_an_empty_one_is_a_legacy_answer():
    client, events, sent, feed = probe_link(None)
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "result": {"supportedVersions": "2026-07-28"}})
    assert kinds(events) == ["HandshakeFailed"]
    assert "answered with a malformed message: server/discover result:" in str(events[0].error)
    client, events, sent, feed = probe_link(None)
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "result": {}})
    assert kinds(events) == ["SendInitialize"]


def test_probe_a_modern_error_without_a_common_version_fails_without_falling_back():
    client, events, sent, feed = probe_link(None)
    feed({"jsonrpc": "2.0", "id": sent[0]["id"], "error": {
        "code": -32022, "message": "Unsupported", "data": {"supported": ["2099-01-01"], "requested": "2026-07-28"}}})
    assert kinds(events) == ["HandshakeFailed"]
    assert isinstance(events[0].error, UnsupportedProtocolVersion)
    assert not any(m.get("method") == "initialize" for m in sent)


def test_every_probe_phase_has_an_answer_for_the_end_of_the_stream():
    for phase in Probe:
        if phase is not Probe.DONE:
            assert (phase, "eof") in PROBE, phase


def test_event_classes_have_readable_reprs():
    assert repr(SessionStarted("2025-11-25", INFO, {})).startswith("SessionStarted(version='2025-11-25'")
    for event_class in (AnswerRejected, CancelRequested, ClientInitialized, ErrorReceived, HandshakeComplete,
                        HandshakeFailed, MessageRejected, RequestReceived, RestartForHandshake, ResultReceived,
                        UnexpectedAnswer):
        assert event_class.__doc__


@pytest.mark.parametrize("protocol", ["handshake", "2026-07-28"])
def test_sessions_that_got_the_same_answer_share_one_copy_of_it(protocol):
    first, second = ready(protocol), ready(protocol)
    assert first.client.server_result == second.client.server_result
    assert first.client.server_result is second.client.server_result
    other = Link(protocol)
    other.server = ServerSession({"name": "other", "version": "2"}, capabilities)
    other.start()
    assert other.client.server_result["serverInfo"]["name"] == "other"
    assert other.client.server_result is not first.client.server_result


def test_the_shared_answers_are_bounded_least_recently_used_first(monkeypatch):
    from mcp_stdio import client_session

    monkeypatch.setattr(client_session, "_shared", {})
    monkeypatch.setattr(client_session, "SHARED_ANSWERS", 3)
    answers = [{"n": n} for n in range(4)]
    for answer in answers[:3]:
        assert client_session.shared_answer(dict(answer)) == answer
    assert client_session.shared_answer(dict(answers[0])) is client_session._shared['{"n":0}']  # now most recent
    client_session.shared_answer(dict(answers[3]))  # drops {"n": 1}, the least recently used
    assert list(client_session._shared) == ['{"n":2}', '{"n":0}', '{"n":3}']


def test_a_finished_task_past_its_ttl_is_unknown_to_every_read():
    import time

    from mcp_stdio.errors import RequestError
    from mcp_stdio.tasks import TaskStore

    store = TaskStore()
    past = time.time() - 10
    old = store.create(50, now=past)["taskId"]
    working = store.create(50, now=past)["taskId"]
    store.finish(old, "completed", {"content": []}, now=past)
    fresh = store.create(60_000)["taskId"]
    store.finish(fresh, "completed", {"content": []})
    for read in (store.get, store.result, store.outcome):
        with pytest.raises(RequestError, match="Unknown task"):
            read(old)
    # A working task is kept past its ttl (the receiver may delete it only once it is done).
    assert [task["taskId"] for task in store.list()] == [working, fresh]


def test_a_task_augmented_request_is_refused_in_a_version_without_tasks():
    server = server_session()
    server.receive_data(line({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "clientInfo": INFO,
        "capabilities": {"sampling": {}, "tasks": {"requests": {"sampling": {"createMessage": {}}}}}}}))
    server.receive_data(line({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    assert server.version == "2024-11-05"
    params = {"messages": [], "maxTokens": 1, "task": {"ttl": 1000}}
    with pytest.raises(LocalProtocolError, match="cannot be task-augmented in protocol 2024-11-05"):
        server.send_request("sampling/createMessage", params)
    del params["task"]
    server.send_request("sampling/createMessage", params)  # the same request without a task goes
