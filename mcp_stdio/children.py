"""Learning that a child exited without a thread per child, on Python 3.9 to 3.11 (opt-in).

Theory of operation
-------------------
asyncio learns that a subprocess exited from the *child watcher* of the event loop policy.
On Python 3.12 and later the default watcher already uses a pidfd (Linux 5.3+): the loop
polls one descriptor per child, no thread. On 3.9 to 3.11 the default is
``ThreadedChildWatcher``: one thread blocked in ``waitpid()`` per child, about 16 KiB of
RSS, one thread and 2 KiB of heap per held session (2,001 threads at 2,000 sessions).

mcp_stdio spawns its servers through asyncio's subprocess support (the design card), and on
3.9 to 3.11 that support asks the *policy* for its watcher: the only thread-free path that
leaves the policy alone would be to build asyncio's private subprocess transport ourselves,
which we do not do. So the library never changes the watcher by itself; an application that
wants the saving calls :func:`use_pidfd_child_watcher` once, at start-up, and makes the choice
for its whole process.

The watcher installed, :class:`PidfdChildWatcher`, differs from asyncio's own
``PidfdChildWatcher`` of 3.9 to 3.11 in one way that matters here: it watches each child
from the loop that spawned it (the running loop at spawn time, through the public
``add_reader``), not from one loop attached in advance, so the synchronous client's
background loop and the application's loop can both spawn. That is how 3.12's watcher works.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any, Callable

__all__ = ["PidfdChildWatcher", "pidfd_supported", "use_pidfd_child_watcher"]

logger = logging.getLogger("mcp_stdio.children")


def pidfd_supported() -> bool:
    """Return True if this platform can watch children through pidfds (Linux 5.3 and later)."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return False
    try:
        os.close(pidfd_open(os.getpid()))
    except OSError:  # ENOSYS on an old kernel, EPERM under some sandboxes
        return False
    return True


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
