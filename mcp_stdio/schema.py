"""A small JSON Schema validator (sans-I/O, standard library only).

It covers the 2020-12 keywords that tool schemas in the wild use: ``type``,
``properties``, ``required``, ``additionalProperties``, ``patternProperties``,
``propertyNames``, ``minProperties``/``maxProperties``, ``items``, ``prefixItems``,
``minItems``/``maxItems``, ``uniqueItems``, ``contains``, ``enum``, ``const``, ``anyOf``,
``oneOf``, ``allOf``, ``not``, ``if``/``then``/``else``, the numeric bounds
(``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``),
the string bounds (``minLength``, ``maxLength``, ``pattern``), and local references
(``$ref`` to ``#``, ``#/$defs/...``, ``#/definitions/...`` or any JSON pointer into the
same document). A remote ``$ref`` is never fetched: it is a :class:`SchemaError`.
Annotations (``title``, ``description``, ``default``, ``format``, ``examples``...) are
ignored, as the specification allows.

A schema is compiled once into nested closures; :func:`compile_schema` caches the result
by the schema's identity, so validating many messages against one schema costs one
compilation.
"""

from __future__ import annotations

import re

from .errors import SchemaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SchemaError", "Validator", "compile_schema"]


def _is_type(value: Any, name: str) -> bool:
    kind = type(value)
    if name == "object":
        return kind is dict
    if name == "array":
        return kind is list
    if name == "string":
        return kind is str
    if name == "integer":
        return kind is int or (kind is float and value.is_integer())
    if name == "number":
        return kind is int or kind is float
    if name == "boolean":
        return kind is bool
    if name == "null":
        return value is None
    raise SchemaError(f"unknown type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1."""
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is dict and type(b) is dict:
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class Validator:
    """A compiled schema.

    Args:
        schema: the JSON Schema (a dict, or ``True``/``False``).

    Raises:
        SchemaError: the schema is malformed or refers to a remote document.
    """

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._compiled: dict[int, Any] = {}
        self._check = self._compile(schema)

    def errors(self, instance: Any, limit: int = 20) -> list[str]:
        """Return up to ``limit`` messages, each ``path: problem``; empty when valid."""
        found: list[str] = []
        self._check(instance, "$", found)
        return found[:limit]

    def is_valid(self, instance: Any) -> bool:
        """Return whether ``instance`` is valid."""
        found: list[str] = []
        self._check(instance, "$", found)
        return not found

    # Private methods

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise SchemaError(f"remote $ref {ref!r} is not supported (never fetched)")
        node = self.schema
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if type(node) is dict and part in node:
                node = node[part]
            elif type(node) is list and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(f"$ref {ref!r} points to nothing")
        return node

    def _compile(self, schema: Any) -> Any:
        key = id(schema)
        if key in self._compiled:
            return self._compiled[key]
        if schema is True or schema == {}:
            check = _accept
        elif schema is False:
            check = _reject
        elif type(schema) is not dict:
            raise SchemaError(f"a schema must be an object or a boolean, not {schema!r:.80}")
        else:
            # Register a forwarder first so that recursive references terminate.
            slot: list = []
            self._compiled[key] = lambda value, path, out: slot[0](value, path, out)
            check = self._compile_object(schema)
            slot.append(check)
        self._compiled[key] = check
        return check

    def _compile_object(self, schema: dict) -> Any:
        checks: list = []
        add = checks.append
        if "$ref" in schema:
            target = self._compile(self._resolve(schema["$ref"]))
            add(target)
        if "type" in schema:
            names = schema["type"] if type(schema["type"]) is list else [schema["type"]]
            for name in names:
                _is_type(None, name)  # rejects unknown type names now

            def check_type(value, path, out, names=names):
                if not any(_is_type(value, name) for name in names):
                    out.append(f"{path}: {_brief(value)} is not of type {' or '.join(names)}")
            add(check_type)
        if "enum" in schema:
            options = schema["enum"]

            def check_enum(value, path, out):
                if not any(_equal(value, option) for option in options):
                    out.append(f"{path}: {_brief(value)} is not one of {options!r:.120}")
            add(check_enum)
        if "const" in schema:
            constant = schema["const"]

            def check_const(value, path, out):
                if not _equal(value, constant):
                    out.append(f"{path}: {_brief(value)} is not {constant!r:.80}")
            add(check_const)
        self._compile_numbers(schema, add)
        self._compile_strings(schema, add)
        self._compile_objects(schema, add)
        self._compile_arrays(schema, add)
        self._compile_combinators(schema, add)
        if not checks:
            return _accept
        if len(checks) == 1:
            return checks[0]

        def check_all(value, path, out):
            for check in checks:
                check(value, path, out)
        return check_all

    def _compile_numbers(self, schema: dict, add: Any) -> None:
        bounds = [(k, schema[k]) for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                           "multipleOf") if k in schema]
        if not bounds:
            return

        def check_numbers(value, path, out):
            if type(value) is bool or not isinstance(value, (int, float)):
                return
            for keyword, bound in bounds:
                if keyword == "minimum" and value < bound:
                    out.append(f"{path}: {value} is less than the minimum {bound}")
                elif keyword == "maximum" and value > bound:
                    out.append(f"{path}: {value} is more than the maximum {bound}")
                elif keyword == "exclusiveMinimum" and value <= bound:
                    out.append(f"{path}: {value} is not more than {bound}")
                elif keyword == "exclusiveMaximum" and value >= bound:
                    out.append(f"{path}: {value} is not less than {bound}")
                elif keyword == "multipleOf" and (value / bound) != int(value / bound):
                    out.append(f"{path}: {value} is not a multiple of {bound}")
        add(check_numbers)

    def _compile_strings(self, schema: dict, add: Any) -> None:
        low, high = schema.get("minLength"), schema.get("maxLength")
        pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
        if low is None and high is None and pattern is None:
            return

        def check_string(value, path, out):
            if type(value) is not str:
                return
            if low is not None and len(value) < low:
                out.append(f"{path}: string shorter than {low}")
            if high is not None and len(value) > high:
                out.append(f"{path}: string longer than {high}")
            if pattern is not None and not pattern.search(value):
                out.append(f"{path}: {_brief(value)} does not match {pattern.pattern!r}")
        add(check_string)

    def _compile_objects(self, schema: dict, add: Any) -> None:
        properties = {name: self._compile(sub) for name, sub in (schema.get("properties") or {}).items()}
        patterns = [(re.compile(p), self._compile(sub)) for p, sub in (schema.get("patternProperties") or {}).items()]
        required = schema.get("required") or ()
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is True else self._compile(extra)
        names = self._compile(schema["propertyNames"]) if "propertyNames" in schema else None
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        if not (properties or patterns or required or extra_check or names or low is not None or high is not None):
            return

        def check_object(value, path, out):
            if type(value) is not dict:
                return
            for name in required:
                if name not in value:
                    out.append(f"{path}: required property {name!r} is missing")
            for name, item in value.items():
                where = f"{path}.{name}"
                matched = False
                if name in properties:
                    properties[name](item, where, out)
                    matched = True
                for regex, check in patterns:
                    if regex.search(name):
                        check(item, where, out)
                        matched = True
                if not matched and extra_check is not None:
                    if extra is False:
                        out.append(f"{path}: additional property {name!r} is not allowed")
                    else:
                        extra_check(item, where, out)
                if names is not None:
                    names(name, where, out)
            if low is not None and len(value) < low:
                out.append(f"{path}: fewer than {low} properties")
            if high is not None and len(value) > high:
                out.append(f"{path}: more than {high} properties")
        add(check_object)

    def _compile_arrays(self, schema: dict, add: Any) -> None:
        prefix = [self._compile(sub) for sub in schema.get("prefixItems") or ()]
        items = schema.get("items")
        if type(items) is list:  # draft-07 tuple form
            prefix, items = [self._compile(sub) for sub in items], schema.get("additionalItems")
        rest = None if items is None or items is True else self._compile(items)
        contains = self._compile(schema["contains"]) if "contains" in schema else None
        low, high = schema.get("minItems"), schema.get("maxItems")
        unique = schema.get("uniqueItems", False)
        if not (prefix or rest or contains or unique or low is not None or high is not None):
            return

        def check_array(value, path, out):
            if type(value) is not list:
                return
            for index, item in enumerate(value):
                where = f"{path}[{index}]"
                if index < len(prefix):
                    prefix[index](item, where, out)
                elif rest is not None:
                    rest(item, where, out)
            if low is not None and len(value) < low:
                out.append(f"{path}: fewer than {low} items")
            if high is not None and len(value) > high:
                out.append(f"{path}: more than {high} items")
            if unique and any(_equal(value[i], value[j]) for i in range(len(value)) for j in range(i)):
                out.append(f"{path}: items are not unique")
            if contains is not None and not any(_passes(contains, item) for item in value):
                out.append(f"{path}: no item matches 'contains'")
        add(check_array)

    def _compile_combinators(self, schema: dict, add: Any) -> None:
        for sub in schema.get("allOf") or ():
            add(self._compile(sub))
        if "anyOf" in schema:
            options = [self._compile(sub) for sub in schema["anyOf"]]

            def check_any(value, path, out):
                if not any(_passes(option, value) for option in options):
                    out.append(f"{path}: {_brief(value)} matches none of anyOf")
            add(check_any)
        if "oneOf" in schema:
            options = [self._compile(sub) for sub in schema["oneOf"]]

            def check_one(value, path, out):
                count = sum(_passes(option, value) for option in options)
                if count != 1:
                    out.append(f"{path}: {_brief(value)} matches {count} of oneOf, not exactly one")
            add(check_one)
        if "not" in schema:
            negated = self._compile(schema["not"])

            def check_not(value, path, out):
                if _passes(negated, value):
                    out.append(f"{path}: {_brief(value)} must not match 'not'")
            add(check_not)
        if "if" in schema:
            condition = self._compile(schema["if"])
            then = self._compile(schema["then"]) if "then" in schema else _accept
            otherwise = self._compile(schema["else"]) if "else" in schema else _accept

            def check_if(value, path, out):
                (then if _passes(condition, value) else otherwise)(value, path, out)
            add(check_if)


def _accept(value: Any, path: str, out: list) -> None:
    return None


def _reject(value: Any, path: str, out: list) -> None:
    out.append(f"{path}: no value is allowed here")


def _passes(check: Any, value: Any) -> bool:
    found: list = []
    check(value, "", found)
    return not found


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_CACHE: dict[int, tuple[Any, Validator]] = {}


def compile_schema(schema: Any) -> Validator:
    """Return a :class:`Validator` for ``schema``, cached while the schema object lives."""
    entry = _CACHE.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    validator = Validator(schema)
    if len(_CACHE) > 1024:
        _CACHE.clear()
    _CACHE[id(schema)] = (schema, validator)
    return validator
