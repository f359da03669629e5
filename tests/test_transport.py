"""The child's stdout: read by our own protocol, each chunk delivered in the loop iteration
that read it, in order, with the pipe's end still reported to asyncio's subprocess transport."""

from __future__ import annotations

import asyncio
import asyncio.base_subprocess
import sys
import traceback

from mcp_stdio.transport import ChildTransport, _read_stdout_directly, _Stdout

LINES = 50_000
# Writes its lines at once, before the client could set its protocol on the pipe, and more after.
WRITER = [sys.executable, "-c", f"""
import sys
out = sys.stdout
out.write("".join(f"{{i}}\\n" for i in range({LINES})))
out.flush()
sys.stdin.readline()
out.write("end\\n")
"""]


def test_stdout_chunks_arrive_in_order_in_the_callback_that_read_them_and_the_end_is_reported():
    chunks: list[bytes] = []
    stacks: list[list[str]] = []
    lost: list = []

    def on_data(data: bytes) -> None:
        chunks.append(data)
        stacks.append([frame.name for frame in traceback.extract_stack()])

    async def main() -> None:
        transport = ChildTransport(WRITER, on_data, lambda code, reason: lost.append((code, reason)))
        await transport.start()
        assert transport._transport is not None
        ours = transport._transport.get_pipe_transport(1).get_protocol()
        assert type(ours) is _Stdout
        while b"".join(chunks).count(b"\n") < LINES:
            await asyncio.sleep(0.01)
        transport.send(b"go\n")
        while not lost:
            await asyncio.sleep(0.01)
        inner = ours._inner
        assert type(inner) is asyncio.base_subprocess.ReadSubprocessPipeProto
        assert inner.disconnected  # asyncio's pipe protocol learnt of the end
        await transport.stop(1.0, 5.0, 1.0)

    asyncio.run(main())
    expected = "".join(f"{i}\n" for i in range(LINES)).encode() + b"end\n"
    assert b"".join(chunks) == expected
    assert lost == [(0, None)]
    # Every chunk read after the protocol was set came straight from the pipe's read callback
    # (asyncio's own path hands it over one loop iteration later, from a call_soon).
    direct = ["_read_ready" in stack for stack in stacks]
    assert direct[-1]  # "end", read long after start()
    assert direct == sorted(direct)  # the chunks handed over by asyncio's path, if any, come first


class _Pipe:
    def __init__(self, protocol: object) -> None:
        self.protocol = protocol
        self.set: list = []

    def get_protocol(self) -> object:
        return self.protocol

    def set_protocol(self, protocol: object) -> None:
        self.set.append(protocol)


class _Transport:
    def __init__(self, pipe: _Pipe | None) -> None:
        self.pipe = pipe

    def get_pipe_transport(self, fd: int) -> _Pipe | None:
        assert fd == 1
        return self.pipe


def test_a_pipe_that_is_not_asyncio_s_own_is_left_alone():
    other = _Pipe(asyncio.Protocol())  # another loop's pipe (uvloop...): its protocol is not asyncio's
    _read_stdout_directly(_Transport(other), None)  # type: ignore[arg-type]
    assert other.set == []
    _read_stdout_directly(_Transport(None), None)  # type: ignore[arg-type]
