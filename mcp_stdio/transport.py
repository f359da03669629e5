"""The child process behind a connection: spawn, pipes, stderr drain, flow control, stop.

Theory of operation
-------------------
:class:`ChildTransport` owns one server process and its three pipes and knows nothing of
JSON-RPC. Its owner (the client) supplies two callbacks: ``on_data(bytes)`` for stdout and
``on_lost(returncode)`` called exactly once when the connection is over.

* **Spawn**: ``loop.subprocess_exec`` with an argv list (never a shell), through
  :func:`mcp_stdio.children.subprocess_exec` (no thread per child on 3.9 to 3.11), in a new session
  (``start_new_session=True``) so that the child leads its own process group: signals go to
  the whole group, and grandchildren started by launchers such as ``npx`` or ``uvx`` cannot
  outlive the server.
* **Environment**: by default only :data:`DEFAULT_INHERITED_ENV` (and the locale variables)
  is taken from the parent, so secrets in the host's environment do not reach arbitrary
  servers; the user's ``env`` is merged over it; ``inherit_env=True`` passes everything.
* **stdout** is fed to ``on_data`` as it arrives (the protocol callbacks only feed; there is
  no line limit here). asyncio's subprocess transport hands each chunk of a pipe to its
  protocol one loop iteration late (``call_soon``, to keep its callbacks in order); stdout is
  instead read by :class:`_Stdout`, set on the pipe's transport with the public
  ``set_protocol``, which gives each chunk to ``on_data`` in the iteration that read it and
  passes the pipe's end on to asyncio's own pipe protocol, so the subprocess transport's
  bookkeeping (``pipe_connection_lost``, the end of the process) is unchanged. An answer
  then reaches its caller one loop iteration sooner: two iterations per sequential call
  instead of three.
* **stderr** is always drained, so a chatty server never blocks on a full pipe: the last
  lines are kept in :attr:`ChildTransport.stderr_tail` and each line is given to the
  optional ``on_stderr`` callback. Nothing is ever written to ``sys.stderr``, so it works
  where that has no file descriptor (notebooks, captured output).
* **stdin**: messages go through :class:`~mcp_stdio.outbound.Outbound`: written at once
  while the pipe takes data, held in a bounded ``asyncio.Queue`` (and a line of waiting
  senders) while it is full. A server that closes its stdin while it keeps running ends the
  connection: nothing is ever written to a closed pipe.
* **End of the connection**: decided from the exit status, not from pipe EOF (grandchildren
  may hold the pipe open). When the child exits, stdout gets :data:`EOF_GRACE` seconds to
  deliver what it still holds; when stdout ends first, the exit status gets the same time to
  arrive so that the error can name it.
* **Stop** (:meth:`ChildTransport.stop`), in the order of MCP 2025-11-25 basic/lifecycle,
  "Shutdown", stdio: flush queued writes, "First, closing the input stream to the child
  process", "Waiting for the server to exit, or sending SIGTERM if the server does not exit
  within a reasonable time", "Sending SIGKILL if the server does not exit within a
  reasonable time after SIGTERM"; then the rest of the process group gets the same
  treatment, the child is reaped and every pipe is closed. The waits are events: the
  child's exit, and ``pidfd_open`` descriptors for the rest of the group (Linux 5.3 and
  later); only where pidfds are missing is the group polled, every 10 ms.
"""

from __future__ import annotations

import asyncio
import asyncio.base_subprocess
import collections
import errno
import logging
import os
import signal
from typing import Callable

from .children import subprocess_exec
from .errors import SpawnError
from .outbound import DEFAULT_QUEUE_SIZE, Outbound

__all__ = [
    "DEFAULT_INHERITED_ENV",
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_STDERR_TAIL_LINES",
    "EOF_GRACE",
    "build_env",
    "ChildTransport",
]

logger = logging.getLogger("mcp_stdio.transport")

# The variables passed to a child by default. The official MCP SDKs use the same six on
# POSIX (HOME, LOGNAME, PATH, SHELL, TERM, USER); the locale variables keep a server's text
# encoding right, TMPDIR and TZ its temporary files and clock. The locale names are the
# POSIX ones (LANG, LC_ALL and the categories of XBD 8.2) plus the GNU extras and LANGUAGE,
# by exact name: a prefix match would also pass LC_SECRET_TOKEN or any other LC_* a user set.
DEFAULT_INHERITED_ENV = (
    "HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER",
    "LANG", "LANGUAGE", "LC_ALL", "LC_COLLATE", "LC_CTYPE", "LC_MESSAGES", "LC_MONETARY",
    "LC_NUMERIC", "LC_TIME",
    "LC_ADDRESS", "LC_IDENTIFICATION", "LC_MEASUREMENT", "LC_NAME", "LC_PAPER", "LC_TELEPHONE",
    "TMPDIR", "TZ",
)

