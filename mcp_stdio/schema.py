"""Validate JSON values against a JSON Schema (sans-I/O, standard library only).

Theory of operation
-------------------
Schemas come from peers: a server's ``outputSchema`` is data the client did not write. So
a schema is treated like any other untrusted input: no schema and no instance can make the
validator raise anything but :class:`SchemaError`, and every piece of work it does is
bounded by a number below.

A :class:`Validator` compiles a schema once into closures, one per subschema, and checks
them against instances. Compilation walks the document without recursion (so any
``$ref`` chain compiles), checks the type of every keyword it uses, compiles every pattern
through the safety rule below, and refuses ``$ref`` cycles that never consume the instance.
:func:`compile_schema` caches validators by the identity of the schema object.

Keywords (2020-12 and draft-07)
-------------------------------
* any value: ``type``, ``enum``, ``const``; ``$ref`` to a JSON pointer in the same
  document (``#``, ``#/$defs/...``, ``#/definitions/...``); a remote ``$ref`` is never
  fetched: it is a :class:`SchemaError`; siblings of ``$ref`` apply too (2020-12 reading);
* combinators: ``allOf``, ``anyOf``, ``oneOf``, ``not``, ``if``/``then``/``else``;
* numbers: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum`` (numbers,
  or draft-04 booleans), ``multipleOf``;
* strings: ``minLength``, ``maxLength`` (in code points), ``pattern``;
* objects: ``properties``, ``required``, ``additionalProperties``, ``patternProperties``,
  ``propertyNames``, ``minProperties``, ``maxProperties``;
* arrays: ``items`` (a schema, or the draft-07 list with ``additionalItems``),
  ``prefixItems``, ``minItems``, ``maxItems``, ``uniqueItems``, ``contains``,
  ``minContains``, ``maxContains``.

Annotations (``title``, ``description``, ``default``, ``examples``, ``format``...) and
keywords not listed (``dependentRequired``, ``dependentSchemas``, ``unevaluated*``,
``$dynamicRef``...) are ignored: they accept every instance.

Instances are JSON values as :func:`json.loads` returns them (``dict``, ``list``, ``str``,
``int``, ``float``, ``bool``, ``None``); any other object is opaque: it has no JSON type
and equals only itself. Equality (``enum``, ``const``, ``uniqueItems``) is JSON equality:
``1 == 1.0``, ``true != 1``, objects are equal whatever their key order.

Limits
------
Each is a module constant, with the reason for its value beside it.

* :data:`MAX_SCHEMA_NODES` (20,000) JSON values in a schema document, and
  :data:`MAX_SCHEMA_DEPTH` (64) levels of objects and arrays; past them, ``SchemaError``:
  ``the schema holds more than 20,000 JSON values``, ``the schema nests more than 64 levels
  of objects and arrays``.
* :data:`MAX_SCHEMA_DEPTH` also bounds the chains of subschemas that apply in place to one
  value (``$ref``, ``allOf``, ``anyOf``, ``oneOf``, ``not``, ``if``, ``then``, ``else``):
  ``#/$defs/a: more than 64 subschemas apply in a chain to the same value ($ref, allOf,
  anyOf...)``. Such a chain that loops never ends, and is refused: ``the schema applies
  itself to the same value without end: #/$defs/a -> #/$defs/b -> #/$defs/a``. Recursion
  through ``properties``, ``items`` and the other keywords that step into the instance is
  fine: the instance ends it.
* :data:`MAX_INSTANCE_DEPTH` (128): a value more than 128 levels below the root is not
  validated; its container gets the error ``$[0][0]...: nested deeper than 128 levels``.
  Should a schema chain many subschemas at every level of a deep instance, Python's stack
  ends first: ``SchemaError("validation nests deeper than Python's recursion limit
  allows")``.
* Patterns: see below; one search is at most about :data:`MAX_REGEX_WORK` steps.
* Time: ``errors()`` and ``is_valid()`` take ``timeout``, a budget in seconds (``None``, the
  default, disables it). The validator counts its steps (values visited, options tried,
  items compared) and reads the clock every :data:`CHECK_EVERY` steps and before each
  search whose estimated cost passes 1,000 steps; past the budget it raises
  ``SchemaError("validation did not finish within its budget of <timeout:g> s")``. It may
  overrun by one search (a few tenths of a second at worst). Combinators over recursive
  schemas can take time exponential in the depth of the instance (``anyOf`` of two
  options that both recurse): with a schema from a peer, always pass a budget.
* ``errors()`` stops at ``limit`` messages (20 by default) and ``is_valid()`` at the first.

Patterns
--------
Patterns are Python :mod:`re` patterns searched with :func:`re.search` (ECMA 262 patterns
are not anchored), except that ``$`` means the end of the string, as in ECMA 262 (Python's
``$`` also matches before a final newline); ``\\d``, ``\\w`` and ``\\s`` keep their Python
(Unicode) meaning. Python's ``re`` backtracks, cannot be interrupted and holds the GIL, so
every pattern is checked before it is used. A pattern is refused (``SchemaError`` at
compile time) when:

* it is longer than :data:`MAX_PATTERN_LENGTH` (1,000) characters, or nests groups deeper
  than :data:`MAX_PATTERN_GROUP_DEPTH` (16);
* it uses a backreference (``\\1``, ``(?P=name)``) or a conditional group (``(?(1)...)``):
  matching them is NP-hard;
* it uses the verbose flag ``(?x)``, inline flags anywhere but at its start, ``[[`` or a
  doubled ``--``, ``&&``, ``~~``, ``||`` in a class (Python reads them differently or
  warns);
* a group repeated more than once (``*``, ``+``, ``{n,}``, ``{n,m}`` with ``m > 1``)
  contains a quantifier or ``|`` (``(a+)+``, ``(a|aa)*``, ``(\\w+\\s?)*``, ``(.*a){12}``):
  such a group can split a string in exponentially many ways. One shape is allowed, because
  it splits a string in one way only: the group's body has no top-level ``|``, starts or
  ends with a literal character (the delimiter) that nothing else in the body can match, and
  has at most one other part of variable length: a quantified character or class, or a group
  allowed by this rule. So ``^[a-z0-9]+(-[a-z0-9]+)*$``, ``^([a-z]+\\.)*[a-z]+$`` and
  ``^(\\d{1,3}\\.){3}\\d{1,3}$`` are accepted, ``(\\.[a-z]+[0-9]*)*`` is refused;
* its estimated cost (below) passes :data:`MAX_REGEX_WORK` on a one-character string, or
  grows faster than the 8th power of the length.

Patterns that pass may still be slow on long strings: unanchored, ``[a-z]+$`` is quadratic.
So each pattern gets an estimated worst-case cost, a polynomial in the length of the string:
a factor for each quantifier the engine may retry with another count (not one followed only
by characters it cannot match, as in ``[a-z]+\\.``, or by the end), a factor for each
``|``, a term for each other quantifier, all multiplied by the length when the search is
not anchored with ``^``, except for a quantifier that ends the pattern (reaching it is a
match). The pattern's longest string is the largest length whose cost stays under
:data:`MAX_REGEX_WORK` (no limit when the cost does not grow with the length, as for
``^https?://`` or ``^[a-z]{1,64}$``). Searching a longer string raises
``SchemaError("$.path: pattern '...' is too costly to search in a string of N characters
(at most M for this pattern)")``. Examples: ``^[A-Za-z0-9+/]*={0,2}$`` 999,995 characters,
``^[a-z0-9]+(-[a-z0-9]+)*$`` 333,332, ``[a-z]+$`` 998, ``^([a-z]+\\.)*[a-z]+$`` 705,
``^\\S+@\\S+\\.\\S+$`` 98.

multipleOf
----------
Exact: a number is a multiple of ``multipleOf`` when their ratio is an integer in exact
rational arithmetic, where an ``int`` is itself and a ``float`` is the decimal number its
shortest ``repr`` shows (what the JSON text said): so 0.3 is a multiple of 0.1, and
``1e308`` or a 400-digit integer are handled without overflow. ``multipleOf`` must be a
finite number above zero. A non-finite float (``inf``, ``nan``; JSON has none, callers may
pass them) fails every numeric keyword with ``is not a finite number``.

Discriminated unions
--------------------
An ``anyOf`` or ``oneOf`` whose options all set a ``const`` (or a one-value ``enum``) on the
same property, directly or through ``$ref`` (MCP content blocks and requests, keyed by
``type`` and ``method``), looks at that property of an object instead of trying every
option: same verdict, and when one option is chosen, its own errors are reported
(``$.content[0].text: 5 is not of type string``). A value that is not an object, lacks the
property, or has a value no option names gets the usual ``... matches none of anyOf``.
"""

