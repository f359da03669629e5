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
    it with :func:`use_pidfd_child_watcher`, not by hand.
    """

    def __init__(self) -> None:
        # pid -> (pidfd, loop, callback, args)
        self._watched: dict[int, tuple[int, asyncio.AbstractEventLoop, Callable[..., Any], tuple[Any, ...]]] = {}

    def add_child_handler(self, pid: int, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback(pid, returncode, *args)`` once the child ``pid`` has exited."""
        loop = asyncio.get_running_loop()
        known = self._watched.get(pid)
        if known is not None:
            self._watched[pid] = (known[0], known[1], callback, args)
            return
        pidfd = os.pidfd_open(pid)  # type: ignore[attr-defined]
        self._watched[pid] = (pidfd, loop, callback, args)
        loop.add_reader(pidfd, self._reap, pid)

    def remove_child_handler(self, pid: int) -> bool:
        """Stop watching ``pid``; return False if it was not watched."""
        known = self._watched.pop(pid, None)
        if known is None:
            return False
        pidfd, loop, _, _ = known
        if not loop.is_closed():
            loop.remove_reader(pidfd)
        os.close(pidfd)
        return True

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Nothing to do: each child is watched from the loop that spawned it."""

    def is_active(self) -> bool:
        """Always ready: there is no loop to attach first."""
        return True

    def close(self) -> None:
        """Stop watching every child (their exit statuses are then never reported)."""
        for pid in list(self._watched):
            self.remove_child_handler(pid)

    def __enter__(self) -> PidfdChildWatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _reap(self, pid: int) -> None:
        pidfd, loop, callback, args = self._watched.pop(pid)
        loop.remove_reader(pidfd)
        os.close(pidfd)
        try:
            _, status = os.waitpid(pid, 0)  # readable pidfd: the child has exited, no wait
        except ChildProcessError:  # reaped by someone else: asyncio reports 255 in this case too
            logger.warning("the exit status of child %d was already read: reporting 255", pid)
            returncode = 255
        else:
            returncode = os.waitstatus_to_exitcode(status)
        callback(pid, returncode, *args)


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
    watcher.add_child_handler(transport.get_pid(), loop._child_watcher_callback, transport)  # type: ignore[attr-defined]
    try:
        await waiter
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        transport.close()
        await transport._wait()
        raise
    return transport, protocol
