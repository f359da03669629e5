"""The server's task-augmented requests to the client (MCP 2025-11-25, basic/utilities/tasks).

When the client declares ``tasks.requests.sampling.createMessage`` (or
``elicitation.create``), a server may send such a request with a ``task`` parameter: the
client answers at once with a ``CreateTaskResult``, runs the callback in the background,
and answers the server's ``tasks/get``, ``tasks/result``, ``tasks/list`` and
``tasks/cancel`` about it. The states live in a :class:`~mcp_stdio.tasks.TaskStore`
(shared with the server side); this module runs the work and lets ``tasks/result`` wait.
"""

from __future__ import annotations

import asyncio
import logging

from .errors import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, LocalProtocolError, RequestError, jsonrpc_error
from .tasks import TaskStore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from .events import CancelRequested, RequestReceived

__all__ = ["ClientTasks", "TASK_REQUESTS"]

logger = logging.getLogger("mcp_stdio.client")

# The server's requests about the tasks it started on this client.
TASK_REQUESTS = ("tasks/get", "tasks/result", "tasks/list", "tasks/cancel")


class ClientTasks:
    """The tasks a server started on one client.

    Args:
        connection: the client's connection (its session, transport, and the client's
            callbacks).
        spawn: runs a coroutine in a task that the client cancels when it closes.
    """

    # The requests a server may send as tasks.
    METHODS = ("sampling/createMessage", "elicitation/create")

    __slots__ = ("_connection", "_spawn", "store", "_runs", "_waiters")

    def __init__(self, connection: Any, spawn: Callable[[Any], asyncio.Task]) -> None:
        self._connection = connection
        self._spawn = spawn
        self.store = TaskStore()
        self._runs: dict[str, asyncio.Task] = {}
        self._waiters: dict[str, asyncio.Future] = {}

    def received(self, event: RequestReceived) -> None:
        """Handle a task-augmented request or a ``tasks/*`` request of the server."""
        method = event.method
        if method in TASK_REQUESTS:
            if method == "tasks/result":
                self._spawn(self._result(event))
                return
            try:
                if method == "tasks/get":
                    result: Any = self.store.get(event.params.get("taskId"))
                elif method == "tasks/list":
                    result = {"tasks": self.store.list()}
                else:
                    task_id = event.params.get("taskId")
                    result = self.store.cancel(task_id)
                    run = self._runs.get(task_id)  # type: ignore[arg-type]
                    if run is not None:
                        run.cancel()
                    self._settled(task_id)  # type: ignore[arg-type]
            except RequestError as exc:
                self._send_error(event, exc)
                return
            self._send_result(event, result)
            return
        if not self._connection.client.callbacks.handles(method):
            self._send_error(event, RequestError(METHOD_NOT_FOUND, f"Method not found: {method}"))
            return
        try:
            state = self.store.create(event.params["task"].get("ttl"))
        except RequestError as exc:
            self._send_error(event, exc)
            return
        self._send_result(event, {"task": state})
        params = {key: value for key, value in event.params.items() if key != "task"}
        self._runs[state["taskId"]] = self._spawn(self._run(state["taskId"], method, params, event.version))

    def cancelled(self, event: CancelRequested) -> None:
        """The server cancelled one of its requests: nothing to do for tasks (they live on
        until ``tasks/cancel``); kept for symmetry with the request handlers."""

    async def _run(self, task_id: str, method: str, params: dict, version: str | None) -> None:
        try:
            result = await self._connection.client.callbacks.answer(method, params, version)
        except asyncio.CancelledError:
            self.store.finish(task_id, "cancelled", RequestError(INVALID_PARAMS, "the task was cancelled"))
            raise
        except Exception as exc:
            code, message, data = jsonrpc_error(exc)
            self.store.finish(task_id, "failed", RequestError(code, message, data))
        else:
            self.store.finish(task_id, "completed", result)
        finally:
            self._runs.pop(task_id, None)
            self._settled(task_id)

    async def _result(self, event: RequestReceived) -> None:
        task_id = event.params.get("taskId")
        try:
            status, outcome = self.store.outcome(task_id)
            if outcome is None:
                waiter = self._waiters.get(task_id)  # type: ignore[arg-type]
                if waiter is None:
                    waiter = self._waiters[task_id] = asyncio.get_running_loop().create_future()  # type: ignore
                await asyncio.shield(waiter)
            result = self.store.result(task_id)
        except RequestError as exc:
            self._send_error(event, exc)
            return
        self._send_result(event, result)

    def _settled(self, task_id: str) -> None:
        waiter = self._waiters.pop(task_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _send_result(self, event: RequestReceived, result: Any) -> None:
        session, transport = self._connection.session, self._connection.transport
        try:
            data = session.send_result(event.id, result)
        except LocalProtocolError as exc:
            logger.warning("the answer to the server's %s is invalid, not sent: %s", event.method, exc)
            data = session.send_error(event.id, INTERNAL_ERROR, f"invalid {event.method} result")
        if data and transport is not None:
            transport.send(data)

    def _send_error(self, event: RequestReceived, error: RequestError) -> None:
        transport = self._connection.transport
        data = self._connection.session.send_error(event.id, error.code, error.message, error.data)
        if data and transport is not None:
            transport.send(data)