from __future__ import annotations

import math
import re
import sys
import time
from fractions import Fraction
from functools import lru_cache
from urllib.parse import unquote

from .errors import SchemaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["SchemaError", "Validator", "compile_schema", "MAX_SCHEMA_NODES", "MAX_SCHEMA_DEPTH",
           "MAX_INSTANCE_DEPTH", "MAX_PATTERN_LENGTH", "MAX_PATTERN_GROUP_DEPTH", "MAX_REGEX_WORK",
           "CHECK_EVERY"]

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

_BUDGET_MESSAGE = "validation did not finish within its budget of {:g} s"


# Public API

class Validator:
    """A compiled JSON Schema.

    A validator holds no state between calls: one can serve many threads.

    Args:
        schema: the JSON Schema (a dict, or ``True``/``False``).

    Raises:
        SchemaError: the schema is malformed (a keyword of the wrong type, a ``$ref`` to
            nothing), refers to a remote document, loops without consuming the instance,
            exceeds a limit, or has a pattern that is invalid or could take exponential time.
    """

    def __init__(self, schema: Any) -> None:
        _measure(schema)
        self.schema = schema
        self._check = _Compiler(schema).compile()

    def errors(self, instance: Any, limit: int = 20, *, timeout: float | None = None) -> list[str]:
        """Return up to ``limit`` problems of ``instance``, each ``path: problem``.

        Args:
            instance: the JSON value to validate.
            limit: the most messages to return; validation stops when it has found them.
            timeout: the budget in seconds, or ``None`` for no budget.

        Returns:
            The messages, such as ``$.content[0].text: 5 is not of type string``; an empty
            list when ``instance`` is valid.

        Raises:
            SchemaError: the budget ran out, a string is too long for a pattern's
                limit, or the validation nests deeper than Python's stack allows.
        """
        if type(limit) is not int:
            raise SchemaError(f"limit must be an integer, not {_brief(limit)}")
        if limit < 1:
            return []
        run = _Run(limit, timeout)
        try:
            self._check(instance, _ROOT, run)
        except _Enough:
            pass
        except RecursionError:
            raise SchemaError(_TOO_DEEP) from None
        return run.errors

    def is_valid(self, instance: Any, *, timeout: float | None = None) -> bool:
        """Return whether ``instance`` is valid; it stops at the first problem.

        Args:
            instance: the JSON value to validate.
            timeout: the budget in seconds, or ``None`` for no budget.

        Raises:
            SchemaError: as :meth:`errors`.
        """
        run = _Run(0, timeout)
        run.probing = True
        try:
            self._check(instance, _ROOT, run)
        except _Fail:
            return False
        except RecursionError:
            raise SchemaError(_TOO_DEEP) from None
        return True


_CACHE: dict[int, tuple[Any, Validator]] = {}


def compile_schema(schema: Any) -> Validator:
    """Return a :class:`Validator` for ``schema``, cached while the schema object lives.

    The cache is keyed by identity: a schema mutated after its first use keeps its old
    validator. A schema that fails to compile is not cached: its cost is bounded by the
    limits, and the error is raised again.

    Args:
        schema: the JSON Schema (a dict, or ``True``/``False``).

    Returns:
        The validator.

    Raises:
        SchemaError: as :class:`Validator`.
    """
    entry = _CACHE.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    validator = Validator(schema)
    if len(_CACHE) > 1024:
        _CACHE.clear()
    _CACHE[id(schema)] = (schema, validator)
    return validator


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


# Compilation

def _measure(schema: Any) -> None:
    """Refuse a schema document over the size or depth limits, level by level."""
    level = [schema]
    count = depth = 1
    while level:
        below: list = []
        for value in level:
            kind = type(value)
            if kind is dict or kind is list:
                if depth > MAX_SCHEMA_DEPTH:
                    raise SchemaError(f"the schema nests more than {MAX_SCHEMA_DEPTH} levels of objects and arrays")
                count += len(value)
                if count > MAX_SCHEMA_NODES:
                    raise SchemaError(f"the schema holds more than {MAX_SCHEMA_NODES:,} JSON values")
                below.extend(value.values() if kind is dict else value)
        level = below
        depth += 1


def _escape(key: Any) -> str:
    text = key if type(key) is str else str(key)
    return text.replace("~", "~0").replace("/", "~1")


_ACCEPT_CELL = [_accept]
_REJECT_CELL = [_reject]

class _Slot:
    """Where a node's type check sits in its list of checks."""

    __slots__ = ("entries", "index")

    def __init__(self, entries: list, index: int) -> None:
        self.entries = entries
        self.index = index


def _place(add: list, slot: _Slot | None, check: Callable) -> None:
    """Add ``check``, or put it in place of the type check it includes."""
    if slot is None:
        add.append([check])
    else:
        slot.entries[slot.index] = [check]


# Keywords whose subschemas apply to the same value, not to a part of it.
_IN_PLACE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else")

_VALUE_KEYWORDS = frozenset({"enum", "const"})
_NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_STRING_KEYWORDS = frozenset({"minLength", "maxLength", "pattern"})
_OBJECT_KEYWORDS = frozenset({"properties", "patternProperties", "required", "additionalProperties",
                              "propertyNames", "minProperties", "maxProperties"})
_ARRAY_KEYWORDS = frozenset({"items", "prefixItems", "additionalItems", "contains", "minContains", "maxContains",
                             "minItems", "maxItems", "uniqueItems"})
_COMBINATOR_KEYWORDS = frozenset(_IN_PLACE)

_JSON_TYPES: dict[str, tuple] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "null": (type(None),), "number": (int, float), "integer": (int,),
}


