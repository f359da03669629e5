"""The run time of the JSON Schema validator: its limits, the state of one call, JSON values.

What the checks that :mod:`mcp_stdio.schema_compile` builds and the searches of
:mod:`mcp_stdio.schema_patterns` share while they run, and the numbers that bound them
(sans-I/O, standard library only):

* the limits, each with the reason for its value (:mod:`mcp_stdio.schema` re-exports the
  public ones and says what each bounds);
* the state of one call of ``errors()`` or ``is_valid()`` (:class:`_Run`: the problems
  found, whether an option is being probed, the steps left before the next look at the
  clock), the exceptions that unwind it, and the checks every compiled schema shares
  (accept, reject, probe, too deep);
* JSON values as keywords and messages see them: paths, JSON equality (``enum``, ``const``,
  ``uniqueItems``), exact numbers (``multipleOf``), short descriptions.
"""

from __future__ import annotations

import gc
import time

from .errors import SchemaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fractions import Fraction
    from typing import Any


# Limits

# The whole MCP 2026-07-28 schema holds about 2,900 JSON values; tool schemas hold tens.
# 20,000 leaves room for any real schema, and compiling one at the limit takes a few tenths
# of a second at worst (3,000 patterns: 0.3 s on a loaded 2-core machine).
MAX_SCHEMA_NODES = 20_000

# The MCP schemas nest 13 levels of objects and arrays, tool schemas rarely 10. 64 keeps
# the compiler's and the validator's Python stack far from the recursion limit.
MAX_SCHEMA_DEPTH = 64

# JSON documents from real peers nest a few tens of levels. 128 levels, each a few Python
# frames, stay under the default recursion limit of 1,000.
MAX_INSTANCE_DEPTH = 128

# Tool schema patterns are short (a date, an identifier, a URL prefix: under 100 characters).
MAX_PATTERN_LENGTH = 1_000

# Real patterns nest groups 3 or 4 deep; the pattern analysis recurses once per level.
MAX_PATTERN_GROUP_DEPTH = 16

# Estimated backtracking steps allowed for one search, which nothing can interrupt: fuzzing
# measured at most 0.26 us a step (repeated groups, on a loaded 2-core machine), so a
# search stays under about 0.25 s.
MAX_REGEX_WORK = 1_000_000

# Steps between two reads of the clock: a step is well under a microsecond, so the budget
# is checked every few hundred microseconds and costs nothing measurable.
CHECK_EVERY = 256

# A search that may cost more steps than this is preceded by a look at the clock: between
# two looks, CHECK_EVERY cheaper searches cost at most 256,000 steps (well under 0.1 s).
_WATCH_WORK = 1_000

# In the cost of a pattern, a bounded repeat wider than this counts as unbounded.
_WIDE_REPEAT = 1_000

# Arrays longer than this are checked for uniqueness with the garbage collector paused.
_GC_PAUSE_ITEMS = 1_000
# Items hashed in one step of the uniqueness check's fast path.
_SLICE = 4096

_BUDGET_MESSAGE = "validation did not finish within its budget of {:g} s"


# The state of one call

class _Fail(Exception):
    """A problem found while probing (inside anyOf, not...): stop this option now."""


class _Enough(Exception):
    """``limit`` problems were found: stop validating."""


class _TooDeep(Exception):
    """A value nests deeper than :data:`MAX_INSTANCE_DEPTH`."""


_TOO_DEEP = "validation nests deeper than Python's recursion limit allows"

# A path is (parent path, key, depth); messages spell it only when a problem is found.
_ROOT: tuple = (None, None, 0)


class _Run:
    """What one call of errors() or is_valid() found, and how much it may still do."""

    __slots__ = ("errors", "limit", "probing", "left", "deadline", "timeout")

    def __init__(self, limit: int, timeout: float | None) -> None:
        self.errors: list[str] = []
        self.limit = limit
        self.probing = False
        self.timeout = timeout
        if timeout is None:
            self.deadline = None
            self.left = 1 << 62
        elif type(timeout) in (int, float) and timeout >= 0:  # NaN is refused by >= too
            self.deadline = time.perf_counter() + timeout
            self.left = CHECK_EVERY
        else:
            raise SchemaError(f"timeout must be a number of seconds or None, not {_brief(timeout)}")

    def tick(self) -> None:
        """Look at the clock; called when ``left`` steps are used up."""
        if self.deadline is None:
            self.left = 1 << 62
            return
        if time.perf_counter() > self.deadline:
            raise SchemaError(_BUDGET_MESSAGE.format(self.timeout))
        self.left = CHECK_EVERY

    def report(self, path: tuple, problem: str) -> None:
        """Record a problem (callers raise ``_Fail`` instead when probing)."""
        self.errors.append(f"{_where(path)}: {problem}")
        if len(self.errors) >= self.limit:
            raise _Enough


def _where(path: tuple) -> str:
    keys = []
    while path[0] is not None:
        keys.append(path[1])
        path = path[0]
    parts = ["$"]
    for key in reversed(keys):
        if type(key) is int:
            parts.append(f"[{key}]")
        else:
            text = key if type(key) is str else _brief(key)
            parts.append("." + (text if len(text) <= 40 else text[:37] + "..."))
    return "".join(parts)


def _accept(value: Any, path: tuple, run: _Run) -> None:
    return None


def _reject(value: Any, path: tuple, run: _Run) -> None:
    if run.probing:
        raise _Fail
    run.report(path, "no value is allowed here")


