"""A synchronous client, for scripts, notebooks and code that is not async.

::

    import mcp_stdio.sync

    with mcp_stdio.sync.connect(["python", "-m", "mcp_stdio.server"]) as client:
        print(client.list_tools())
        print(client.call_tool("echo", {"text": "hi"}))

Every method of :class:`mcp_stdio.Client` is here with the same name and arguments,
blocking until done. The clients of this module share one private event loop, run by a
daemon thread started on first use and stopped when the last client closes; callbacks
(``message_handler``, ``sampling_callback`` and the others) run in that thread. Closing a
client, or the end of the interpreter (an ``atexit`` hook closes whatever is still open),
leaves no child process behind.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
from typing import Any

from . import client as _client

__all__ = ["Client", "connect"]

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_live: weakref.WeakSet = weakref.WeakSet()


def _event_loop() -> asyncio.AbstractEventLoop:
    """Return the shared loop, starting its thread on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="mcp_stdio.sync", daemon=True)
            thread.start()
            _loop, _thread = loop, thread
        return _loop


def _stop_loop() -> None:
    """Stop and close the shared loop (when no sync client is left), freeing its fds."""
    global _loop, _thread
    with _lock:
        loop, thread, _loop, _thread = _loop, _thread, None, None
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)
        loop.close()


def _run(coro: Any, timeout: float | None = None) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, _event_loop()).result(timeout)


@atexit.register
def _close_all() -> None:
    """Close every sync client still open, then stop the shared loop."""
    for client in list(_live):
        try:
            client.close()
        except Exception as exc:  # at exit, report and go on closing the others
            import sys

            print(f"mcp_stdio.sync: closing {client!r} at exit failed: {exc}", file=sys.stderr)
    _stop_loop()


def connect(command: list[str], **options: Any) -> Client:
    """Return a synchronous :class:`Client`; it starts in ``with`` (or ``start()``)."""
    return Client(command, **options)


def _blocking(name: str) -> Any:
    method = getattr(_client.Client, name)

    def call(self: Client, *args: Any, **kwargs: Any) -> Any:
        return _run(getattr(self._client, name)(*args, **kwargs))

    call.__name__ = name
    call.__doc__ = f"Blocking version of :meth:`mcp_stdio.Client.{name}`.\n\n{method.__doc__ or ''}"
    return call


class Client:
    """A blocking wrapper of :class:`mcp_stdio.Client` (same arguments)."""

    def __init__(self, command: list[str], **options: Any) -> None:
        self._client = _client.Client(command, **options)

    def __enter__(self) -> Client:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Spawn the server and run the handshake (see :meth:`mcp_stdio.Client.start`)."""
        _live.add(self)
        _run(self._client.start())

    def close(self) -> None:
        """Stop the server (see :meth:`mcp_stdio.Client.close`)."""
        if self._client.state.value != "new":
            _run(self._client.close())
        _live.discard(self)
        if not _live:
            _stop_loop()

    def stats(self) -> dict:
        """Return the client's counters (see :meth:`mcp_stdio.Client.stats`)."""
        return self._client.stats()

    def __getattr__(self, name: str) -> Any:
        # Properties (server_info, pid, stderr_tail...) read through to the async client.
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"<mcp_stdio.sync.Client {self._client.command!r} {self._client.state.value}>"


for _name in ("request", "notify", "ping", "list_tools", "call_tool", "list_resources", "list_resource_templates",
              "read_resource", "subscribe_resource", "unsubscribe_resource", "list_prompts", "get_prompt",
              "complete", "set_logging_level", "set_roots", "send_roots_list_changed", "get_task",
              "get_task_result", "list_tasks", "cancel_task"):
    setattr(Client, _name, _blocking(_name))
del _name
