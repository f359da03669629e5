"""Tasks (MCP 2025-11-25, basic/utilities/tasks, experimental): one store for both roles
(sans-I/O).

A receiver that accepts a task-augmented request answers at once with a
``CreateTaskResult``, does the work in the background, and answers ``tasks/get``,
``tasks/result``, ``tasks/list`` and ``tasks/cancel`` about it. A client does this for the
sampling and elicitation requests of a server; a server for ``tools/call``. Both keep their
tasks in a :class:`TaskStore`: states and their transitions, expiry by ``ttl``, a bound on
how many are kept. The asyncio side only runs the work and waits.

Rules applied (basic/utilities/tasks): a task starts ``working``; its terminal states are
``completed``, ``failed`` and ``cancelled``, and a terminal task never changes again;
"Receivers MAY delete a task and its results after the ttl has elapsed" (a finished task
past its ttl is unknown from then on, to every read, not only after the next creation;
a working one is kept until it finishes); ``tasks/cancel``
of a terminal task is an error (-32602); an unknown ``taskId`` is -32602.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from .errors import INVALID_PARAMS, RequestError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TaskStore", "TERMINAL", "DEFAULT_MAX_TASKS", "DEFAULT_TTL_MS", "RELATED_TASK"]

# MCP 2025-11-25, basic/utilities/tasks: the _meta key that ties a result to its task.
RELATED_TASK = "io.modelcontextprotocol/related-task"
TERMINAL = ("completed", "failed", "cancelled")
# Tasks kept at most; beyond, the oldest finished ones go first, and a new task is refused
# when all of them are still working.
DEFAULT_MAX_TASKS = 1000
# How long a finished task is kept when the requester gave no ttl (milliseconds).
DEFAULT_TTL_MS = 60 * 60 * 1000


class _Task:
    __slots__ = ("state", "created", "expires", "outcome")

    def __init__(self, state: dict, created: float, expires: float) -> None:
        self.state = state
        self.created = created
        self.expires = expires
        self.outcome: Any = None  # the result (a dict) or a RequestError, once terminal


class TaskStore:
    """The tasks of one side of a connection.

    Args:
        max_tasks: tasks kept at most.
    """

    __slots__ = ("max_tasks", "_tasks")

    def __init__(self, max_tasks: int = DEFAULT_MAX_TASKS) -> None:
        self.max_tasks = max_tasks
        self._tasks: OrderedDict[str, _Task] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tasks)

    def create(self, ttl: Any, now: float | None = None) -> dict:
        """Start a task; return its state (a copy, as a ``CreateTaskResult``'s ``task``).

        Args:
            ttl: the requested ``ttl`` in milliseconds (an int), or ``None``.
            now: the wall-clock time in seconds (default: now).

        Raises:
            RequestError: too many tasks are still working.
        """
        now = time.time() if now is None else now
        self.prune(now)
        if len(self._tasks) >= self.max_tasks:
            raise RequestError(INVALID_PARAMS, f"too many tasks at once (limit {self.max_tasks})")
        ttl_ms = ttl if type(ttl) is int and ttl > 0 else DEFAULT_TTL_MS
        stamp = _iso(now)
        import secrets  # on first use: it imports hashlib, hmac and random, 2 ms of a server's start

        task_id = secrets.token_hex(12)
        state = {"taskId": task_id, "status": "working", "createdAt": stamp, "lastUpdatedAt": stamp, "ttl": ttl_ms}
        self._tasks[task_id] = _Task(state, now, now + ttl_ms / 1000)
        return dict(state)

    def finish(self, task_id: str, status: str, outcome: Any, now: float | None = None) -> bool:
        """Move a working task to a terminal ``status`` with its ``outcome``; return whether
        it moved (a terminal task never changes)."""
        task = self._tasks.get(task_id)
        if task is None or task.state["status"] in TERMINAL:
            return False
        task.state["status"] = status
        task.state["lastUpdatedAt"] = _iso(time.time() if now is None else now)
        task.outcome = outcome
        return True

    def get(self, task_id: Any) -> dict:
        """Return a copy of a task's state (``tasks/get``).

        Raises:
            RequestError: unknown task (-32602).
        """
        return dict(self._task(task_id).state)

    def outcome(self, task_id: Any) -> tuple[str, Any]:
        """Return ``(status, outcome)``: the outcome is ``None`` while the task works."""
        task = self._task(task_id)
        return task.state["status"], task.outcome

    def result(self, task_id: Any) -> dict:
        """Return the result of a terminal task, tied to it in ``_meta`` (``tasks/result``).

        Raises:
            RequestError: unknown task, or the error the task ended with.
        """
        task = self._task(task_id)
        if isinstance(task.outcome, RequestError):
            raise task.outcome
        result = dict(task.outcome or {})
        meta = result.get("_meta")
        result["_meta"] = dict(meta if type(meta) is dict else {}, **{RELATED_TASK: {"taskId": task_id}})
        return result

    def list(self, now: float | None = None) -> list[dict]:
        """Return copies of every task's state (``tasks/list``; one page), expired ones dropped."""
        self.prune(now)
        return [dict(task.state) for task in self._tasks.values()]

    def cancel(self, task_id: Any, now: float | None = None) -> dict:
        """Cancel a working task (``tasks/cancel``); return its new state.

        Raises:
            RequestError: unknown task, or a terminal one (-32602).
        """
        task = self._task(task_id)
        if task.state["status"] in TERMINAL:
            raise RequestError(INVALID_PARAMS, f"task {task_id} is already {task.state['status']}")
        self.finish(task_id, "cancelled", RequestError(INVALID_PARAMS, "the task was cancelled"), now)
        return dict(task.state)

    def prune(self, now: float | None = None) -> None:
        """Drop the finished tasks whose ttl elapsed, then the oldest finished ones beyond
        the bound."""
        now = time.time() if now is None else now
        tasks = self._tasks
        for task_id in [key for key, task in tasks.items()
                        if task.expires <= now and task.state["status"] in TERMINAL]:
            del tasks[task_id]
        if len(tasks) >= self.max_tasks:
            for task_id in [key for key, task in tasks.items() if task.state["status"] in TERMINAL]:
                del tasks[task_id]
                if len(tasks) < self.max_tasks:
                    break

    def _task(self, task_id: Any) -> _Task:
        task = self._tasks.get(task_id) if type(task_id) is str else None
        if task is not None and task.state["status"] in TERMINAL and task.expires <= time.time():
            del self._tasks[task_id]  # its ttl elapsed: deleted, as the spec allows
            task = None
        if task is None:
            raise RequestError(INVALID_PARAMS, f"Unknown task: {str(task_id)[:80]!r}")
        return task


def _iso(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