# Lines of stderr kept for error messages: enough for a Python traceback's last frames.
DEFAULT_STDERR_TAIL_LINES = 20

# Longest stderr line kept, in characters; the rest of a longer line is dropped.
MAX_STDERR_LINE = 4096

# Seconds that stdout may still deliver data after the child exited, and that the exit status
# may take to arrive after stdout ended. Small: the pipe normally ends with the process.
EOF_GRACE = 0.05

# Seconds to wait for the kernel to reap a child after SIGKILL before giving up with an error.
KILL_WAIT = 2.0


def build_env(env: dict[str, str] | None = None, inherit_env: bool = False) -> dict[str, str]:
    """Return the environment for a child.

    Args:
        env: variables to set, merged over the inherited ones (an explicit ``PATH`` here
            wins; otherwise the parent's ``PATH`` is kept, so commands are still found).
        inherit_env: pass the whole parent environment instead of the allow-list.
    """
    if inherit_env:
        result = dict(os.environ)
    else:
        environ = os.environ
        result = {key: environ[key] for key in DEFAULT_INHERITED_ENV if key in environ}
    if env:
        for key, value in env.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"env must map str to str, got {key!r}: {value!r}")
            result[key] = value
    return result


class _StderrTail:
    """Split stderr into lines, keep the last ones, pass each to a callback."""

    __slots__ = ("tail", "_partial", "_callback", "_lines")

    def __init__(self, lines: int, callback: Callable[[str], object] | None) -> None:
        self.tail: collections.deque[str] | tuple = ()  # a deque from the first line on
        self._lines = lines
        self._partial = b""
        self._callback = callback

    def feed(self, data: bytes) -> None:
        data = self._partial + data if self._partial else data
        end = data.rfind(b"\n")
        if end < 0:
            self._partial = data[-MAX_STDERR_LINE:] if len(data) > MAX_STDERR_LINE else data
            return
        self._partial = data[end + 1:][-MAX_STDERR_LINE:]
        if self._callback is None:
            # Only the tail is needed: cut just the last lines instead of every line.
            keep = self._lines
            start = end
            for _ in range(keep):
                start = data.rfind(b"\n", 0, start)
                if start < 0:
                    break
            lines = data[start + 1:end].split(b"\n")
        else:
            lines = data[:end].split(b"\n")
        for raw in lines:
            self._line(raw)

    def feed_eof(self) -> None:
        if self._partial:
            self._line(self._partial)
            self._partial = b""

    def _line(self, raw: bytes) -> None:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        line = raw[:MAX_STDERR_LINE].decode("utf-8", "replace")
        if not self.tail:
            self.tail = collections.deque(maxlen=self._lines)
        self.tail.append(line)  # type: ignore[union-attr]
        if self._callback is not None:
            try:
                self._callback(line)
            except Exception:  # a broken callback must not stop the drain
                logger.exception("stderr callback raised")


