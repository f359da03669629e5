"""Learning that a child exited without a thread per child, on Python 3.9 to 3.11.

Theory of operation
-------------------
asyncio learns that a subprocess exited from a *child watcher*. On Python 3.12 and later the
loop uses a pidfd (Linux 5.3+) by itself: it polls one descriptor per child, no thread. On
3.9 to 3.11, ``loop.subprocess_exec`` asks the event-loop *policy* for its watcher, by
default ``ThreadedChildWatcher``: one thread blocked in ``waitpid()`` per child, about 16 KiB
of RSS and 2 KiB of heap per held session (2,001 threads at 2,000 sessions).

:func:`subprocess_exec` is how mcp_stdio spawns every server. It is asyncio's subprocess
support all the same (asyncio's Unix subprocess transport, asyncio's process protocol, the
loop's own exit callback); what it changes, on 3.9 to 3.11 only, is the watcher that *our*
children are registered with, the way 3.12's loop does it: when the policy still has the
default thread-per-child watcher, the loop is asyncio's Unix selector loop and pidfds work,
each child is registered with one shared :class:`PidfdChildWatcher` instead. The
application's policy and its watcher are left untouched, so its own subprocesses behave as
before; an application that chose another watcher (or another loop, such as uvloop) keeps
it for our children too, through ``loop.subprocess_exec``. Elsewhere (no pidfds, 3.12+)
it is ``loop.subprocess_exec`` unchanged.

This uses one private name of asyncio 3.9 to 3.11, ``unix_events._UnixSubprocessTransport``
(stable over those versions, whose ``_make_subprocess_transport`` bodies are identical); if it
is missing the function falls back to ``loop.subprocess_exec``.

:func:`use_pidfd_child_watcher` remains for applications that want the same for *their own*
subprocesses: it installs :class:`PidfdChildWatcher` as the policy's watcher, a process-wide
choice the library never makes by itself.

:class:`PidfdChildWatcher` differs from asyncio's own ``PidfdChildWatcher`` of 3.9 to 3.11 in
one way that matters here: it watches each child from the loop that spawned it (the running
loop at spawn time, through the public ``add_reader``), not from one loop attached in advance,
so the synchronous client's background loop and the application's loop can both spawn. That is
how 3.12's watcher works.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import Any, Callable

# asyncio's Unix loop and subprocess transport (used below on 3.9 to 3.11 only); None on
# Windows or in an asyncio without them.
_unix_events: Any = getattr(asyncio, "unix_events", None)
_UnixSelectorEventLoop: Any = getattr(_unix_events, "_UnixSelectorEventLoop", None)
_UnixSubprocessTransport: Any = getattr(_unix_events, "_UnixSubprocessTransport", None)

__all__ = ["PidfdChildWatcher", "pidfd_supported", "subprocess_exec", "use_pidfd_child_watcher"]

logger = logging.getLogger("mcp_stdio.children")


_pidfd_works: bool | None = None


def pidfd_supported() -> bool:
    """Return True if this platform can watch children through pidfds (Linux 5.3 and later)."""
    global _pidfd_works
    if _pidfd_works is None:
        pidfd_open = getattr(os, "pidfd_open", None)
        if pidfd_open is None:
            _pidfd_works = False
        else:
            try:
                os.close(pidfd_open(os.getpid()))
            except OSError:  # ENOSYS on an old kernel, EPERM under some sandboxes
                _pidfd_works = False
            else:
                _pidfd_works = True
    return _pidfd_works


class PidfdChildWatcher(asyncio.AbstractChildWatcher if sys.version_info < (3, 12) else object):  # type: ignore[misc]
    """A child watcher with one pidfd per child, read by the loop that spawned the child.

    Implements asyncio's ``AbstractChildWatcher`` interface for Python 3.9 to 3.11; install
    it with :func:`use_pidfd_child_watcher`, not by hand. The exit status is read through
    the pidfd itself (``waitid(P_PIDFD)``), so a reused pid can never be mistaken for the
    child. Children whose loop was closed while they ran are waited for by a thread each
    (as asyncio's default watcher does), found at the next spawn.
    """

    def __init__(self) -> None:
        # loop -> {pid: (pidfd, callback, args)}
        self._loops: dict[asyncio.AbstractEventLoop, dict[int, tuple[int, Callable[..., Any], tuple[Any, ...]]]] = {}

    def add_child_handler(self, pid: int, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback(pid, returncode, *args)`` once the child ``pid`` has exited.

        Raises:
            OSError: no pidfd could be opened for ``pid`` (for example no file descriptor
                left); nothing is registered then.
        """
        loop = asyncio.get_running_loop()
        self._adopt_orphans()
        self.remove_child_handler(pid)  # a handler already there is replaced
        pidfd = os.pidfd_open(pid)  # type: ignore[attr-defined]
        self._loops.setdefault(loop, {})[pid] = (pidfd, callback, args)
        loop.add_reader(pidfd, self._reap, loop, pid)

    def remove_child_handler(self, pid: int) -> bool:
        """Stop watching ``pid``; return False if it was not watched."""
        for loop, children in self._loops.items():
            known = children.pop(pid, None)
            if known is not None:
                if not loop.is_closed():
                    loop.remove_reader(known[0])
                os.close(known[0])
                return True
        return False

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Nothing to do: each child is watched from the loop that spawned it."""

    def is_active(self) -> bool:
        """Always ready: there is no loop to attach first."""
        return True

    def close(self) -> None:
        """Stop watching every child (their exit statuses are then never reported)."""
        for children in list(self._loops.values()):
            for pid in list(children):
                self.remove_child_handler(pid)
        self._loops.clear()

    def __enter__(self) -> PidfdChildWatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _reap(self, loop: asyncio.AbstractEventLoop, pid: int) -> None:
        pidfd, callback, args = self._loops[loop].pop(pid)
        loop.remove_reader(pidfd)
        try:
            returncode = _exit_status(pid, pidfd)  # readable pidfd: the child has exited, no wait
        finally:
            os.close(pidfd)
        callback(pid, returncode, *args)

    def _adopt_orphans(self) -> None:
        """Children of loops closed while they ran: reap each from a thread (no zombie)."""
        for loop in [loop for loop in self._loops if loop.is_closed()]:
            for pid, (pidfd, _, _) in self._loops.pop(loop).items():
                logger.warning("the loop of child %d was closed while it ran: it is reaped in a thread", pid)
                threading.Thread(target=_reap_orphan, args=(pid, pidfd), daemon=True,
                                 name=f"mcp_stdio-reap-{pid}").start()

    def _forget_after_fork(self) -> None:
        """In a forked child: the pidfds are the parent's children's; close them, forget all."""
        for children in self._loops.values():
            for pidfd, _, _ in children.values():
                try:
                    os.close(pidfd)
                except OSError:  # already closed by the application after the fork
                    continue
        self._loops.clear()


def _exit_status(pid: int, pidfd: int) -> int:
    """Reap the child ``pid`` and return its exit status as asyncio reports it (-N for
    signal N; 255 when someone else reaped it first, as asyncio does)."""
    try:
        try:
            result = os.waitid(os.P_PIDFD, pidfd, os.WEXITED)  # type: ignore[attr-defined]
        except ChildProcessError:
            raise
        except (AttributeError, OSError):  # no waitid(P_PIDFD) (Linux 5.3, or no os.P_PIDFD)
            result = None
        if result is None:  # then by pid
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        logger.warning("the exit status of child %d was already read: reporting 255", pid)
        return 255
    return result.si_status if result.si_code == os.CLD_EXITED else -result.si_status


def _reap_orphan(pid: int, pidfd: int) -> None:
    try:
        _exit_status(pid, pidfd)
    finally:
        os.close(pidfd)


def use_pidfd_child_watcher() -> bool:
    """Watch asyncio's children with pidfds instead of one thread each (Python 3.9 to 3.11).

    Call once at start-up, before spawning, from the main thread. It replaces the child
    watcher of the current event loop policy, a process-wide choice, which is why the
    library never does it by itself. Returns True if children are now watched without
    threads: always on 3.12 and later where pidfds work (asyncio does it already, nothing is
    changed), True after installing :class:`PidfdChildWatcher` on 3.9 to 3.11, and False
    where pidfds are not available (the platform's default watcher stays).
    """
    if not pidfd_supported():
        return False
    if sys.version_info >= (3, 12):
        return True
    policy = asyncio.get_event_loop_policy()
    if isinstance(policy.get_child_watcher(), PidfdChildWatcher):
        return True
    policy.set_child_watcher(PidfdChildWatcher())
    return True


# The watcher of every child spawned by subprocess_exec on 3.9 to 3.11 (it holds no loop).
_watcher: PidfdChildWatcher | None = None


def _watcher_for(loop: asyncio.AbstractEventLoop) -> PidfdChildWatcher | None:
    """The pidfd watcher to register our child with, or None to let asyncio choose."""
    global _watcher
    if sys.version_info >= (3, 12) or _UnixSubprocessTransport is None or _UnixSelectorEventLoop is None \
            or not pidfd_supported():
        return None
    if not isinstance(loop, _UnixSelectorEventLoop):  # uvloop and others watch children their own way
        return None
    current = asyncio.get_event_loop_policy().get_child_watcher()
    if isinstance(current, PidfdChildWatcher):
        return current  # the application opted in with use_pidfd_child_watcher()
    if type(current) is not asyncio.ThreadedChildWatcher:
        return None  # the application chose its watcher: respect it for our children too
    if _watcher is None:
        _watcher = PidfdChildWatcher()
    return _watcher


async def subprocess_exec(protocol_factory: Callable[[], asyncio.SubprocessProtocol], program: str, *args: str,
                          **kwargs: Any) -> tuple[asyncio.SubprocessTransport, asyncio.SubprocessProtocol]:
    """``loop.subprocess_exec`` of the running loop, without a thread per child on 3.9 to 3.11.

    Takes the arguments of ``loop.subprocess_exec`` (bytes pipes, no shell) and returns the
    same ``(transport, protocol)``. See the module's documentation for when a pidfd watcher
    is used and when asyncio's own path is taken.

    Raises:
        OSError: the program cannot be run (as ``loop.subprocess_exec``).
    """
    loop = asyncio.get_running_loop()
    watcher = _watcher_for(loop)
    if watcher is None:
        return await loop.subprocess_exec(protocol_factory, program, *args, **kwargs)
    stdin = kwargs.pop("stdin", asyncio.subprocess.PIPE)
    stdout = kwargs.pop("stdout", asyncio.subprocess.PIPE)
    stderr = kwargs.pop("stderr", asyncio.subprocess.PIPE)
    protocol = protocol_factory()
    # What asyncio 3.9-3.11's _UnixSelectorEventLoop._make_subprocess_transport does, with
    # our watcher in place of the policy's (3.12's loop makes the same choice by itself).
    waiter = loop.create_future()
    transport = _UnixSubprocessTransport(loop, protocol, (program, *args), False, stdin, stdout, stderr, 0,
                                         waiter=waiter, extra=None, **kwargs)
    pid = transport.get_pid()
    try:
        try:
            watcher.add_child_handler(pid, loop._child_watcher_callback, transport)  # type: ignore[attr-defined]
        except OSError as exc:  # no pidfd (no fd left, say): asyncio's own watcher, a thread
            logger.warning("cannot watch child %d with a pidfd (%s): using asyncio's child watcher", pid, exc)
            asyncio.get_event_loop_policy().get_child_watcher().add_child_handler(
                pid, loop._child_watcher_callback, transport)  # type: ignore[attr-defined]
    except BaseException:
        # Nobody would report its exit: kill and reap it here, never leave it running.
        transport.close()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # reaped already (asyncio's Popen.poll() in close())
        raise
    try:
        await waiter
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        transport.close()
        await transport._wait()
        raise
    return transport, protocol


def _after_fork_in_child() -> None:
    global _watcher
    if _watcher is not None:
        _watcher._forget_after_fork()
        _watcher = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
