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

This module is the public API. The work is done by :mod:`mcp_stdio.schema_compile` (the
compiler of keywords into checks), :mod:`mcp_stdio.schema_patterns` (the safety rule and
the cost estimate of patterns) and :mod:`mcp_stdio.schema_run` (the limits, the state of
one call, JSON values).

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
Each is a constant of this module, defined with the reason for its value beside it in
:mod:`mcp_stdio.schema_run`.

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

from .errors import SchemaError
from .schema_compile import _Compiler, _measure
from .schema_run import (  # the limits, defined beside their reasons
    CHECK_EVERY,
    MAX_INSTANCE_DEPTH,
    MAX_PATTERN_GROUP_DEPTH,
    MAX_PATTERN_LENGTH,
    MAX_REGEX_WORK,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
)
from .schema_run import _ROOT, _TOO_DEEP, _brief, _Enough, _Fail, _Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SchemaError", "Validator", "compile_schema", "MAX_SCHEMA_NODES", "MAX_SCHEMA_DEPTH",
           "MAX_INSTANCE_DEPTH", "MAX_PATTERN_LENGTH", "MAX_PATTERN_GROUP_DEPTH", "MAX_REGEX_WORK",
           "CHECK_EVERY"]


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