class _Compiler:
    """Compile one schema document into closures; discarded once done.

    Every subschema gets a cell (a one-item list) as soon as it is met, and is compiled
    later from a work list, so references in any order and of any length compile without
    recursion; checks call ``cell[0]``.
    """

    def __init__(self, root: Any) -> None:
        self.root = root
        self.cells: dict[int, list] = {}
        self.pointers: dict[int, str] = {}
        self.in_place: dict[int, list[int]] = {}
        self.aliases: dict[int, tuple[list, list]] = {}
        self.todo: list[tuple[dict, str, list]] = []
        self.unwrap: list[Any] = []  # lists and dicts of cells that closures call directly

    def compile(self) -> Callable:
        cell = self.node(self.root, "#")
        while self.todo:
            self.build(*self.todo.pop())
        self.check_chains()
        for source, target in self.aliases.values():
            while id(target) in self.aliases:
                target = self.aliases[id(target)][1]
            source[0] = target[0]
        for holder in self.unwrap:  # one subscript less on every call
            for key in range(len(holder)) if type(holder) is list else list(holder):
                holder[key] = holder[key][0]
        return cell[0]

    def node(self, schema: Any, pointer: str) -> list:
        """Return the cell of ``schema``, queuing it for compilation when new."""
        if schema is True:
            return _ACCEPT_CELL
        if schema is False:
            return _REJECT_CELL
        if type(schema) is not dict:
            raise SchemaError(f"{pointer}: a schema must be an object or a boolean, not {_brief(schema)}")
        cell = self.cells.get(id(schema))
        if cell is None:
            cell = self.cells[id(schema)] = [None]
            self.pointers[id(schema)] = pointer
            self.todo.append((schema, pointer, cell))
        return cell

    def resolve(self, ref: Any, pointer: str) -> tuple[Any, str]:
        """Return the subschema a local ``$ref`` points to, and its pointer."""
        if type(ref) is not str:
            raise SchemaError(f"{pointer}: $ref must be a string, not {_brief(ref)}")
        if not ref.startswith("#"):
            raise SchemaError(f"{pointer}: remote $ref {_brief(ref)} is not supported (never fetched)")
        node = self.root
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):
            raise SchemaError(f"{pointer}: $ref {_brief(ref)} points to nothing (anchors are not supported)")
        for part in fragment.split("/")[1:]:
            # RFC 6901: a pointer in a URI fragment is percent-encoded; ~1 is "/", ~0 is "~".
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            if type(node) is dict and part in node:
                node = node[part]
            elif type(node) is list and part.isdecimal() and part.isascii() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(f"{pointer}: $ref {_brief(ref)} points to nothing")
        return node, "#" + fragment

    def build(self, schema: dict, pointer: str, cell: list) -> None:
        entries: list[list] = []
        in_place: list[Any] = []
        if "$ref" in schema:
            target, where = self.resolve(schema["$ref"], pointer)
            entries.append(self.node(target, where))
            in_place.append(target)
        only = _compile_type(schema, pointer, entries)
        # A lone "object", "array" or "string" type is checked by that kind's own check, at
        # the place of the type check (one call less per value; same messages, same order).
        slot = _Slot(entries, len(entries) - 1) if only in (dict, list, str) else None
        keys = schema.keys()  # most subschemas use a few keywords: skip the other groups
        if not keys.isdisjoint(_VALUE_KEYWORDS):
            _compile_values(schema, pointer, entries)
        if not keys.isdisjoint(_NUMBER_KEYWORDS):
            _compile_numbers(schema, pointer, entries)
        if not keys.isdisjoint(_STRING_KEYWORDS):
            _compile_strings(schema, pointer, entries, slot if only is str else None)
        if not keys.isdisjoint(_OBJECT_KEYWORDS):
            self.compile_objects(schema, pointer, entries, slot if only is dict else None)
        if not keys.isdisjoint(_ARRAY_KEYWORDS):
            self.compile_arrays(schema, pointer, entries, slot if only is list else None)
        if not keys.isdisjoint(_COMBINATOR_KEYWORDS):
            self.compile_combinators(schema, pointer, entries, in_place)
        children = [id(sub) for sub in in_place if type(sub) is dict]
        if children:
            self.in_place[id(schema)] = children
        if not entries:
            cell[0] = _accept
        elif len(entries) == 1:
            self.aliases[id(cell)] = (cell, entries[0])  # filled once every cell is
        else:
            checks = list(entries)
            self.unwrap.append(checks)

            def check_all(value, path, run):
                for check in checks:
                    check(value, path, run)
            cell[0] = check_all

    def check_chains(self) -> None:
        """Refuse in-place loops, and in-place chains longer than MAX_SCHEMA_DEPTH."""
        length: dict[int, int] = {}
        state: dict[int, int] = {}  # 1: on the current path, 2: done
        graph = self.in_place
        for start in graph:
            if start in state:
                continue
            state[start] = 1
            stack = [(start, iter(graph[start]))]
            while stack:
                node, children = stack[-1]
                for child in children:
                    seen = state.get(child)
                    if seen is None:
                        state[child] = 1
                        stack.append((child, iter(graph.get(child, ()))))
                        break
                    if seen == 1:
                        loop = [entry[0] for entry in stack]
                        loop = loop[loop.index(child):] + [child]
                        raise SchemaError("the schema applies itself to the same value without end: "
                                          + " -> ".join(self.pointers[key] for key in loop))
                else:
                    stack.pop()
                    state[node] = 2
                    length[node] = 1 + max(length.get(child, 1) for child in graph[node]) \
                        if node in graph else 1
                    if length[node] > MAX_SCHEMA_DEPTH:
                        raise SchemaError(f"{self.pointers[node]}: more than {MAX_SCHEMA_DEPTH} subschemas apply "
                                          "in a chain to the same value ($ref, allOf, anyOf...)")

    # Keywords that hold subschemas

    def subschemas(self, schema: dict, key: str, pointer: str) -> list[list]:
        """Return the cells of a non-empty list of subschemas."""
        value = schema[key]
        if type(value) is not list or not value:
            raise SchemaError(f"{pointer}: {key!r} must be a non-empty array of schemas, not {_brief(value)}")
        return [self.node(sub, f"{pointer}/{key}/{index}") for index, sub in enumerate(value)]

    def schema_map(self, schema: dict, key: str, pointer: str) -> dict:
        value = schema.get(key, {})
        if type(value) is not dict:
            raise SchemaError(f"{pointer}: {key!r} must be an object of schemas, not {_brief(value)}")
        return {name: self.node(sub, f"{pointer}/{key}/{_escape(name)}") for name, sub in value.items()}

    def compile_objects(self, schema: dict, pointer: str, add: list, slot: _Slot | None) -> None:
        properties = self.schema_map(schema, "properties", pointer)
        patterns = [(_Pattern(name, f"{pointer}/patternProperties"), cell)
                    for name, cell in self.schema_map(schema, "patternProperties", pointer).items()]
        required = schema.get("required", [])
        if type(required) is not list or any(type(name) is not str for name in required):
            raise SchemaError(f"{pointer}: 'required' must be an array of strings, not {_brief(required)}")
        extra = schema.get("additionalProperties", True)
        forbid = extra is False
        extra_cell = None if extra is True or forbid else self.node(extra, f"{pointer}/additionalProperties")
        names = self.node(schema["propertyNames"], f"{pointer}/propertyNames") if "propertyNames" in schema else None
        low, high = _count(schema, "minProperties", pointer), _count(schema, "maxProperties", pointer)
        walk = bool(properties or patterns or forbid or extra_cell or names)
        if not (walk or required or low is not None or high is not None):
            return
        typed = slot is not None
        simple = not patterns and names is None
        self.unwrap.append(properties)
        # Steps: one per property, plus one per pattern it is matched against; a long
        # "required" (the document allows 20,000 names) counts too.
        per_key = 1 + len(patterns) + (names is not None)
        fixed = len(required) if len(required) > 16 else 0

        def check_object(value, path, run):
            if type(value) is not dict:
                if typed:
                    if run.probing:
                        raise _Fail
                    run.report(path, f"{_brief(value)} is not of type object")
                return
            if fixed:
                run.left -= fixed
            for name in required:
                if name not in value:
                    if run.probing:
                        raise _Fail
                    run.report(path, f"required property {_brief(name)} is missing")
            if walk and value:
                depth = path[2] + 1
                if depth > MAX_INSTANCE_DEPTH:
                    return _deeper(path, run)
                run.left -= len(value) * per_key
                if run.left <= 0:
                    run.tick()
                if simple:
                    for name, item in value.items():
                        check = properties.get(name)
                        if check is not None:
                            check(item, (path, name, depth), run)
                        elif forbid:
                            if run.probing:
                                raise _Fail
                            run.report(path, f"additional property {_brief(name)} is not allowed")
                        elif extra_cell is not None:
                            extra_cell[0](item, (path, name, depth), run)
                else:
                    for name, item in value.items():
                        _check_property(name, item, (path, name, depth), path, run)
            if low is not None and len(value) < low:
                if run.probing:
                    raise _Fail
                run.report(path, f"fewer than {low} properties")
            if high is not None and len(value) > high:
                if run.probing:
                    raise _Fail
                run.report(path, f"more than {high} properties")

        def _check_property(name, item, where, path, run):
            check = properties.get(name)
            matched = check is not None
            if matched:
                check(item, where, run)
            if type(name) is str:
                for pattern, cell in patterns:
                    if pattern.search(name, where, run):
                        cell[0](item, where, run)
                        matched = True
            if not matched:
                if forbid:
                    if run.probing:
                        raise _Fail
                    run.report(path, f"additional property {_brief(name)} is not allowed")
                elif extra_cell is not None:
                    extra_cell[0](item, where, run)
            if names is not None:
                names[0](name, where, run)
        _place(add, slot, check_object)

    def compile_arrays(self, schema: dict, pointer: str, add: list, slot: _Slot | None) -> None:
        prefix = self.subschemas(schema, "prefixItems", pointer) if "prefixItems" in schema else []
        items = schema.get("items")
        rest = None
        if type(items) is list:  # draft-07 tuple form
            prefix = self.subschemas(schema, "items", pointer)
            if "additionalItems" in schema and schema["additionalItems"] is not True:
                rest = self.node(schema["additionalItems"], f"{pointer}/additionalItems")
        elif "items" in schema and items is not True:
            rest = self.node(items, f"{pointer}/items")
        contains = self.node(schema["contains"], f"{pointer}/contains") if "contains" in schema else None
        least = _count(schema, "minContains", pointer)
        most = _count(schema, "maxContains", pointer)
        least = 1 if least is None else least
        low, high = _count(schema, "minItems", pointer), _count(schema, "maxItems", pointer)
        unique = schema.get("uniqueItems", False)
        if type(unique) is not bool:
            raise SchemaError(f"{pointer}: 'uniqueItems' must be a boolean, not {_brief(unique)}")
        walk = bool(prefix or rest or contains or unique)
        if not (walk or low is not None or high is not None):
            return
        typed = slot is not None
        count = len(prefix)

        def check_array(value, path, run):
            if type(value) is not list:
                if typed:
                    if run.probing:
                        raise _Fail
                    run.report(path, f"{_brief(value)} is not of type array")
                return
            size = len(value)
            if walk and size:
                depth = path[2] + 1
                if depth > MAX_INSTANCE_DEPTH:
                    return _deeper(path, run)
                run.left -= size
                if run.left <= 0:
                    run.tick()
                if prefix or rest is not None:
                    for index, item in enumerate(value):
                        if index < count:
                            prefix[index][0](item, (path, index, depth), run)
                        elif rest is None:
                            break
                        else:
                            rest[0](item, (path, index, depth), run)
            if low is not None and size < low:
                if run.probing:
                    raise _Fail
                run.report(path, f"fewer than {low} items")
            if high is not None and size > high:
                if run.probing:
                    raise _Fail
                run.report(path, f"more than {high} items")
            if unique and size > 1:
                try:
                    repeated = _has_duplicates(value, run, MAX_INSTANCE_DEPTH - path[2] - 1)
                except _TooDeep:
                    return _deeper(path, run)
                if repeated:
                    if run.probing:
                        raise _Fail
                    run.report(path, "items are not unique")
            if contains is not None:
                _check_contains(value, path, run)

        def _check_contains(value, path, run):
            run.left -= len(value)
            if run.left <= 0:
                run.tick()
            found = 0
            for index, item in enumerate(value):
                if _probe(contains, item, (path, index, path[2] + 1), run):
                    found += 1
                    if found >= least and most is None:
                        break
            if found < least:
                if run.probing:
                    raise _Fail
                run.report(path, "no item matches 'contains'" if least == 1
                           else f"fewer than {least} items match 'contains'")
            if most is not None and found > most:
                if run.probing:
                    raise _Fail
                run.report(path, f"more than {most} items match 'contains'")
        _place(add, slot, check_array)

    def compile_combinators(self, schema: dict, pointer: str, add: list, in_place: list) -> None:
        for key in _IN_PLACE:
            if key in schema:
                value = schema[key]
                in_place.extend(value if type(value) is list else [value])
        if "allOf" in schema:
            add.extend(self.subschemas(schema, "allOf", pointer))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = self.subschemas(schema, key, pointer)
                dispatch = self.discriminator(schema[key], pointer)
                add.append([(_any_of if key == "anyOf" else _one_of)(options, dispatch)])
        if "not" in schema:
            negated = self.node(schema["not"], f"{pointer}/not")

            def check_not(value, path, run):
                run.left -= 1
                if run.left <= 0:
                    run.tick()
                if _probe(negated, value, path, run):
                    if run.probing:
                        raise _Fail
                    run.report(path, f"{_brief(value)} must not match 'not'")
            add.append([check_not])
        if "if" in schema:
            condition = self.node(schema["if"], f"{pointer}/if")
            then = self.node(schema["then"], f"{pointer}/then") if "then" in schema else None
            otherwise = self.node(schema["else"], f"{pointer}/else") if "else" in schema else None
            if then is not None or otherwise is not None:
                def check_if(value, path, run):
                    run.left -= 1
                    if run.left <= 0:
                        run.tick()
                    branch = then if _probe(condition, value, path, run) else otherwise
                    if branch is not None:
                        branch[0](value, path, run)
                add.append([check_if])
        else:
            # then/else without if do nothing, but must still be schemas
            for key in ("then", "else"):
                if key in schema:
                    self.node(schema[key], f"{pointer}/{key}")

    def discriminator(self, options: list, pointer: str) -> tuple[str, dict] | None:
        """Return ``(property, {canonical const: [option indexes]})`` for a discriminated union."""
        found = []
        for option in options:
            consts: dict[str, Any] = {}
            hops = 0
            while type(option) is dict and hops <= MAX_SCHEMA_DEPTH:
                properties = option.get("properties")
                if type(properties) is dict:
                    for name, sub in properties.items():
                        if type(name) is not str or type(sub) is not dict or name in consts:
                            continue
                        if "const" in sub:
                            consts[name] = _canon(sub["const"], _COMPILING, MAX_SCHEMA_DEPTH + 1)
                        elif type(sub.get("enum")) is list and len(sub["enum"]) == 1:
                            consts[name] = _canon(sub["enum"][0], _COMPILING, MAX_SCHEMA_DEPTH + 1)
                if "$ref" not in option:
                    break
                option = self.resolve(option["$ref"], pointer)[0]
                hops += 1
            if not consts:
                return None
            found.append(consts)
        best = None
        for name in sorted(set(found[0]).intersection(*found[1:])):
            distinct = len({consts[name] for consts in found})
            if distinct > 1 and (best is None or distinct > best[0]):
                best = (distinct, name)
        if best is None:
            return None
        table: dict[Any, list[int]] = {}
        for index, consts in enumerate(found):
            table.setdefault(consts[best[1]], []).append(index)
        return best[1], table


