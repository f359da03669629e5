"""A leak checker: heap (tracemalloc), file descriptors, asyncio tasks and child processes.

In tests::

    with LeakCheck() as check:
        ...  # create, use and close clients
    assert check.report.clean(max_heap_growth=64 * 1024), check.report.describe()

or for repeated work, with a warm-up so that caches and free lists are filled first::

    report = await check_cycles(one_cycle, cycles=1000, warmup=100)

From the command line, cycles of connect, call, close against the reference server (or
any server named after ``--``)::

    python -m mcp_stdio.leakcheck --cycles 1000 --warmup 100 [-- COMMAND ARGS...]

The exit status is 1 when anything leaked beyond the thresholds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Awaitable
from typing import Any, Callable

__all__ = ["LeakCheck", "LeakReport", "check_cycles", "live_children", "main"]

# Heap growth tolerated by default over a checked run: interpreter caches (type caches,
# interned strings, method caches) grow by a few KiB in the first cycles of anything.
DEFAULT_MAX_HEAP_GROWTH = 64 * 1024


def live_children() -> list[int]:
    """Return the pids of this process's live (non-zombie) children, from /proc."""
    from .transport import proc_stats

    me = os.getpid()
    return [pid for pid, state, ppid, _ in proc_stats() if ppid == me and state != b"Z"]


def _fds() -> set[int]:
    try:
        return {int(fd) for fd in os.listdir("/proc/self/fd")}
    except OSError:
        return set()


def _tasks() -> int:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no running loop
        return 0


