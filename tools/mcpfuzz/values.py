"""JSON values for the fuzzers: a permissive writer, hostile values, schema instances, mutations.

Everything here draws from a ``random.Random`` given by the caller and iterates only over
lists and insertion-ordered dicts, so the same seed gives the same bytes whatever
``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Callable

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "mcp_stdio" / "schemas"

__all__ = ["Raw", "Dup", "Ref", "dumps", "hostile", "hostile_id", "Schemas", "mutate", "text"]


class Raw:
    """JSON text written as is (``NaN``, ``1e999``, ``[[[...]]]``, a 5,000-digit number)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r})"


class Dup:
    """An object written with duplicate keys: ``pairs`` is a list of (key, value)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list) -> None:
        self.pairs = pairs

    def __repr__(self) -> str:
        return f"Dup({self.pairs!r:.80})"


class Ref:
    """A value known only when the message is sent (the id of a request of the client...).

    ``kind`` names what it refers to and ``index`` which one; the peer's resolver turns it
    into a value. Written without a resolver (in a plan's digest) as ``"<kind index>"``.
    """

    __slots__ = ("kind", "index")

    def __init__(self, kind: str, index: int) -> None:
        self.kind = kind
        self.index = index

    def __repr__(self) -> str:
        return f"Ref({self.kind!r}, {self.index})"


_encode_str_ascii = json.JSONEncoder(ensure_ascii=True).encode
_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value: Any, *, ascii: bool = False, resolve: Callable[[Ref], Any] | None = None) -> str:
    """Write ``value`` as JSON text, with :class:`Raw`, :class:`Dup` and :class:`Ref` inside.

    Floats that JSON lacks are written as Python's ``json`` does (``NaN``, ``Infinity``).
    """
    out: list = []
    _write(value, out, _encode_str_ascii if ascii else _encode_str, resolve)
    return "".join(out)


def _write(value: Any, out: list, encode_str: Callable[[str], str], resolve: Any) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        if value != value:
            out.append("NaN")
        elif value in (float("inf"), float("-inf")):
            out.append("Infinity" if value > 0 else "-Infinity")
        else:
            out.append(float.__repr__(value))
    elif kind is dict:
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(encode_str(key if type(key) is str else str(key)))
            out.append(":")
            _write(item, out, encode_str, resolve)
        out.append("}")
    elif kind is list or kind is tuple:
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, encode_str, resolve)
        out.append("]")
    elif kind is Raw:
        out.append(value.text)
    elif kind is Dup:
        out.append("{")
        out.append(",".join(encode_str(key) + ":" + dumps(item, ascii=encode_str is _encode_str_ascii,
                                                          resolve=resolve) for key, item in value.pairs))
        out.append("}")
    elif kind is Ref:
        if resolve is None:
            out.append(encode_str(f"<{value.kind} {value.index}>"))
        else:
            _write(resolve(value), out, encode_str, resolve)
    else:
        raise TypeError(f"cannot write {kind.__name__}")


# Text: short strings of the kinds that break naive code (U+2028 and U+0085 split lines
# for str.splitlines(); "²" and "٣" pass str.isdecimal() but not int(); a lone surrogate
# is legal in a JSON escape but not in UTF-8).
_TEXTS = ["", "x", "text", "é", "\u2028", "\u0085", "𝄞", "a\nb", "\\", '"', "²", "٣", "\u202e", "\x00", "\ufeff",
          "\ud800", "file:///tmp/x", "ref/prompt", "0", "-1", "1e999", "NaN", "null"]


def text(rng: random.Random) -> str:
    """Return a short string, sometimes a tricky one."""
    if rng.random() < 0.5:
        return rng.choice(("a", "b", "name", "echo", "item", "value"))
    return rng.choice(_TEXTS)


def deep(rng: random.Random) -> Raw:
    """Return deeply nested JSON (arrays or objects), within or beyond recursion limits."""
    depth = rng.choice((50, 900, 1100, 5000, 100_000))
    if rng.random() < 0.5:
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


def huge_string(rng: random.Random) -> str:
    """Return a long string: usually 64 KiB, rarely 2 MiB."""
    size = 2 * 1024 * 1024 if rng.random() < 0.02 else rng.choice((4096, 65536))
    return rng.choice(("a", "é", "\u2028", "\\")) * size


_HOSTILE = (
    None, True, False, 0, -1, 1, 2 ** 63, -(2 ** 63) - 1, 10 ** 30, 1.5, -0.0, 1e308, Raw("1e999"), Raw("-1e999"),
    float("nan"), float("inf"), "", "x", "²", "\u2028", "\ud800", [], [None], [[]], {}, {"a": None},
    {"type": "text", "text": "x"}, Raw("1" * 5000), Raw("1.0e-400"), Raw("-0"), "a" * 300,
)


def hostile(rng: random.Random) -> Any:
    """Return a value of any JSON type (or not JSON at all) that a field should not hold."""
    choice = rng.randrange(len(_HOSTILE) + 3)
    if choice < len(_HOSTILE):
        value = _HOSTILE[choice]
        return dict(value) if type(value) is dict else list(value) if type(value) is list else value
    if choice == len(_HOSTILE):
        return deep(rng)
    if choice == len(_HOSTILE) + 1 and rng.random() < 0.3:
        return huge_string(rng)
    return [rng.choice((None, 1, "x", {}, [])) for _ in range(rng.randrange(4))]


def hostile_id(rng: random.Random) -> Any:
    """Return an id of any JSON type: usable (int, str) or not, huge, empty, odd digits."""
    return rng.choice((
        0, 1, -1, 7, 2 ** 53 + 1, 2 ** 64, 10 ** 100, "1", "01", "", "x", "²", "٣", "\ud800", "a" * 1000,
        "1" * 5000, None, True, False, 1.0, 1.5, -0.0, float("nan"), Raw("1e999"), Raw("1" * 5000), [], [1], {},
        {"id": 1}, "null",
    ))


# Schema instances


class Schemas:
    """The shipped schema of one protocol version, as a generator of valid instances."""

    _loaded: dict = {}

    def __init__(self, version: str) -> None:
        data = Schemas._loaded.get(version)
        if data is None:
            with open(SCHEMAS / f"{version}.json", encoding="utf-8") as file:
                data = Schemas._loaded[version] = json.load(file)
        self.version = version
        self.defs: dict = data["$defs"]
        self.methods: dict = data["methods"]
        self.modern = bool(data["result_type"])

    def method_names(self, kind: str, sender: str) -> list:
        """Return the methods of ``kind`` that ``sender`` sends, sorted."""
        return sorted(name for name, entry in self.methods.items() if entry["kind"] == kind and sender in entry["from"])

    def params(self, rng: random.Random, method: str) -> Any:
        """Return valid params for ``method`` (``None`` when it takes none)."""
        entry = self.methods[method]
        if entry["params"] is None:
            return None
        return self.instance(rng, {"$ref": entry["params"]})

    def result(self, rng: random.Random, method: str, task: bool = False) -> Any:
        """Return a valid result of ``method`` (a CreateTaskResult when ``task``)."""
        entry = self.methods.get(method)
        name = entry["result"] if entry and entry["result"] else "Result"
        if task:
            name = "CreateTaskResult"
        result = self.instance(rng, {"$ref": f"#/$defs/{name}"})
        if self.modern and type(result) is dict and (entry is None or entry["kind"] != "input"):
            if rng.random() < 0.9:
                result["resultType"] = "complete"
            else:
                result.pop("resultType", None)  # "clients MUST treat an absent resultType as complete"
        return result

    def definition(self, rng: random.Random, name: str) -> Any:
        """Return a valid instance of the definition ``name``."""
        return self.instance(rng, {"$ref": f"#/$defs/{name}"})

    def instance(self, rng: random.Random, schema: Any, depth: int = 0) -> Any:
        """Return a valid instance of ``schema`` (a subschema of this version)."""
        schema = self._resolve(schema)
        if "allOf" in schema:
            schema = self._merge(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return rng.choice(schema["enum"])
        if "anyOf" in schema:
            return self.instance(rng, rng.choice(schema["anyOf"]), depth + 1)
        kind = schema.get("type")
        if type(kind) is list:
            kind = rng.choice(kind)
        if kind is None:
            if "properties" in schema or "required" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema:
                kind = "array"
            else:
                return self._any(rng, depth)
        if kind == "object":
            return self._object(rng, schema, depth)
        if kind == "array":
            most = schema.get("maxItems", 3)
            count = 0 if depth > 5 else min(most, rng.choice((0, 1, 1, 2, 3)))
            count = max(count, schema.get("minItems", 0))
            return [self.instance(rng, schema.get("items", {}), depth + 1) for _ in range(count)]
        if kind == "string":
            return text(rng) if rng.random() < 0.9 else "x" * rng.randrange(200)
        if kind in ("integer", "number"):
            low, high = schema.get("minimum", -5), schema.get("maximum", 1000)
            if kind == "number" and rng.random() < 0.5:
                return rng.uniform(low, high)
            return rng.randint(int(low), int(high))
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        raise ValueError(f"unknown type {kind!r}")

    def _resolve(self, schema: Any) -> dict:
        while type(schema) is dict and "$ref" in schema:
            target = self._pointer(schema["$ref"])
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {"allOf": [target, rest]} if rest else target
        return schema if type(schema) is dict else {}

    def _pointer(self, ref: str) -> dict:
        parts = ref.lstrip("#/").split("/")
        node: Any = {"$defs": self.defs}
        for part in parts:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _merge(self, schema: dict) -> dict:
        merged: dict = {key: value for key, value in schema.items() if key != "allOf"}
        properties: dict = dict(merged.get("properties", {}))
        required: list = list(merged.get("required", []))
        for part in schema["allOf"]:
            part = self._resolve(part)
            if "allOf" in part:
                part = self._merge(part)
            for key, value in part.get("properties", {}).items():
                if key in properties:
                    properties[key] = {"allOf": [properties[key], value]}
                else:
                    properties[key] = value
            required.extend(name for name in part.get("required", []) if name not in required)
            for key, value in part.items():
                if key not in ("properties", "required") and key not in merged:
                    merged[key] = value
        merged["properties"] = properties
        merged["required"] = required
        return merged

    def _object(self, rng: random.Random, schema: dict, depth: int) -> dict:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        result: dict = {}
        optional = 0.0 if depth > 6 else 0.35
        for name, subschema in properties.items():
            if name in required or rng.random() < optional:
                result[name] = self.instance(rng, subschema, depth + 1)
        extra = schema.get("additionalProperties")
        if type(extra) is dict and depth <= 5 and rng.random() < 0.3:
            for index in range(rng.randint(1, 2)):
                key = f"k{index}"
                if key not in properties:
                    result[key] = self.instance(rng, extra, depth + 1)
        return result

    def _any(self, rng: random.Random, depth: int) -> Any:
        choice = rng.randrange(7 if depth < 4 else 5)
        if choice == 0:
            return None
        if choice == 1:
            return rng.random() < 0.5
        if choice == 2:
            return rng.randint(-5, 100)
        if choice == 3:
            return text(rng)
        if choice == 4:
            return rng.uniform(-1, 1)
        if choice == 5:
            return [self._any(rng, depth + 1) for _ in range(rng.randrange(3))]
        return {f"k{index}": self._any(rng, depth + 1) for index in range(rng.randrange(3))}


# Mutations


def _paths(value: Any, limit: int = 200) -> list:
    """Return the paths (tuples of keys and indexes) of every node, root first, breadth first."""
    paths: list = [()]
    queue = [((), value)]
    while queue and len(paths) < limit:
        path, node = queue.pop(0)
        if type(node) is dict:
            items = list(node.items())
        elif type(node) is list:
            items = list(enumerate(node))
        else:
            continue
        for key, child in items:
            paths.append(path + (key,))
            queue.append((path + (key,), child))
    return paths


def _copy_along(value: Any, path: tuple) -> Any:
    """Return a copy of ``value`` whose containers along ``path`` (and ``value`` itself) are
    new; the rest is shared, and never changed in place."""
    copy = dict(value) if type(value) is dict else list(value)
    if path:
        copy[path[0]] = _copy_along(value[path[0]], path[1:])
    return copy


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def mutate(rng: random.Random, value: Any, *, keep_root: bool = True, hostile_value: Any = None) -> Any:
    """Return a copy of ``value`` with one node changed: a wrong type, a key gone or added,
    a duplicate key, a huge or deep value.

    Args:
        keep_root: never replace the root itself (a result stays an object, so that the
            mutation is one field deep, which is what shape checks must catch).
        hostile_value: the value generator (default :func:`hostile`).
    """
    make = hostile_value or hostile
    paths = _paths(value)
    if keep_root and len(paths) > 1:
        paths = paths[1:]
    path = rng.choice(paths)
    operation = rng.randrange(10)
    if not path:
        return make(rng)
    parent_path, key = path[:-1], path[-1]
    result = _copy_along(value, parent_path)
    parent = _get(result, parent_path)
    if operation <= 5:
        old = parent[key]
        new = make(rng)
        for _ in range(3):  # another type than the valid value, mostly
            if type(new) is not type(old):
                break
            new = make(rng)
        parent[key] = new
    elif operation == 6 and type(parent) is dict:
        del parent[key]
    elif operation == 7 and type(parent) is dict:
        parent[rng.choice(("zz", "_meta", "id", "result", "error", "method"))] = make(rng)
    elif operation == 8 and type(parent) is dict:
        pairs = list(parent.items()) + [(key, make(rng))]
        if parent_path:
            _set(result, parent_path, Dup(pairs))
        else:
            return Dup(pairs)
    else:
        # Type confusion with a value of another field of the same message.
        other = _get(value, rng.choice(_paths(value)))
        parent[key] = other
    return result


def _set(value: Any, path: tuple, new: Any) -> None:
    _get(value, path[:-1])[path[-1]] = new