def _any_of(options: list[list], dispatch: tuple[str, dict] | None) -> Callable:
    name, table = dispatch or (None, None)

    def check_any(value, path, run):
        tried = options
        if name is not None and type(value) is dict and name in value:
            key = value[name]
            chosen = table.get(key) if type(key) is str else _choose(key, table, path, run)
            if chosen is not None and len(chosen) == 1:
                return options[chosen[0]][0](value, path, run)
            tried = [options[index] for index in chosen or ()]
        run.left -= len(tried)
        if run.left <= 0:
            run.tick()
        saved = run.probing
        run.probing = True
        try:
            for option in tried:
                try:
                    option[0](value, path, run)
                except _Fail:
                    continue
                return
        finally:
            run.probing = saved
        if saved:
            raise _Fail
        run.report(path, f"{_brief(value)} matches none of anyOf")
    return check_any


def _one_of(options: list[list], dispatch: tuple[str, dict] | None) -> Callable:
    name, table = dispatch or (None, None)

    def check_one(value, path, run):
        tried = options
        if name is not None and type(value) is dict and name in value:
            key = value[name]
            chosen = table.get(key) if type(key) is str else _choose(key, table, path, run)
            if chosen is not None and len(chosen) == 1:
                return options[chosen[0]][0](value, path, run)
            tried = [options[index] for index in chosen or ()]
        run.left -= len(tried)
        if run.left <= 0:
            run.tick()
        passed = 0
        for option in tried:
            if _probe(option, value, path, run):
                passed += 1
                if passed > 1:
                    break
        if passed != 1:
            if run.probing:
                raise _Fail
            run.report(path, f"{_brief(value)} matches {passed} of oneOf, not exactly one")
    return check_one