class _Protocol(asyncio.SubprocessProtocol):
    """asyncio callbacks: they only feed the transport."""

    def __init__(self, owner: ChildTransport) -> None:
        self._owner = owner

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            self._owner._stdout_data(data)
        else:
            self._owner._stderr.feed(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self._owner._stdout_eof()
        elif fd == 2:
            self._owner._stderr.feed_eof()
        else:
            self._owner._stdin_lost(exc)

    def process_exited(self) -> None:
        self._owner._exited()

    def pause_writing(self) -> None:
        self._owner._pause_writing()

    def resume_writing(self) -> None:
        self._owner._resume_writing()


class _Stdout(asyncio.Protocol):
    """The stdout pipe's protocol: each chunk to the transport at once, the end to asyncio.

    ``inner`` is the protocol asyncio's subprocess transport gave the pipe; it still learns
    of the pipe's end (and then tells the subprocess protocol, in order, through its
    ``pipe_connection_lost``), so that only the data path is shortened. Chunks read before
    this protocol was set were scheduled by asyncio before any chunk it reads, so order holds.
    """

    __slots__ = ("_owner", "_inner")

    def __init__(self, owner: ChildTransport, inner: asyncio.BaseProtocol) -> None:
        self._owner = owner
        self._inner = inner

    def data_received(self, data: bytes) -> None:
        self._owner._stdout_data(data)

    def eof_received(self) -> bool | None:
        return None  # the pipe transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)


def _read_stdout_directly(transport: asyncio.SubprocessTransport, owner: ChildTransport) -> None:
    """Set :class:`_Stdout` on the child's stdout pipe when it is asyncio's own (else leave it)."""
    pipe = transport.get_pipe_transport(1)
    if pipe is None:
        return
    inner = pipe.get_protocol()
    if type(inner) is asyncio.base_subprocess.ReadSubprocessPipeProto:
        pipe.set_protocol(_Stdout(owner, inner))


class ChildTransport:
    """One server process and its pipes.

    Args:
        command: argv list; ``command[0]`` is looked up on the child's ``PATH``.
        on_data: called with each chunk read from stdout.
        on_lost: called once, as ``on_lost(returncode, reason)``, when no more data can
            flow: ``returncode`` is the exit status (``None`` if the child still runs) and
            ``reason`` says why when the child still runs (it closed its stdin, or its
            stdout). :attr:`stderr_tail` is complete by then.
        env: see :func:`build_env`.
        inherit_env: see :func:`build_env`.
        cwd: working directory of the child.
        on_stderr: called with each line of stderr (decoded leniently); optional.
        stderr_tail_lines: how many stderr lines to keep for error messages.
        queue_size: bound of the outbound queue (see :class:`~mcp_stdio.outbound.Outbound`).
    """

    __slots__ = (
        "command", "_on_data", "_on_lost", "_env", "_cwd", "_stderr", "outbound", "_transport", "_stdin",
        "_exit", "_stdout_done", "_stdin_done", "_stdin_closed", "_lost_reported", "_grace", "_lost_reason",
        "pid", "bytes_read", "__weakref__",
    )

    def __init__(
        self,
        command: list[str],
        on_data: Callable[[bytes], object],
        on_lost: Callable[[int | None, str | None], object],
        *,
        env: dict[str, str] | None = None,
        inherit_env: bool = False,
        cwd: str | os.PathLike | None = None,
        on_stderr: Callable[[str], object] | None = None,
        stderr_tail_lines: int = DEFAULT_STDERR_TAIL_LINES,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        if isinstance(command, (str, bytes)):
            raise TypeError(
                "command must be an argv list such as ['python', 'server.py'], not a string: "
                "mcp_stdio never runs a shell; use shlex.split() to split a command line"
            )
        if not all(isinstance(part, str) for part in command):
            command = [os.fspath(part) for part in command]
        if not command or not command[0]:
            raise ValueError("command must name a program")
        self.command = command
        self._on_data = on_data
        self._on_lost = on_lost
        self._env: dict[str, str] | None = build_env(env, inherit_env)
        self._cwd = cwd
        self._stderr = _StderrTail(stderr_tail_lines, on_stderr)
        self.outbound = Outbound(queue_size)
        self._transport: asyncio.SubprocessTransport | None = None
        self._stdin: asyncio.WriteTransport | None = None
        self._exit: asyncio.Future | None = None  # done when the exit status is known (made on demand)
        self._stdout_done = False
        self._stdin_done = False  # the stdin pipe is gone
        self._stdin_closed = False  # we closed it (stop)
        self._lost_reported = False
        self._grace: asyncio.TimerHandle | None = None
        self._lost_reason: str | None = None
        self.pid: int | None = None
        self.bytes_read = 0

    # Public methods

    @property
    def stderr_tail(self) -> tuple[str, ...]:
        """Return the last lines the child wrote on stderr, oldest first."""
        return tuple(self._stderr.tail)

    @property
    def returncode(self) -> int | None:
        """Return the exit status (negative for a signal), or ``None`` while running."""
        if self._transport is None:
            return None
        return self._transport.get_returncode()

    @property
    def connected(self) -> bool:
        """Return whether data can still flow both ways."""
        return self._transport is not None and not self._lost_reported and not self.outbound.closed

    @property
    def bytes_written(self) -> int:
        """Return how many bytes were written to the child's stdin."""
        return self.outbound.bytes_written

    @property
    def queue(self) -> asyncio.Queue | None:
        """Return the outbound queue (``None`` until the pipe was first full), for inspection."""
        return self.outbound.queue

    async def start(self) -> None:
        """Start the child.

        Raises:
            SpawnError: the command cannot be run; the message names it and the reason.
        """
        try:
            transport, _ = await subprocess_exec(
                lambda: _Protocol(self),
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise SpawnError(self.command, _spawn_reason(exc, self.command[0], self._cwd)) from None
        self._transport = transport
        self._env = None  # not needed any more: a live session keeps only what it uses
        self.pid = transport.get_pid()
        self._stdin = transport.get_pipe_transport(0)  # type: ignore[assignment]
        _read_stdout_directly(transport, self)
        self.outbound.attach(self._stdin)  # type: ignore[arg-type]
        if transport.get_returncode() is not None:  # exited before we got here
            self._exited()

    def send(self, data: bytes, request_id: object = None) -> bool:
        """Write ``data`` to stdin now, or keep it in order while the pipe is full.

        Returns:
            ``False`` when the connection cannot carry it any more (the end is reported
            through ``on_lost``).
        """
        return self.outbound.send(data, request_id)

    def discard(self, request_id: object) -> bool:
        """Drop the unsent message of a request; return whether it was still unsent."""
        return self.outbound.discard(request_id)

    async def wait_room(self) -> None:
        """Wait until the outbound backlog is under the queue's bound."""
        await self.outbound.wait_room()

    async def stop(self, flush_timeout: float | None, exit_timeout: float, terminate_timeout: float) -> None:
        """Stop the child in the spec's order; bounded, never raises for a stubborn child.

        Args:
            flush_timeout: seconds for waiting messages to be written; ``None`` waits as
                long as the child keeps reading.
            exit_timeout: seconds to wait for the child to exit after stdin is closed.
            terminate_timeout: seconds to wait after SIGTERM before SIGKILL.
        """
        if self._transport is None:
            return
        if self.outbound.backlog:
            try:
                await asyncio.wait_for(self.outbound.drain(), flush_timeout)
            except asyncio.TimeoutError:
                logger.debug("pid %s: queued messages not written within %s s", self.pid, flush_timeout)
        self._close_stdin()
        if not await self._wait_exit(exit_timeout):
            self._signal_group(signal.SIGTERM)
            if not await self._wait_exit(terminate_timeout):
                self._signal_group(signal.SIGKILL)
                if not await self._wait_exit(KILL_WAIT):
                    logger.error("pid %s did not die after SIGKILL within %s s", self.pid, KILL_WAIT)
        await self._clear_group(terminate_timeout)
        self.abort()

    def abort(self) -> None:
        """Release every resource now: pipes, transport (kills a live child)."""
        self._stdin_closed = True
        self.outbound.close()
        if self._grace is not None:
            self._grace.cancel()
        if self._transport is not None:
            if self._transport.get_returncode() is None:
                self._signal_group(signal.SIGKILL)
            self._transport.close()

    # Private methods

    def _close_stdin(self) -> None:
        self._stdin_closed = True
        if self._stdin is not None and not self._stdin_done:
            self._stdin.close()  # buffered bytes are still written, then the pipe closes

    async def _wait_exit(self, timeout: float) -> bool:
        if self.returncode is not None:
            return True
        if self._exit is None:
            self._exit = asyncio.get_running_loop().create_future()
        exit_future = self._exit
        if not exit_future.done():
            try:
                await asyncio.wait_for(asyncio.shield(exit_future), timeout)
            except asyncio.TimeoutError:
                return False
        return True

    def _signal_group(self, signum: int) -> bool:
        """Signal the child's process group; return False if nobody was left in it."""
        if self.pid is None:
            return False
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - a group member changed its uid
            logger.warning("not allowed to signal process group %s", self.pid)
            return False
        logger.debug("x sent %s to process group %s", signal.Signals(signum).name, self.pid)
        return True

    async def _clear_group(self, terminate_timeout: float) -> None:
        """Stop what is left of the process group after its leader exited."""
        for signum, wait in ((signal.SIGTERM, terminate_timeout), (signal.SIGKILL, KILL_WAIT)):
            if not _group_alive(self.pid):
                return
            self._signal_group(signum)
            if await _wait_group(self.pid, wait):
                return
        logger.error("process group %s survived SIGKILL for %s s", self.pid, KILL_WAIT)

    # asyncio callbacks (through _Protocol)

    def _stdout_data(self, data: bytes) -> None:
        self.bytes_read += len(data)
        self.outbound.peer_spoke()
        self._on_data(data)

    def _stdout_eof(self) -> None:
        self._stdout_done = True
        if self.returncode is not None:
            self._report_lost()
        elif not self._lost_reported and self._grace is None:
            # Give the exit status a moment to arrive so that the error can name it.
            self._lost_reason = "the server closed its stdout"
            self._grace = asyncio.get_running_loop().call_later(EOF_GRACE, self._report_lost)

    def _exited(self) -> None:
        if self._exit is not None and not self._exit.done():
            self._exit.set_result(self.returncode)
        if self._stdout_done:
            self._report_lost()
        else:
            # stdout may still hold the last answers; a grandchild may also hold it open.
            if self._grace is not None:
                self._grace.cancel()
            self._grace = asyncio.get_running_loop().call_later(EOF_GRACE, self._report_lost)

    def _stdin_lost(self, exc: Exception | None) -> None:
        self._stdin_done = True
        self.outbound.close()  # nothing is ever written to a closed pipe
        if self._stdin_closed or self._lost_reported:
            return
        # The server closed its stdin: it will read nothing more, so no request can be
        # answered; unless it is exiting anyway (the exit status then names the end), the
        # connection is over.
        if self._grace is None:
            self._lost_reason = "the server closed its stdin (it reads no more requests)"
            self._grace = asyncio.get_running_loop().call_later(EOF_GRACE, self._report_lost)

    def _pause_writing(self) -> None:
        self.outbound.pause()

    def _resume_writing(self) -> None:
        self.outbound.resume()

    def _report_lost(self) -> None:
        if self._lost_reported:
            return
        self._lost_reported = True
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        returncode = self.returncode
        self._on_lost(returncode, None if returncode is not None else self._lost_reason)


def proc_stats() -> list[tuple[int, bytes, int, int]]:
    """Return ``(pid, state, ppid, pgrp)`` of every process, from /proc (empty without it)."""
    found: list[tuple[int, bytes, int, int]] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found.append((int(entry), fields[0], int(fields[1]), int(fields[2])))
    return found


def _group_members(pgid: int | None) -> list[int] | None:
    """Return the live (non-zombie) pids of process group ``pgid``; ``None`` without /proc."""
    if pgid is None:
        return []
    if not os.path.isdir("/proc"):  # pragma: no cover - no procfs
        return None
    return [pid for pid, state, _, pgrp in proc_stats() if pgrp == pgid and state != b"Z"]


def _group_alive(pgid: int | None) -> bool:
    """Return whether any live (non-zombie) process is in process group ``pgid``."""
    if pgid is None:
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # killpg also succeeds for zombies nobody has reaped yet (their parent died and the
    # reaper is slow, or absent in some containers); look closer where /proc allows it.
    members = _group_members(pgid)
    return True if members is None else bool(members)


async def _wait_group(pgid: int | None, timeout: float) -> bool:
    """Wait until process group ``pgid`` has no live member; return whether it has none.

    With ``os.pidfd_open`` (Linux 5.3+), each member's pidfd becomes readable when it exits:
    the wait is an event. Elsewhere the group is polled every 10 ms (no other portable way
    to learn that a process which is not our child exited).
    """
    loop = asyncio.get_running_loop()
    members = _group_members(pgid)
    pidfd_open = getattr(os, "pidfd_open", None)
    if members is None or pidfd_open is None:  # pragma: no cover - no procfs or no pidfd
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await asyncio.sleep(0.01)
            if not _group_alive(pgid):
                return True
        return not _group_alive(pgid)
    fds = []
    try:
        for pid in members:
            try:
                fds.append(pidfd_open(pid))
            except (ProcessLookupError, OSError):
                continue  # gone already
        waits = []
        for fd in fds:
            done = loop.create_future()
            loop.add_reader(fd, _set_done, done)
            waits.append(done)
        if waits:
            await asyncio.wait(waits, timeout=timeout)
    finally:
        for fd in fds:
            loop.remove_reader(fd)
            os.close(fd)
    return not _group_alive(pgid)


def _set_done(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def _spawn_reason(exc: OSError, program: str, cwd: str | os.PathLike | None) -> str:
    if isinstance(exc, FileNotFoundError):
        if cwd is not None and not os.path.isdir(os.fspath(cwd)):
            return f"working directory {cwd!r} does not exist"
        if os.sep in program:
            return "no such file"
        return "command not found on PATH"
    if isinstance(exc, PermissionError) or exc.errno == errno.EACCES:
        if os.path.isdir(program):
            return "is a directory"
        return "permission denied (not executable?)"
    if exc.errno == errno.ENOEXEC:
        return "not an executable format (missing #! line?)"
    return exc.strerror or str(exc)