def _probe(cell: list, value: Any, path: tuple, run: _Run) -> bool:
    """Return whether ``value`` passes the check in ``cell``, reporting nothing."""
    if run.probing:
        try:
            cell[0](value, path, run)
        except _Fail:
            return False
        return True
    run.probing = True
    try:
        cell[0](value, path, run)
    except _Fail:
        return False
    finally:
        run.probing = False
    return True


def _deeper(path: tuple, run: _Run) -> None:
    if run.probing:
        raise _Fail
    run.report(path, f"nested deeper than {MAX_INSTANCE_DEPTH} levels")


# JSON values: equality, exact numbers, short descriptions

class _Opaque:
    """The canonical form of a value that is not JSON: equal only to that same object.

    It compares identities, so no method of the unknown object is ever called.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: Any) -> bool:
        return type(other) is _Opaque and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


_TRUE, _FALSE = _Opaque(True), _Opaque(False)
_COMPILING = _Run(0, None)


def _canon(value: Any, run: _Run, depth: int) -> Any:
    """Return a hashable form of ``value`` under JSON equality.

    Strings, numbers and null stand for themselves (Python already has ``1 == 1.0`` with
    equal hashes), booleans become markers that equal no number, arrays tuples, objects
    frozensets of (key, value) pairs. Raises _TooDeep past ``depth`` levels of containers.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is bool:
        return _TRUE if value else _FALSE
    if kind is not list and kind is not dict:
        return _Opaque(value)
    if value and depth <= 0:
        raise _TooDeep
    run.left -= len(value)
    if run.left <= 0:
        run.tick()
    depth -= 1
    # Plain items are inlined: most leaves then cost no call.
    if kind is list:
        return tuple([item if type(item) in _PLAIN else _canon(item, run, depth) for item in value])
    return frozenset([(key if type(key) is str else _Opaque(key),
                       item if type(item) in _PLAIN else _canon(item, run, depth)) for key, item in value.items()])


_PLAIN = frozenset({str, int, float, type(None)})


def _kind(value: Any) -> Any:
    """Return the JSON kind of a value, numbers merged: values of different kinds differ."""
    kind = type(value)
    return float if kind is int else kind


def _has_duplicates(value: list, run: _Run, depth: int) -> bool:
    """Return whether two items of ``value`` are equal, in linear time."""
    run.left -= len(value)
    if run.left <= 0:
        run.tick()
    try:
        # Python's equality is coarser than JSON's only in ``True == 1``: a set that finds
        # no duplicate settles it at C speed; lists and dicts raise TypeError. In slices,
        # so that no single step holds the interpreter for long (10 million numbers would
        # take a second).
        plain: set = set()
        slices = range(0, len(value), _SLICE)
        for start in slices:
            plain.update(value[start:start + _SLICE])
        unique = len(plain) == len(value)
        for start in slices:  # emptied in slices too: freeing it at once is a step as long
            plain.difference_update(value[start:start + _SLICE])
        if unique:
            return False
    except TypeError:
        pass
    # The canonical forms are many new containers: they would set off full collections of
    # the garbage collector, each a pause of every thread (the event loop's too) that grows
    # with the objects alive, 30 to 40 ms with 60,000 decoded objects. They hold no cycles,
    # so collecting is off while they are built, for a long array only (the validator may
    # run in a worker thread: a pause there stalls the loop all the same).
    # Freeing them at once is one long pause too (27 ms for 60,000 objects): they are
    # freed one by one, so that other threads get their turns in between.
    pause = len(value) > _GC_PAUSE_ITEMS and gc.isenabled()
    if pause:
        gc.disable()
    seen: set = set()
    try:
        for item in value:
            key = _canon(item, run, depth)
            if key in seen:
                return True
            seen.add(key)
        return False
    finally:
        pop = seen.pop
        for _ in range(len(seen)):
            pop()
        if pause:
            gc.enable()


def _exact(number: Any) -> Fraction:
    """Return a finite number as an exact fraction; a float is its shortest repr."""
    from fractions import Fraction  # on first use: it imports decimal, 5 ms of a server's start

    return Fraction(number) if type(number) is int else Fraction(repr(number))


def _brief(value: Any, size: int = 60) -> str:
    """Return ``repr(value)`` cut to ``size`` characters, built without ever growing large."""
    parts: list[str] = []
    _describe(value, parts, size + 1, 0)
    text = "".join(parts)
    return text if len(text) <= size else text[: size - 3] + "..."


def _describe(value: Any, parts: list, room: int, depth: int) -> int:
    kind = type(value)
    if kind is str:
        text = repr(value[:room])
    elif kind is int:
        text = repr(value) if value.bit_length() <= 256 else f"<a {value.bit_length()}-bit integer>"
    elif kind is float or kind is bool or value is None:
        text = repr(value)
    elif kind is list or kind is dict:
        if depth >= 8:
            text = "[...]" if kind is list else "{...}"
        else:
            parts.append("[" if kind is list else "{")
            room -= 1
            items = value if kind is list else value.items()
            for index, item in enumerate(items):
                if room <= 0:
                    return room
                if index:
                    parts.append(", ")
                    room -= 2
                if kind is dict:
                    room = _describe(item[0], parts, room, depth + 1)
                    parts.append(": ")
                    room = _describe(item[1], parts, room - 2, depth + 1)
                else:
                    room = _describe(item, parts, room, depth + 1)
            text = "]" if kind is list else "}"
    else:
        text = f"<{kind.__name__}>"  # never call an unknown object's __repr__
    parts.append(text)
    return room - len(text)
