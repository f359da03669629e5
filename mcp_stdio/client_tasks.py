"""Tasks on the client side (MCP 2025-11-25, basic/utilities/tasks, experimental).

When the client declares ``tasks.requests.sampling.createMessage`` (or
``elicitation.create``), a server may send such a request with a ``task`` parameter: the
client then answers at once with a ``CreateTaskResult``, runs the user's callback in the
background, and answers the server's ``tasks/get``, ``tasks/result``, ``tasks/list`` and
``tasks/cancel`` about it. :class:`ClientTasks` keeps that state for one client.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable
from typing import Any, Callable

from .errors import INVALID_PARAMS, RemoteError

__all__ = ["ClientTasks", "TASK_METHODS"]

# The requests of the server that this client accepts as tasks, by method.
TASK_METHODS = {"sampling/createMessage": ("sampling", "createMessage"),
                "elicitation/create": ("elicitation", "create")}

_FINAL = ("completed", "failed", "cancelled")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ClientTasks:
    """The tasks a server started on this client.

    Args:
        spawn: runs a coroutine in a task that the client cancels when it closes.
    """

    def __init__(self, spawn: Callable[[Any], asyncio.Task]) -> None:
        self._spawn = spawn
        self._tasks: dict[str, dict] = {}

    def create(self, handler: Callable[[dict], Awaitable[Any]], params: dict) -> dict:
        """Start ``handler(params)`` as a task; return the ``CreateTaskResult``."""
        task_id = os.urandom(8).hex()
        now = _now()
        state = {"taskId": task_id, "status": "working", "createdAt": now, "lastUpdatedAt": now,
                 "ttl": (params.get("task") or {}).get("ttl")}
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        entry = {"task": state, "done": done}
        self._tasks[task_id] = entry
        inner = {key: value for key, value in params.items() if key != "task"}
        entry["runner"] = self._spawn(self._run(entry, handler, inner))
        return {"task": dict(state)}

    async def _run(self, entry: dict, handler: Callable[[dict], Awaitable[Any]], params: dict) -> None:
        try:
            result = await handler(params)
        except asyncio.CancelledError:
            self._finish(entry, "cancelled", RemoteError(INVALID_PARAMS, "the task was cancelled"))
            raise
        except Exception as exc:
            self._finish(entry, "failed", RemoteError(-32603, f"{type(exc).__name__}: {exc}"))
        else:
            self._finish(entry, "completed", result if result is not None else {})

    def _finish(self, entry: dict, status: str, outcome: Any) -> None:
        if entry["task"]["status"] in _FINAL:
            return
        entry["task"]["status"] = status
        entry["task"]["lastUpdatedAt"] = _now()
        if not entry["done"].done():
            entry["done"].set_result(outcome)

    def _entry(self, params: dict) -> dict:
        entry = self._tasks.get(params.get("taskId"))  # type: ignore[arg-type]
        if entry is None:
            raise RemoteError(INVALID_PARAMS, f"Unknown task: {params.get('taskId')!r}")
        return entry

    async def get(self, params: dict) -> dict:
        """Answer ``tasks/get``."""
        return dict(self._entry(params)["task"])

    async def result(self, params: dict) -> dict:
        """Answer ``tasks/result``: wait for the task, then give its result (or its error)."""
        entry = self._entry(params)
        outcome = await asyncio.shield(entry["done"])
        if isinstance(outcome, RemoteError):
            raise outcome
        result = dict(outcome)
        result["_meta"] = dict(result.get("_meta") or {},
                               **{"io.modelcontextprotocol/related-task": {"taskId": entry["task"]["taskId"]}})
        return result

    async def list(self, params: dict) -> dict:
        """Answer ``tasks/list`` (one page: a client holds few tasks)."""
        return {"tasks": [dict(entry["task"]) for entry in self._tasks.values()]}

    async def cancel(self, params: dict) -> dict:
        """Answer ``tasks/cancel``."""
        entry = self._entry(params)
        if entry["task"]["status"] in _FINAL:
            raise RemoteError(INVALID_PARAMS, f"task {entry['task']['taskId']} is already {entry['task']['status']}")
        entry["runner"].cancel()
        self._finish(entry, "cancelled", RemoteError(INVALID_PARAMS, "the task was cancelled"))
        return dict(entry["task"])
