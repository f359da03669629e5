"""Text for the command line: escaping what a server says, typing ``key=value`` arguments
by a tool's ``inputSchema``, and checking the shapes of results before they are shown.

Pure functions (no I/O), so that every rule here is tested without a process.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "escape_text", "escape_line", "escape_json", "coerce_arguments", "string_pairs", "json_value",
    "Malformed", "need", "optional_str", "items_of", "parameters", "content_text", "json_type",
]

# ANSI escape sequences (CSI, OSC, and two-character escapes): a server's colours and
# titles are formatting, not text, and are removed from text output.
_SEQUENCES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
# Characters that drive a terminal, or reorder or hide text (Trojan Source, CVE-2021-42574):
# shown as visible \uXXXX escapes. U+2028/U+2029 end lines in some viewers; lone
# surrogates cannot be encoded at all.
_UNSAFE = (r"\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff")
_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f" + _UNSAFE + "]")
_UNSAFE_JSON = re.compile("[" + _UNSAFE + "]")  # json.dumps already escapes C0

def _escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_text(text: object) -> str:
    """Return ``text`` as a string safe to print on a terminal.

    ANSI escape sequences are removed; ``\\r\\n`` becomes ``\\n``; other control
    characters (except tab and newline), bidi controls, U+2028, U+2029 and lone surrogates
    become visible ``\\uXXXX`` escapes.
    """
    text = _SEQUENCES.sub("", str(text)).replace("\r\n", "\n")
    return _UNSAFE_TEXT.sub(_escape, text)


def escape_line(text: object) -> str:
    """Return ``text`` escaped as by :func:`escape_text`, with newlines and tabs escaped too."""
    return escape_text(text).replace("\n", "\\u000a").replace("\t", "\\u0009")


def escape_json(value: object) -> str:
    """Return ``value`` as indented JSON whose unsafe characters are ``\\uXXXX`` escapes."""
    return _UNSAFE_JSON.sub(_escape, json.dumps(value, indent=2, ensure_ascii=False))


class Malformed(Exception):
    """A result from the server lacks what the command line needs to show it."""


# Argument coercion


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_value(text: str) -> Any:
    """Parse a command-line JSON value; NaN and Infinity are refused (they are not JSON)."""
    return json.loads(text, parse_constant=_reject_constant)


def _schema_types(schema: object, depth: int = 0) -> set[str]:
    """Return the JSON types a property schema admits; empty when it does not say."""
    if not isinstance(schema, dict) or depth > 8:
        return set()
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list) and kind and all(isinstance(k, str) for k in kind):
        return set(kind)
    values = schema.get("enum")
    if "const" in schema:
        values = [schema["const"]]
    if isinstance(values, list) and values:
        return {json_type(value) for value in values}
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            types: set[str] = set()
            for branch in branches:
                found = _schema_types(branch, depth + 1)
                if not found:
                    return set()  # one branch admits anything
                types |= found
            return types
    return set()


def json_type(value: object) -> str:
    """Name the JSON type of ``value`` as JSON Schema does (``integer``, ``object``, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def coerce_arguments(pairs: list[str], input_schema: object = None) -> dict:
    """Turn ``key=value`` texts into tool arguments, typed by the tool's ``inputSchema``.

    A parameter that admits a string keeps the text; one of other known types gets the
    text parsed as JSON; an undescribed one gets JSON if the text parses, else the text.

    Raises:
        ValueError: a pair without ``=``, or text that is not JSON for a non-string type.
    """
    properties = input_schema.get("properties") if isinstance(input_schema, dict) else None
    if not isinstance(properties, dict):
        properties = {}
    result: dict = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        types = _schema_types(properties.get(key))
        if "string" in types:
            result[key] = text
            continue
        try:
            result[key] = json_value(text)
        except ValueError:
            if types:
                raise ValueError(f"{key}: expected {' or '.join(sorted(types))} (as JSON), got {text!r}") from None
            result[key] = text
    return result


def string_pairs(pairs: list[str], what: str = "") -> dict[str, str]:
    """Read ``key=value`` options (``--env``, ``--header``) into a dict; values stay strings."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected {what}key=value, got {pair!r}")
        result[key] = value
    return result


# Shapes of results: what the text output needs, checked before it is used.


_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}


def need(value: Any, kind: type, what: str) -> Any:
    """Return ``value`` if it is a ``kind``, else raise Malformed naming ``what`` was wrong."""
    if not isinstance(value, kind):
        got = json_type(value) if _is_json(value) else type(value).__name__
        raise Malformed(f"{what} must be {_KINDS[kind]}, got {got}")
    return value


def _is_json(value: object) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, list, dict))


def optional_str(item: dict, key: str, what: str) -> str:
    """Return ``item[key]`` if it is a string, ``""`` if it is absent or null; else raise Malformed."""
    value = item.get(key)
    if value is None:
        return ""
    return need(value, str, f"{what}.{key}")


def items_of(result: Any, key: str, what: str) -> list[dict]:
    """Return the list of objects under ``result[key]`` (``tools``, ``prompts``...), checked."""
    need(result, dict, f"the {what} result")
    items = need(result.get(key), list, f'"{key}"')
    for index, item in enumerate(items):
        need(item, dict, f"{key}[{index}]")
    return items


def _type_label(schema: object, depth: int = 0) -> str:
    if not isinstance(schema, dict) or depth > 4:
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list) and all(isinstance(k, str) for k in kind):
        kind = "|".join(kind)
    if kind == "array":
        items = schema.get("items")
        return f"{_type_label(items, depth + 1)}[]" if isinstance(items, dict) else "array"
    if isinstance(kind, str):
        return kind
    values = schema.get("enum")
    if isinstance(values, list) and values:
        shown = "|".join(json.dumps(v, ensure_ascii=False) for v in values[:5])
        return shown + ("|..." if len(values) > 5 else "")
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            return "|".join(_type_label(branch, depth + 1) for branch in branches[:5])
    return "any"


def parameters(tool: dict) -> str:
    """Return ``a*: number, b: string`` for a tool's ``inputSchema`` (``*``: required)."""
    schema = tool.get("inputSchema")
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return ""
    required = schema.get("required")
    required = set(r for r in required if isinstance(r, str)) if isinstance(required, list) else set()
    return ", ".join(f"{name}{'*' if name in required else ''}: {_type_label(prop)}"
                     for name, prop in schema["properties"].items())


def content_text(blocks: Any, what: str) -> str:
    """Render a list of content blocks as text for the terminal, checking each block's shape."""
    parts = []
    for index, block in enumerate(need(blocks, list, what)):
        where = f"{what}[{index}]"
        need(block, dict, where)
        kind = need(block.get("type"), str, f"{where}.type")
        if kind == "text":
            parts.append(need(block.get("text"), str, f"{where}.text"))
        elif kind == "resource":
            resource = need(block.get("resource"), dict, f"{where}.resource")
            text = resource.get("text")
            parts.append(need(text, str, f"{where}.resource.text") if text is not None
                         else f"[resource {optional_str(resource, 'uri', where + '.resource')}]")
        elif kind == "resource_link":
            parts.append(f"[link {optional_str(block, 'uri', where)}]")
        else:
            mime = optional_str(block, "mimeType", where)
            parts.append(f"[{kind} {mime}]" if mime else f"[{kind}]")
    return "\n".join(parts)
