"""What both targets share: findings, and the monitor of the event loop and the logs.

The :class:`Monitor` watches one event loop while a target runs:

* a ticker task sleeps 10 ms in a loop and records how late it wakes up: a stall of the
  loop longer than :data:`MAX_LAG` while the loop's thread was busy (its CPU time grew by
  at least half the stall, so that a descheduled process on a loaded machine is not
  blamed; an idle stall counts beyond :data:`IDLE_STALL`) is a finding; the fuzzer's own
  work (its garbage collections between iterations, :meth:`Monitor.collect`, and the
  writing of huge messages, :meth:`Monitor.pause`) is not counted;
* the loop's exception handler records everything it is given (an exception in a
  callback, a task whose exception was never retrieved);
* ``sys.unraisablehook`` records exceptions raised where nobody can catch them
  (``__del__``, a coroutine never awaited);
* a logging handler on the ``mcp_stdio`` logger records every record that carries a
  traceback (the library logs its own bugs with ``logger.exception``) and every message
  that a session refused because its checks raised ("internal error while checking").
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import time
from typing import Any

__all__ = ["Finding", "Monitor", "MAX_LAG", "brief", "NonStandard", "strict_json", "scrub", "id_key"]

# Seconds the event loop may be blocked at most (issue 11: "the loop never stalls more
# than 100 ms").
MAX_LAG = 0.1
TICK = 0.01
# Seconds of a stall during which the loop's thread was mostly idle (a blocking call, or
# the machine busy elsewhere) beyond which it is a finding all the same.
IDLE_STALL = 0.5


class NonStandard(ValueError):
    """NaN, an infinity or a number beyond a double: not RFC 8259 JSON."""


def _refuse(name: str) -> Any:
    raise NonStandard(name)


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0.0:
        raise NonStandard(text)
    return value


def strict_json(line: bytes) -> Any:
    """Decode a line as mcp_stdio documents it reads one (a UTF-8 byte order mark skipped,
    RFC 8259 only); raise ValueError (:class:`NonStandard` for NaN, infinities and numbers
    beyond a double), RecursionError or UnicodeDecodeError when it cannot."""
    if line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    return json.loads(line.decode("utf-8"), parse_constant=_refuse, parse_float=_finite)


def scrub(value: Any) -> Any:
    """Return ``value`` with lone surrogates replaced by U+FFFD, as mcp_stdio reads them
    (its documented rule), in strings, keys and containers."""
    if type(value) is str:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    if type(value) is dict:
        return {scrub(key): scrub(item) for key, item in value.items()}
    if type(value) is list:
        return [scrub(item) for item in value]
    return value


def id_key(value: Any) -> tuple:
    """Return a hashable key for an id of any JSON type (1, 1.0 and True stay apart; an
    array or object, never a usable id, by its JSON text)."""
    kind = type(value).__name__
    if type(value) in (list, dict):
        try:
            return (kind, json.dumps(value, sort_keys=True, ensure_ascii=True))
        except (RecursionError, ValueError, TypeError):
            return (kind, "<deep>")
    return (kind, scrub(value))


def brief(value: Any, size: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= size else text[: size - 3] + "..."


class Finding:
    """A broken promise: what, in which iteration, and the messages that led to it."""

    __slots__ = ("kind", "detail", "iteration", "messages")

    def __init__(self, kind: str, detail: str, iteration: int = -1, messages: list | None = None) -> None:
        self.kind = kind
        self.detail = detail
        self.iteration = iteration
        self.messages = messages or []

    def __repr__(self) -> str:
        return f"Finding({self.kind!r}, {brief(self.detail, 200)!r}, iteration={self.iteration})"

    def line(self) -> str:
        size = 3000 if "Traceback" in self.detail else 600
        return f"[iteration {self.iteration}] {self.kind}: {brief(self.detail, size)}"


class _Recorder(logging.Handler):
    def __init__(self, monitor: Monitor) -> None:
        super().__init__(logging.DEBUG)
        self.monitor = monitor

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception as exc:  # a bad format string is a finding too
            message = f"unformattable log record {record.msg!r}: {exc!r}"
            self.monitor.record("log", message)
            return
        if record.levelno >= logging.WARNING:
            self.monitor.warnings += 1
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.monitor.record("logged exception", f"{record.name}: {message}: {type(error).__name__}: {error}")
        elif "internal error while checking" in message:
            self.monitor.record("internal error", f"{record.name}: {message}")


class _Pause:
    def __init__(self, monitor: Monitor) -> None:
        self._monitor = monitor

    def __enter__(self) -> None:
        self._monitor._pauses += 1

    def __exit__(self, *exc_info: Any) -> None:
        self._monitor._pauses += 1


class Monitor:
    """Watches the running loop (see the module docstring); ``findings`` collects.

    ``max_lag=None`` records the loop's lag without judging it (the server target runs the
    server in another process: the fuzzer's own loop is not under test).

    Use as ``async with Monitor() as monitor:``; set ``monitor.iteration`` as the target
    moves on, so that each finding names its iteration.
    """

    def __init__(self, max_lag: float | None = MAX_LAG) -> None:
        self.max_lag = max_lag
        self.findings: list[Finding] = []
        self.iteration = -1
        self.max_seen_lag = 0.0
        self.noisy_lags = 0  # stalls while the loop's thread was idle: the machine, not us
        self.warnings = 0
        self._pauses = 0  # bumped around the fuzzer's own pauses (garbage collection)
        self._ticker: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._old_handler: Any = None
        self._old_hook: Any = None
        self._handler = _Recorder(self)
        self._logger = logging.getLogger("mcp_stdio")
        self._old_level = 0
        self._old_propagate = True

    def record(self, kind: str, detail: str) -> None:
        self.findings.append(Finding(kind, detail, self.iteration))

    async def __aenter__(self) -> Monitor:
        loop = self._loop = asyncio.get_running_loop()
        self._old_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._on_loop_exception)
        self._old_hook = sys.unraisablehook
        sys.unraisablehook = self._on_unraisable
        self._old_level, self._old_propagate = self._logger.level, self._logger.propagate
        self._logger.addHandler(self._handler)
        self._logger.setLevel(logging.WARNING)
        self._logger.propagate = False  # thousands of "skipped a message" warnings stay here
        self._ticker = loop.create_task(self._tick())
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        assert self._ticker is not None and self._loop is not None
        self._ticker.cancel()
        try:
            await self._ticker
        except asyncio.CancelledError:
            pass
        self._loop.set_exception_handler(self._old_handler)
        sys.unraisablehook = self._old_hook
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._old_level)
        self._logger.propagate = self._old_propagate

    @property
    def ticker(self) -> asyncio.Task | None:
        return self._ticker

    def pause(self) -> _Pause:
        """Return a context in which the loop's stalls are not counted (the fuzzer's own
        work on a huge message; the target's share is measured apart)."""
        return _Pause(self)

    def collect(self, full: bool = False) -> None:
        """Collect garbage between iterations; the pause is not counted as a stall.

        The fuzzers run with the collector disabled: on a loaded machine a full collection
        takes tens of milliseconds, and it would be blamed on whatever ran when it struck.
        """
        self._pauses += 1
        gc.collect(2 if full else 1)
        self._pauses += 1

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before, cpu, pauses = loop.time(), time.thread_time(), self._pauses
            await asyncio.sleep(TICK)
            lag = loop.time() - before - TICK
            if pauses != self._pauses:
                continue
            if lag > self.max_seen_lag:
                self.max_seen_lag = lag
            if self.max_lag is not None and lag > self.max_lag:
                busy = time.thread_time() - cpu
                if busy >= lag / 2 or lag > IDLE_STALL:
                    self.record("loop stall", f"the event loop was blocked for {lag * 1000:.0f} ms "
                                              f"({busy * 1000:.0f} ms of CPU in its thread)")
                else:
                    self.noisy_lags += 1

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        error = context.get("exception")
        text = context.get("message", "")
        if error is not None:
            text += f": {type(error).__name__}: {error}"
        for key in ("task", "future", "handle"):
            if key in context:
                text += f" ({key}: {brief(context[key], 200)})"
        self.record("loop exception", text)

    def _on_unraisable(self, unraisable: Any) -> None:
        error = unraisable.exc_value
        self.record("unraisable", f"{unraisable.err_msg or 'exception ignored'}: {type(error).__name__}: {error} "
                                  f"(in {brief(unraisable.object, 200)})")