def _choose(key: Any, table: dict, path: tuple, run: _Run) -> list[int] | None:
    """Return the options whose const matches ``key``, or None when none does."""
    try:
        return table.get(_canon(key, run, MAX_INSTANCE_DEPTH - path[2] - 1))
    except _TooDeep:  # no const is that deep
        return None


# Keywords on values

def _count(schema: dict, key: str, pointer: str) -> int | None:
    """Return a non-negative integer keyword (1.0 counts as 1), or None when absent."""
    if key not in schema:
        return None
    value = schema[key]
    if type(value) is int and value >= 0:
        return value
    if type(value) is float and value >= 0 and value.is_integer():
        return int(value)
    raise SchemaError(f"{pointer}: {key!r} must be a non-negative integer, not {_brief(value)}")


def _number(schema: dict, key: str, pointer: str) -> Any:
    value = schema[key]
    if type(value) is int or (type(value) is float and not math.isnan(value)):
        return value
    raise SchemaError(f"{pointer}: {key!r} must be a number, not {_brief(value)}")


def _compile_type(schema: dict, pointer: str, add: list) -> Any:
    """Add the check of ``type``; return its Python type when it names one kind only."""
    if "type" not in schema:
        return None
    names = schema["type"]
    names = [names] if type(names) is str else names
    if type(names) is not list or not names or any(type(name) is not str for name in names):
        raise SchemaError(f"{pointer}: 'type' must be a type name or a non-empty array of them, "
                          f"not {_brief(schema['type'])}")
    kinds: set = set()
    for name in names:
        if name not in _JSON_TYPES:
            raise SchemaError(f"{pointer}: unknown type {_brief(name)}")
        kinds.update(_JSON_TYPES[name])
    # JSON Schema: "integer" matches any number with a zero fractional part, 1.0 included.
    integral = "integer" in names and "number" not in names
    expected = " or ".join(names)
    only = next(iter(kinds))
    if len(kinds) == 1 and not integral:

        def check_type(value, path, run):
            if type(value) is not only:
                if run.probing:
                    raise _Fail
                run.report(path, f"{_brief(value)} is not of type {expected}")
    else:
        allowed = frozenset(kinds)

        def check_type(value, path, run):
            kind = type(value)
            if kind not in allowed and not (integral and kind is float and value.is_integer()):
                if run.probing:
                    raise _Fail
                run.report(path, f"{_brief(value)} is not of type {expected}")
    add.append([check_type])
    return only if len(kinds) == 1 and not integral else None


def _compile_values(schema: dict, pointer: str, add: list) -> None:
    if "enum" in schema:
        options = schema["enum"]
        if type(options) is not list:
            raise SchemaError(f"{pointer}: 'enum' must be an array, not {_brief(options)}")
        keys = frozenset(_canon(option, _COMPILING, MAX_SCHEMA_DEPTH + 1) for option in options)
        kinds = frozenset(_kind(option) for option in options)
        shown = _brief(options, 120)

        def check_enum(value, path, run):
            if type(value) is str and value in keys:
                return
            if _kind(value) in kinds:
                try:
                    if _canon(value, run, MAX_INSTANCE_DEPTH - path[2]) in keys:
                        return
                except _TooDeep:
                    return _deeper(path, run)
            if run.probing:
                raise _Fail
            run.report(path, f"{_brief(value)} is not one of {shown}")
        add.append([check_enum])
    if "const" in schema:
        constant = schema["const"]
        key = _canon(constant, _COMPILING, MAX_SCHEMA_DEPTH + 1)
        kind = _kind(constant)
        shown = _brief(constant, 80)

        def check_const(value, path, run):
            if type(value) is str and kind is str and value == constant:
                return
            if _kind(value) == kind:
                try:
                    if _canon(value, run, MAX_INSTANCE_DEPTH - path[2]) == key:
                        return
                except _TooDeep:
                    return _deeper(path, run)
            if run.probing:
                raise _Fail
            run.report(path, f"{_brief(value)} is not {shown}")
        add.append([check_const])