class LeakReport:
    """What grew between the start and the end of a check.

    Attributes:
        heap_growth: bytes of Python heap (tracemalloc) more at the end.
        top: the allocation sites that grew most, as ``(site, bytes, count)``.
        fds: file descriptors opened and not closed.
        tasks: asyncio tasks more at the end.
        children: child processes alive at the end that were not at the start.
        cycles: how many cycles were measured (0 for a plain context manager).
    """

    def __init__(self, heap_growth: int, top: list, fds: int, tasks: int, children: list[int],
                 cycles: int = 0) -> None:
        self.heap_growth = heap_growth
        self.top = top
        self.fds = fds
        self.tasks = tasks
        self.children = children
        self.cycles = cycles

    def clean(self, max_heap_growth: int = DEFAULT_MAX_HEAP_GROWTH) -> bool:
        """Return whether nothing leaked beyond ``max_heap_growth`` bytes of heap."""
        return self.heap_growth <= max_heap_growth and self.fds <= 0 and self.tasks <= 0 and not self.children

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain data (for JSON)."""
        return {"heap_growth_bytes": self.heap_growth, "fds_left": self.fds, "tasks_left": self.tasks,
                "children_left": len(self.children), "cycles": self.cycles,
                "top_growth": [{"site": s, "bytes": b, "count": c} for s, b, c in self.top]}

    def describe(self) -> str:
        """Return a readable summary."""
        lines = [f"heap growth {self.heap_growth} bytes over {self.cycles} cycles; "
                 f"fds left {self.fds}; tasks left {self.tasks}; children left {len(self.children)}"]
        for site, size, count in self.top:
            lines.append(f"  {size:+d} B {count:+d} blocks  {site}")
        return "\n".join(lines)


class LeakCheck:
    """Context manager (plain or async) that measures what a block leaves behind.

    Args:
        top: how many growing allocation sites to report.
        frames: traceback depth recorded by tracemalloc.
        ignore: file names whose allocations do not count (the measuring code's own).
    """

    def __init__(self, top: int = 10, frames: int = 1, ignore: tuple[str, ...] = ()) -> None:
        self._ignore = ignore
        self._top = top
        self._frames = frames
        self._started_tracing = False
        self.report: LeakReport | None = None
        self.cycles = 0

    def __enter__(self) -> LeakCheck:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> LeakCheck:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.sleep(0)  # let finished tasks be collected
        self.stop()

    def start(self) -> None:
        """Take the "before" measurements."""
        if not tracemalloc.is_tracing():
            tracemalloc.start(self._frames)
            self._started_tracing = True
        gc.collect()
        self._snapshot = tracemalloc.take_snapshot()
        self._fds = _fds()
        self._tasks = _tasks()
        self._children = set(live_children())

    def stop(self) -> LeakReport:
        """Take the "after" measurements and build :attr:`report`."""
        gc.collect()
        gc.collect()
        after = tracemalloc.take_snapshot()
        filters = [tracemalloc.Filter(False, name) for name in (tracemalloc.__file__, __file__, *self._ignore)]
        stats = after.filter_traces(filters).compare_to(self._snapshot.filter_traces(filters), "lineno")
        growth = sum(stat.size_diff for stat in stats)
        top = [(str(stat.traceback[0]), stat.size_diff, stat.count_diff)
               for stat in sorted(stats, key=lambda s: s.size_diff, reverse=True)[: self._top]
               if stat.size_diff > 0]
        if self._started_tracing:
            tracemalloc.stop()
            self._started_tracing = False
        new_fds = _fds() - self._fds
        children = [pid for pid in live_children() if pid not in self._children]
        self.report = LeakReport(growth, top, len(new_fds), _tasks() - self._tasks, children, self.cycles)
        return self.report


async def check_cycles(cycle: Callable[[], Awaitable[Any]], cycles: int, warmup: int = 10,
                       top: int = 10, progress: Callable[[str, int, int], Any] | None = None) -> LeakReport:
    """Run ``cycle`` ``warmup`` times, then measure what ``cycles`` more runs leave behind.

    Args:
        progress: called as ``progress(phase, done, total)`` after each cycle, with
            ``phase`` ``"warm-up"`` or ``"measured"``.
    """
    for done in range(warmup):
        await cycle()
        if progress is not None:
            progress("warm-up", done + 1, warmup)
    check = LeakCheck(top=top)
    check.start()
    for done in range(cycles):
        await cycle()
        if progress is not None:
            progress("measured", done + 1, cycles)
    check.cycles = cycles
    await asyncio.sleep(0)
    return check.stop()


class _Progress:
    """Progress on a stream: one line rewritten in place on a terminal, a line per tenth elsewhere."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int) -> None:
        step = max(1, total // 10)
        if not self.tty and done % step and done != total:
            return
        elapsed = time.monotonic() - self.started
        line = f"{phase} cycle {done} of {total} ({elapsed:.1f} s)"
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if phase == "measured" and done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    """Command line: cycles of connect, call, close under the leak checker."""
    parser = argparse.ArgumentParser(prog="python -m mcp_stdio.leakcheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=1000, help="measured cycles (default 1000)")
    parser.add_argument("--warmup", type=int, default=100, help="cycles before measuring (default 100)")
    parser.add_argument("--calls", type=int, default=1, help="tools/call per cycle (default 1)")
    parser.add_argument("--max-heap-growth", type=int, default=DEFAULT_MAX_HEAP_GROWTH,
                        help=f"bytes tolerated (default {DEFAULT_MAX_HEAP_GROWTH})")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("command", nargs="*", help="server command after --; default: the reference server")
    args = parser.parse_args(argv)

    import mcp_stdio
    from mcp_stdio.bench.common import reference_command

    command = args.command or reference_command()

    async def cycle() -> None:
        async with mcp_stdio.connect(command) as client:
            for _ in range(args.calls):
                if args.command:
                    await client.ping()
                else:
                    await client.call_tool("echo", {"text": "leak?"})

    report = asyncio.run(check_cycles(cycle, args.cycles, args.warmup,
                                      progress=None if args.quiet else _Progress(sys.stderr)))
    print(report.describe())
    ok = report.clean(args.max_heap_growth)
    print("clean" if ok else "LEAK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
