"""The compiler of the JSON Schema validator: keywords into checks (sans-I/O).

It turns a schema document into the closures that :class:`mcp_stdio.schema.Validator`
runs, one check ``check(value, path, run)`` per subschema. :class:`_Compiler` walks the
document without recursion, checks the type of every keyword it uses, resolves local
``$ref``, refuses in-place loops and over-long in-place chains, and hands each keyword
group (type, values, numbers, strings, objects, arrays, combinators, discriminated unions)
to its compiler here. Patterns go through :mod:`mcp_stdio.schema_patterns`; the state of a
call and JSON equality come from :mod:`mcp_stdio.schema_run`. What each keyword means is
described in :mod:`mcp_stdio.schema`.
"""

from __future__ import annotations

import math

from .errors import SchemaError
from .schema_patterns import _Pattern
from .schema_run import (
    _COMPILING,
    MAX_INSTANCE_DEPTH,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    _accept,
    _brief,
    _canon,
    _deeper,
    _exact,
    _Fail,
    _has_duplicates,
    _kind,
    _probe,
    _reject,
    _Run,
    _TooDeep,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


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
            if "%" in part:
                from urllib.parse import unquote  # rare: 4 ms of a server's start otherwise

                part = unquote(part)
            part = part.replace("~1", "/").replace("~0", "~")
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