def _compile_numbers(schema: dict, pointer: str, add: list) -> None:
    low = _number(schema, "minimum", pointer) if "minimum" in schema else None
    high = _number(schema, "maximum", pointer) if "maximum" in schema else None
    above = below = None
    if "exclusiveMinimum" in schema:
        if type(schema["exclusiveMinimum"]) is bool:  # draft-04: it qualifies "minimum"
            above, low = (low, None) if schema["exclusiveMinimum"] else (None, low)
        else:
            above = _number(schema, "exclusiveMinimum", pointer)
    if "exclusiveMaximum" in schema:
        if type(schema["exclusiveMaximum"]) is bool:
            below, high = (high, None) if schema["exclusiveMaximum"] else (None, high)
        else:
            below = _number(schema, "exclusiveMaximum", pointer)
    step = None
    if "multipleOf" in schema:
        step = schema["multipleOf"]
        if not ((type(step) is int or (type(step) is float and math.isfinite(step))) and step > 0):
            raise SchemaError(f"{pointer}: 'multipleOf' must be a finite number above 0, not {_brief(step)}")
    if low is None and high is None and above is None and below is None and step is None:
        return
    exact = _exact(step) if step is not None else None

    def check_number(value, path, run):
        kind = type(value)
        if kind is not int and kind is not float:
            return
        if kind is float and not math.isfinite(value):
            problem = f"{value!r} is not a finite number"
        elif low is not None and value < low:
            problem = f"{_brief(value)} is less than the minimum {_brief(low)}"
        elif high is not None and value > high:
            problem = f"{_brief(value)} is more than the maximum {_brief(high)}"
        elif above is not None and value <= above:
            problem = f"{_brief(value)} is not more than {_brief(above)}"
        elif below is not None and value >= below:
            problem = f"{_brief(value)} is not less than {_brief(below)}"
        elif step is not None and not (value % step == 0 if kind is int and type(step) is int
                                       else _exact(value) % exact == 0):
            problem = f"{_brief(value)} is not a multiple of {_brief(step)}"
        else:
            return
        if run.probing:
            raise _Fail
        run.report(path, problem)
    add.append([check_number])


def _compile_strings(schema: dict, pointer: str, add: list, slot: _Slot | None) -> None:
    low, high = _count(schema, "minLength", pointer), _count(schema, "maxLength", pointer)
    pattern = _Pattern(schema["pattern"], f"{pointer}/pattern") if "pattern" in schema else None
    if low is None and high is None and pattern is None:
        return
    typed = slot is not None

    def check_string(value, path, run):
        if type(value) is not str:
            if typed:
                if run.probing:
                    raise _Fail
                run.report(path, f"{_brief(value)} is not of type string")
            return
        if low is not None and len(value) < low:
            if run.probing:
                raise _Fail
            run.report(path, f"string shorter than {low}")
        if high is not None and len(value) > high:
            if run.probing:
                raise _Fail
            run.report(path, f"string longer than {high}")
        if pattern is not None and not pattern.search(value, path, run):
            if run.probing:
                raise _Fail
            run.report(path, f"{_brief(value)} does not match {_brief(pattern.source, 100)}")
    _place(add, slot, check_string)


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
        # no duplicate settles it at C speed; lists and dicts raise TypeError.
        if len(set(value)) == len(value):
            return False
    except TypeError:
        pass
    seen = set()
    for item in value:
        key = _canon(item, run, depth)
        if key in seen:
            return True
        seen.add(key)
    return False


def _exact(number: Any) -> Fraction:
    """Return a finite number as an exact fraction; a float is its shortest repr."""
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


# Patterns

class _Pattern:
    """A pattern that passed the safety rule, with the longest string it may search."""

    __slots__ = ("source", "regex", "longest", "watch")

    def __init__(self, source: Any, pointer: str) -> None:
        if type(source) is not str:
            raise SchemaError(f"{pointer}: a pattern must be a string, not {_brief(source)}")
        self.source = source
        self.regex, cost = _compile_pattern(source, pointer)
        self.longest = _longest(cost, MAX_REGEX_WORK)
        # A search of a string over ``watch`` characters may cost more than _WATCH_WORK
        # steps: the clock is read first (and the string checked against ``longest``).
        watch = _longest(cost, _WATCH_WORK)
        self.watch = sys.maxsize if watch is None else watch

    def search(self, text: str, path: tuple, run: _Run) -> bool:
        """Return whether the pattern matches somewhere in ``text`` (at ``path``)."""
        if len(text) > self.watch:
            if self.longest is not None and len(text) > self.longest:
                raise SchemaError(f"{_where(path)}: pattern {_brief(self.source, 100)} is too costly to search in a "
                                  f"string of {len(text):,} characters (at most {self.longest:,} for this pattern)")
            run.tick()
        return self.regex.search(text) is not None


_FLAG_LETTERS = "aiLmsux"
_QUANTIFIERS = {"*": (0, None), "+": (1, None), "?": (0, 1)}
_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")
_ASCII_CLASS = re.compile(r"\[(?!\^)(?:[\x20-\x5b\x5d-\x7e]|\\[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e])+\]")
_ASCII = [chr(code) for code in range(128)]

# The parsed pattern: an alternation is a list of sequences, a sequence a list of items
# [node, least, most (None: unbounded), quantified]. Nodes are ("atom", source, literal
# character or None, ASCII-only), ("zero", "start" | "end" | "other") for assertions, and
# ("group", is_lookaround, alternation, source).


def _compile_pattern(source: str, pointer: str) -> tuple[Any, list[int]]:
    """Return (compiled regex, cost polynomial) for a pattern the rule accepts."""
    def refuse(reason: str) -> SchemaError:
        return SchemaError(f"{pointer}: pattern {_brief(source, 100)} is refused: {reason}")

    if len(source) > MAX_PATTERN_LENGTH:
        raise refuse(f"longer than {MAX_PATTERN_LENGTH:,} characters")
    parsed = _parse_pattern(source, refuse)
    try:
        regex = re.compile(source)
    except Exception as exc:  # re.error, OverflowError, RecursionError, a Warning under -W error
        raise SchemaError(f"{pointer}: invalid pattern {_brief(source, 100)}: {exc}") from None
    if parsed is None:
        raise refuse("it could not be analysed")
    if parsed[2] != source:  # "$" rewritten for ECMA 262
        regex = re.compile(parsed[2])
    alternation, flags, _ = parsed
    tests = (re.IGNORECASE if "i" in flags else 0) | (re.DOTALL if "s" in flags else 0)
    _check_repeats(alternation, tests, refuse)
    try:
        cost = _pattern_cost(alternation, flags, tests)
    except _TooCostly:
        cost = [MAX_REGEX_WORK + 1]
    if _evaluate(cost, 1) > MAX_REGEX_WORK:
        raise refuse(f"it could backtrack more than {MAX_REGEX_WORK:,} times on any string")
    return regex, cost


def _longest(cost: list[int], work: int) -> int | None:
    """Return the longest string whose cost stays under ``work`` (-1: none; None: any)."""
    if _evaluate(cost, 0) > work:
        return -1
    if len(cost) == 1:  # the cost does not grow with the string (^https?://)
        return None
    low, high = 0, work  # the leading coefficient is at least 1: cost(n) >= n
    while low < high:
        middle = (low + high + 1) // 2
        if _evaluate(cost, middle) <= work:
            low = middle
        else:
            high = middle - 1
    return low


