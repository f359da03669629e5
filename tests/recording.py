"""A client that records every message it writes and every byte it reads, so that tests can
validate both directions against the official schemas."""

from __future__ import annotations

import mcp_stdio
from mcp_stdio.transport import ChildTransport

from . import spec

SENT: list = []  # messages the client wrote (decoded)
RECEIVED: list = []  # raw stdout chunks the client read


def clear() -> None:
    SENT.clear()
    RECEIVED.clear()


def received_messages() -> list[dict]:
    return spec.lines(b"".join(RECEIVED))


class RecordingTransport(ChildTransport):
    def send(self, data: bytes, request_id: object = None) -> bool:
        accepted = super().send(data, request_id)
        if accepted:
            SENT.extend(spec.lines(data))
        return accepted

    def _stdout_data(self, data: bytes) -> None:
        RECEIVED.append(data)
        super()._stdout_data(data)


class RecordingClient(mcp_stdio.Client):
    """mcp_stdio.Client over a RecordingTransport."""

    _transport_class = RecordingTransport
