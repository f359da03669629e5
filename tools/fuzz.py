#!/usr/bin/env python3
"""Seeded fuzzer for the framing and session layers (stdlib ``random`` only).

Usage: python tools/fuzz.py [--messages 100000] [--seed 1]

Valid messages of every shape are mutated (truncated, bytes flipped, inserted, deleted or
duplicated, ids and types swapped, nesting deepened, wrapped in batches) and fed, as one
stream cut into random chunks, through a ready ClientSession with requests pending. The
run checks that nothing raises, that every non-blank line produces at least one event of a
known kind, and that every line that is not UTF-8 JSON is reported as a parse error
(-32700). The same seed always produces the same run. Exit status 1 on any finding.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp_stdio.framing import Oversized  # noqa: E402
from mcp_stdio.jsonrpc import ErrorResponse, InvalidMessage, Notification, Request, Response  # noqa: E402
from mcp_stdio.session import ClientSession, HandshakeComplete, UnexpectedResponse  # noqa: E402

KNOWN_EVENTS = (Request, Notification, Response, ErrorResponse, InvalidMessage, UnexpectedResponse, Oversized)
JUNK = [b"\x00", b"\xff", b"\xc3", b"\xe2\x80", b"\r", b" ", b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":",
        b"null", b"true", b"1e999", b"-0", b"NaN", b"\xef\xbb\xbf", "\u2028".encode(), b"\\ud800"]


def corpus(rng: random.Random) -> list[dict]:
    """Return valid messages of every shape."""
    text = "".join(rng.choice(["a", "é", "\u2028", "\u0085", "𝄞", '"', "\\", "\n", "\t"]) for _ in range(12))
    return [
        {"jsonrpc": "2.0", "id": rng.randint(1, 50), "result": {"content": [{"type": "text", "text": text}]}},
        {"jsonrpc": "2.0", "id": rng.randint(1, 50), "error": {"code": -32601, "message": text, "data": [1]}},
        {"jsonrpc": "2.0", "id": "s-1", "method": "ping"},
        {"jsonrpc": "2.0", "id": rng.randint(-5, 5), "method": "sampling/createMessage", "params": {"x": text}},
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 0.5}},
        {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": {"k": text}}},
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}},
    ]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """Return a mutated copy of ``data`` (never containing a raw newline)."""
    choice = rng.randrange(10)
    if choice == 0 and data:
        return data[: rng.randrange(len(data))]  # truncated
    if choice == 1 and data:
        i = rng.randrange(len(data))
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if choice == 2:
        i = rng.randrange(len(data) + 1)
        return data[:i] + rng.choice(JUNK) + data[i:]
    if choice == 3 and data:
        i = rng.randrange(len(data))
        return data[:i] + data[i + rng.randint(1, 8):]
    if choice == 4 and data:
        i, j = sorted(rng.randrange(len(data)) for _ in range(2))
        return data[:j] + data[i:j] + data[j:]
    if choice == 5:
        return data.replace(b'"id":', rng.choice([b'"id":"', b'"id":true,"x":', b'"id":1.5,"y":', b'"id":[']), 1)
    if choice == 6:
        depth = rng.choice([10, 1000, 100000])
        return data.replace(b"{", b"[" * depth + b"{", 1) + b"]" * rng.choice([0, depth])
    if choice == 7:
        return b"[" + data + b"," + data + b"]"
    if choice == 8:
        return data.replace(b'"2.0"', rng.choice([b'"1.0"', b"2.0", b'"2.0 "', b"null"]), 1)
    return data  # unchanged: valid messages must keep flowing too


def run(messages: int, seed: int, max_message_size: int = 64 * 1024) -> dict:
    """Fuzz ``messages`` lines with ``seed``; return counts and findings."""
    rng = random.Random(seed)
    session = ClientSession(max_message_size)
    msg_id, _ = session.initialize({"name": "fuzz", "version": "0"}, {})
    events = session.receive_data(json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": {
        "protocolVersion": "2025-11-25", "capabilities": {}}}).encode() + b"\n")
    assert isinstance(events[0], HandshakeComplete)
    session.send_initialized()
    counts = {kind.__name__: 0 for kind in KNOWN_EVENTS}
    findings: list[str] = []
    produced = 0
    shapes = corpus(rng)
    stream = []
    lines = []
    for index in range(messages):
        if index % 1000 == 0:
            shapes = corpus(rng)
            for _ in range(20):
                session.send_request("tools/call", {"name": "t"}, token=index)
        message = rng.choice(shapes)
        data = json.dumps(message, ensure_ascii=rng.random() < 0.5).encode()
        if rng.random() < 0.8:
            data = mutate(rng, data)
        data = data.replace(b"\n", b"")
        lines.append(data)
        stream.append(data + rng.choice([b"\n", b"\r\n", b"\n\n"]))
    blob = b"".join(stream)
    position = 0
    start = time.perf_counter()
    while position < len(blob):
        size = rng.choice([1, 7, 64, 4096, 65536])
        try:
            out = session.receive_data(blob[position:position + size])
        except Exception as exc:  # a finding, reported with the seed that reproduces it
            findings.append(f"receive_data raised {exc!r} at byte {position}")
            break
        for event in out:
            if not isinstance(event, KNOWN_EVENTS):
                findings.append(f"unknown event {event!r}")
            counts[type(event).__name__] += 1
            produced += 1
        position += size
    elapsed = time.perf_counter() - start
    expected_min = sum(1 for line in lines if line.strip(b" \t\r"))
    if produced < expected_min:
        findings.append(f"{expected_min} non-blank lines produced only {produced} events")
    # Every line that is not UTF-8 JSON must be reported as a parse error.
    from mcp_stdio.jsonrpc import parse

    for line in lines:
        body = line.rstrip(b"\r")
        if not body.strip():
            continue
        try:
            json.loads(body[3:] if body.startswith(b"\xef\xbb\xbf") else body.decode("utf-8"))
            is_json = True
        except (ValueError, UnicodeDecodeError, RecursionError):
            is_json = False
        if not is_json:
            try:
                result = parse(body)
            except Exception as exc:  # a finding
                findings.append(f"parse raised {exc!r} on {body[:80]!r}")
                continue
            if not (isinstance(result, InvalidMessage) and result.code == -32700):
                findings.append(f"not reported as a parse error: {body[:80]!r}")
    return {"seed": seed, "messages": messages, "events": produced, "counts": counts,
            "seconds": round(elapsed, 2), "findings": findings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report = run(args.messages, args.seed)
    print(json.dumps(report, indent=1))
    return 1 if report["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