def _parse_pattern(source: str, refuse: Callable) -> tuple[list, set, str] | None:
    """Return (alternation, flags, pattern for Python) or None if malformed (re explains)."""
    size = len(source)
    flags: set = set()
    out: list[str] = []
    dollars: list[int] = []
    at = 0
    while source.startswith("(?", at):  # global flags, allowed only here
        end = at + 2
        while end < size and source[end] in _FLAG_LETTERS:
            end += 1
        if end == at + 2 or end >= size or source[end] != ")":
            break
        flags.update(source[at + 2:end])
        out.append(source[at:end + 1])
        at = end + 1
    if "x" in flags:
        raise refuse("the verbose flag (?x) is not supported")
    stack: list[dict] = [{"alts": [[]], "look": False, "start": at}]
    while at < size:
        char = source[at]
        start = at
        sequence = stack[-1]["alts"][-1]
        node: tuple | None = None
        if char == "\\":
            if at + 1 >= size:
                return None
            code = source[at + 1]
            if code in "123456789":
                raise refuse("backreferences such as \\1 can take exponential time")
            if code in "AbBZ":
                node = ("zero", {"A": "start", "Z": "end"}.get(code, "other"))
                at += 2
            else:
                length = {"x": 4, "u": 6, "U": 10}.get(code, 2)
                if code == "N" and source.startswith("{", at + 2):
                    length = max(source.find("}", at) - at + 1, 2)
                elif code == "0":
                    while length < 4 and at + length < size and source[at + length] in "01234567":
                        length += 1
                literal = None if code.isalnum() else code
                node = ("atom", source[at:at + length], literal, literal is not None and literal.isascii())
                at += length
        elif char == "[":
            end = at + 1
            if source.startswith("[", end):
                raise refuse("'[[' reads as a nested set in Python; escape the inner '['")
            end += source.startswith("^", end)
            end += source.startswith("]", end)
            while end < size and source[end] != "]":
                if source[end] == "\\":
                    end += 2
                    continue
                if source[end] in "-&~|" and source.startswith(source[end], end + 1):
                    raise refuse(f"a doubled {source[end]!r} in a class reads as a set operation in Python; "
                                 "escape it")
                end += 1
            if end >= size:
                return None
            text = source[at:end + 1]
            node = ("atom", text, None, _ASCII_CLASS.fullmatch(text) is not None)
            at = end + 1
        elif char == "(":
            look = False
            if source.startswith("(?", at):
                mark = source[at + 2:at + 4]
                if mark[:1] in (":", ">"):
                    at += 3
                elif mark == "P<":
                    close = source.find(">", at)
                    if close < 0:
                        return None
                    at = close + 1
                elif mark == "P=":
                    raise refuse("backreferences such as (?P=name) can take exponential time")
                elif mark[:1] in ("=", "!") or mark in ("<=", "<!"):
                    look = True
                    at += 3 if mark[:1] in ("=", "!") else 4
                elif mark[:1] == "#":
                    close = source.find(")", at)
                    if close < 0:
                        return None
                    out.append(source[at:close + 1])
                    at = close + 1
                    continue
                elif mark[:1] == "(":
                    raise refuse("conditional groups (?(...)...) are not supported")
                elif mark[:1] and (mark[0] in _FLAG_LETTERS or mark[0] == "-"):
                    end = at + 2
                    while end < size and (source[end] in _FLAG_LETTERS or source[end] == "-"):
                        end += 1
                    if end >= size or source[end] not in ":)":
                        return None
                    if source[end] == ")":
                        raise refuse("inline flags such as (?i) must open the pattern")
                    letters = source[at + 2:end]
                    if "x" in letters.split("-")[0]:
                        raise refuse("the verbose flag (?x) is not supported")
                    flags.update(letters.replace("-", ""))  # any use anywhere: the safe reading
                    at = end + 1
                else:
                    return None
            else:
                at += 1
            if len(stack) > MAX_PATTERN_GROUP_DEPTH:
                raise refuse(f"groups nest deeper than {MAX_PATTERN_GROUP_DEPTH} levels")
            stack.append({"alts": [[]], "look": look, "start": start})
            out.append(source[start:at])
            continue
        elif char == ")":
            if len(stack) == 1:
                return None
            group = stack.pop()
            at += 1
            node = ("group", group["look"], group["alts"], source[group["start"]:at])
            sequence = stack[-1]["alts"][-1]
        elif char == "|":
            stack[-1]["alts"].append([])
            out.append(char)
            at += 1
            continue
        elif char in _QUANTIFIERS or (char == "{" and _BRACES.match(source, at) and
                                      not source.startswith("{}", at)):
            if char == "{":
                match = _BRACES.match(source, at)
                least = int(match.group(1) or 0)
                most = (int(match.group(3)) if match.group(3) else None) if match.group(2) else least
                at = match.end()
            else:
                least, most = _QUANTIFIERS[char]
                at += 1
            if not sequence or sequence[-1][3]:
                return None  # nothing to repeat, or a repeat of a repeat
            if at < size and source[at] in "?+":  # lazy or possessive: the same cost or less
                at += 1
            sequence[-1][1:] = [least, most, True]
            out.append(source[start:at])
            continue
        elif char == "^":
            node = ("zero", "start")
            at += 1
        elif char == "$":
            node = ("zero", "end")
            dollars.append(len(out))
            at += 1
        elif char == ".":
            node = ("atom", ".", None, False)
            at += 1
        else:
            node = ("atom", char, char, char.isascii())
            at += 1
        sequence.append([node, 1, 1, False])
        out.append(source[start:at])
    if len(stack) != 1:
        return None
    if "m" not in flags:
        for index in dollars:  # ECMA 262: "$" is the end of the input, never before a "\n"
            out[index] = r"\Z"
    return stack[0]["alts"], flags, "".join(out)


def _atoms(node: tuple) -> list[tuple]:
    if node[0] == "atom":
        return [node]
    if node[0] == "group":
        return [atom for sequence in node[2] for item in sequence for atom in _atoms(item[0])]
    return []


def _variable(item: list) -> bool:
    """Return whether an item can match strings of several lengths or in several ways."""
    node, least, most = item[0], item[1], item[2]
    if least != most:
        return True
    return node[0] == "group" and not node[1] and (
        len(node[2]) > 1 or any(_variable(inner) for sequence in node[2] for inner in sequence))


def _disjoint(one: tuple, other: tuple, tests: int) -> bool:
    """Return whether no character matches both atoms (False when unsure)."""
    for atom, against in ((one, other), (other, one)):
        if atom[2] is not None:
            chars = {atom[2], atom[2].lower(), atom[2].upper()} if tests & re.IGNORECASE else (atom[2],)
            return not any(_matches(against[1], char, tests) for char in chars)
    if not tests & re.IGNORECASE:  # case folding can map a non-ASCII character into ASCII
        for atom, against in ((one, other), (other, one)):
            if atom[3]:  # its characters are all ASCII: comparing on ASCII settles it
                return not _ascii_members(atom[1], 0) & _ascii_members(against[1], tests)
    return False


def _matches(atom: str, char: str, tests: int) -> bool:
    try:
        return re.fullmatch(atom, char, tests) is not None
    except Exception:  # an atom that does not compile alone: assume the worst
        return True


@lru_cache(maxsize=1024)
def _ascii_members(atom: str, tests: int) -> frozenset:
    return frozenset(char for char in _ASCII if _matches(atom, char, tests))


def _check_repeats(alternation: list, tests: int, refuse: Callable) -> None:
    """Refuse a repeated group that contains a quantifier or '|', unless delimited."""
    for sequence in alternation:
        for item in sequence:
            node, most = item[0], item[2]
            if node[0] != "group":
                continue
            _check_repeats(node[2], tests, refuse)
            repeated = most is None or most > 1
            if repeated and not node[1] and _variable([node, 1, 1]) and not _delimited(node[2], tests):
                raise refuse(f"the repeated group {_brief(node[3], 60)} contains a quantifier or '|' "
                             "(like (a+)+), which can take exponential time")


def _delimited(alternation: list, tests: int) -> bool:
    """Return whether a group's body can split a string in one way only (see the docstring)."""
    if len(alternation) != 1 or not alternation[0]:
        return False
    sequence = alternation[0]
    for end in (0, -1):
        node, least, most = sequence[end][:3]
        if node[0] != "atom" or node[2] is None or (least, most) != (1, 1):
            continue
        rest = sequence[1:] if end == 0 else sequence[:-1]
        variable = [item for item in rest if _variable(item)]
        if len(variable) > 1:
            continue
        if variable and variable[0][0][0] == "group" and _variable([variable[0][0], 1, 1]) and \
                variable[0][2] is not None and variable[0][2] <= 1:
            continue  # an optional or plain group with choices inside: several ways
        if all(_disjoint(atom, node, tests) for item in rest for atom in _atoms(item[0])):
            return True
    return False


# Follow sets are (atoms, end, unknown); end is 0, _FINAL (only the end of the pattern
# may follow: reaching it is a match) or _ANCHOR ("$" may follow: it can still fail).
_FINAL, _ANCHOR = 1, 2
_END = ((), _FINAL, False)
_LOOK_END = ((), _ANCHOR, False)  # inside a lookaround, the end is no match yet

# The analysis gives up (answers "unknown") past this many characters that may follow a
# quantifier: that keeps it fast on hostile patterns.
_MAX_FOLLOWERS = 16

# A cost of degree 9 passes MAX_REGEX_WORK on strings of 4 characters: refused outright.
_MAX_DEGREE = 8


class _TooCostly(Exception):
    """The cost estimate of a pattern has a degree above _MAX_DEGREE."""


def _first(sequence: list, start: int, after: tuple) -> tuple:
    """Return (atoms, may end, unknown) that can begin ``sequence[start:]`` then ``after``."""
    atoms: list = []
    unknown, end = False, 0
    for item in sequence[start:]:
        node = item[0]
        nullable = item[1] == 0
        if node[0] == "atom":
            atoms.append(node)
        elif node[0] == "zero":
            end = max(end, _ANCHOR if node[1] == "end" else 0)
            unknown = unknown or node[1] != "end"
            nullable = True
        elif node[1]:  # a lookaround: anything may come
            unknown = nullable = True
        else:
            for inner in node[2]:
                found = _first(inner, 0, ((), 0, False))
                atoms.extend(found[0])
                end, unknown = max(end, found[1]), unknown or found[2]
                nullable = nullable or all(_nullable(entry) for entry in inner)
        if not nullable or len(atoms) > _MAX_FOLLOWERS:
            break
    else:
        atoms += after[0]
        end, unknown = max(end, after[1]), unknown or after[2]
    # Past a few characters the answer is "unknown": it keeps the analysis linear.
    return atoms, end, unknown or len(atoms) > _MAX_FOLLOWERS


def _nullable(item: list) -> bool:
    node = item[0]
    if item[1] == 0 or node[0] == "zero" or (node[0] == "group" and node[1]):
        return True
    if node[0] == "atom":
        return False
    return any(all(_nullable(entry) for entry in sequence) for sequence in node[2])


def _pattern_cost(alternation: list, flags: set, tests: int) -> list[int]:
    """Return the worst-case backtracking cost as polynomial coefficients in the length."""
    top = alternation[0] if len(alternation) == 1 else []
    anchored = "m" not in flags and bool(top) and top[0][0] == ("zero", "start") and top[0][1] == 1
    ways: list = [[1]]
    work: list = [[1]]
    final: list = []
    _walk(alternation, _END, [], ways, work, tests, final)
    total = [0]
    for term in work:
        total = _add(total, term)
    for factor in ways:
        total = _multiply(total, factor)
    if not anchored:
        total = _multiply(total, [1, 1])
    for term in final:  # reached once at most: the search has succeeded
        total = _add(total, term)
    return total


def _walk(alternation: list, after: tuple, arrivals: list, ways: list, work: list, tests: int,
          final: list) -> None:
    """Sort each quantifier into ``ways`` (retried: multiplies), ``work`` (adds, per start)
    or ``final`` (nothing can fail after it: adds once)."""
    if len(alternation) > 1:
        ways.append([len(alternation)])
    for sequence in alternation:
        for index, item in enumerate(sequence):
            node, least, most = item[0], item[1], item[2]
            follows = _first(sequence, index + 1, after)
            if node[0] == "zero":
                continue
            span = [1, 1] if most is None or most > _WIDE_REPEAT else [max(most - least, 0) + 1]
            if node[0] == "group" and node[1]:  # a lookaround runs whole at each arrival
                inner_ways: list = [[1]]
                inner_work: list = [[1]]
                _walk(node[2], _LOOK_END, [], inner_ways, inner_work, tests, inner_work)
                term = [0]
                for part in inner_work:
                    term = _add(term, part)
                for factor in inner_ways + arrivals:
                    term = _multiply(term, factor)
                work.append(term)
                continue
            if node[0] == "group":
                repeated = most is None or most > 1
                inside = follows
                if repeated:  # after one round comes another round, or what follows the group
                    inner = _first([[node, 1, 1, False]], 0, ((), 0, False))
                    inside = (inner[0] + list(follows[0]), max(follows[1], inner[1]), follows[2] or inner[2])
                _walk(node[2], inside, arrivals + [span] if repeated else arrivals, ways, work, tests, final)
            if least != most:
                guarded = not follows[2] and all(_disjoint(mine, theirs, tests)
                                                 for mine in _atoms(node) for theirs in follows[0])
                if not guarded:
                    ways.append(span)
                elif follows == ([], _FINAL, False):
                    final.append(span)  # once reached, the search has matched: once per search
                else:
                    work.append(span)


def _add(one: list[int], other: list[int]) -> list[int]:
    size = max(len(one), len(other))
    return [(one[i] if i < len(one) else 0) + (other[i] if i < len(other) else 0) for i in range(size)]


def _multiply(one: list[int], other: list[int]) -> list[int]:
    if len(one) + len(other) - 2 > _MAX_DEGREE:
        raise _TooCostly
    product = [0] * (len(one) + len(other) - 1)
    for i, a in enumerate(one):
        for j, b in enumerate(other):
            product[i + j] += a * b
    return product


def _evaluate(polynomial: list[int], length: int) -> int:
    total = 0
    for coefficient in reversed(polynomial):
        total = total * length + coefficient
    return total
