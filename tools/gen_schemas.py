#!/usr/bin/env python3
"""Generate mcp_stdio/schemas/<version>.json from the official MCP JSON schemas.

Usage::

    python tools/gen_schemas.py [--spec-dir DIR] [--check]

``--spec-dir`` defaults to ``$MCP_SPEC_DIR``, else ``../shared/mcp-spec`` next to the
repository. It holds ``<version>/schema.json`` for each version (the files of the ``schema/``
folder of github.com/modelcontextprotocol/modelcontextprotocol) and a ``README.md`` naming
the commit they come from. ``--check`` writes nothing and exits with status 1 when a
committed file differs from what would be generated (or is missing, or is extra).

What each generated file holds (compact JSON, sorted keys, so that output is reproducible):

``$defs``
    every definition reachable from the message types of the version, with the pure
    annotations removed (``description``, ``title``, ``$comment``, ``examples``,
    ``default``, ``format``...) and no-op keywords dropped (``additionalProperties: {}``,
    ``properties: {}``...). References all read ``#/$defs/<Name>``, whatever the draft.
``methods``
    the index: for each method, ``kind`` (``request``, ``notification``, or ``input`` for
    a 2026-07-28 server request embedded in an InputRequiredResult), ``from`` (who sends
    it: ``client``, ``server`` or both), ``definition``, ``params`` (a JSON pointer to the
    params subschema), ``params_required``, ``result`` (the result definition of a
    request, else null), ``task`` (whether it may be task-augmented) and
    ``input_required`` (whether its result may be an InputRequiredResult).
``result_type``, ``task_result``, ``input_required_result``
    whether results carry ``resultType`` (2026-07-28), and the names of the
    CreateTaskResult and InputRequiredResult definitions (null where they do not exist).
``source``
    where the data comes from: repository, commit, path, license.

Any keyword this script does not know stops it: a new validation keyword must be looked at,
not silently dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "mcp_stdio" / "schemas"
VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")
REPOSITORY = "https://github.com/modelcontextprotocol/modelcontextprotocol"

# Keywords that take part in validation, by the shape of their value.
SCHEMA_MAPS = {"properties", "patternProperties"}
SCHEMA_LISTS = {"anyOf", "allOf", "oneOf", "prefixItems"}
SUBSCHEMAS = {"additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
              "additionalItems"}
VALUES = {"type", "required", "const", "enum", "minimum", "maximum", "exclusiveMinimum",
          "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems",
          "maxItems", "uniqueItems", "minProperties", "maxProperties"}
# JSON Schema 2020-12, "Meta-data" and "format" vocabularies: annotations, no assertion.
ANNOTATIONS = {"description", "title", "$comment", "examples", "default", "format", "deprecated",
               "readOnly", "writeOnly", "contentEncoding", "contentMediaType", "$schema"}

# The unions of the schema that say who sends what (schema.ts: ClientRequest...).
UNIONS = {
    "ClientRequest": ("request", "client"),
    "ServerRequest": ("request", "server"),
    "ClientNotification": ("notification", "client"),
    "ServerNotification": ("notification", "server"),
    # 2026-07-28: server requests travel inside an InputRequiredResult (basic/patterns/mrtr).
    "InputRequest": ("input", "server"),
}
# Further roots of reachability: every result, the JSON-RPC messages and the error types.
EXTRA_ROOTS = ("Result", "ClientResult", "ServerResult", "InputResponse", "JSONRPCMessage", "CreateTaskResult",
               "InputRequiredResult", "Error")
# Requests whose result is the empty result (schema.ts: "EmptyResult"), not <Name>Result.
EMPTY_RESULT = {"PingRequest", "SetLevelRequest", "SubscribeRequest", "UnsubscribeRequest"}


class GenError(Exception):
    """The official schema has a shape this script does not expect."""


def clean(schema, where: str, prefix: str):
    """Return ``schema`` without annotations, with references rewritten to ``#/$defs/``."""
    if type(schema) is bool:
        return schema
    if type(schema) is not dict:
        raise GenError(f"{where}: a schema must be an object or a boolean")
    out = {}
    for key, value in schema.items():
        at = f"{where}/{key}"
        if key in ANNOTATIONS:
            if key == "title" and type(value) is not str:
                raise GenError(f"{at}: a title that is not a string")
            continue
        if key == "$ref":
            if not value.startswith(prefix):
                raise GenError(f"{at}: unexpected reference {value!r}")
            out[key] = "#/$defs/" + value[len(prefix):]
        elif key in SCHEMA_MAPS:
            out[key] = {name: clean(sub, f"{at}/{name}", prefix) for name, sub in value.items()}
        elif key in SCHEMA_LISTS:
            out[key] = [clean(sub, f"{at}/{i}", prefix) for i, sub in enumerate(value)]
        elif key == "items":
            if type(value) is list:  # draft-07 tuple form
                out[key] = [clean(sub, f"{at}/{i}", prefix) for i, sub in enumerate(value)]
            else:
                out[key] = clean(value, at, prefix)
        elif key in SUBSCHEMAS:
            out[key] = clean(value, at, prefix)
        elif key in VALUES:
            out[key] = value
        else:
            raise GenError(f"{at}: unknown keyword {key!r} (add it to gen_schemas.py)")
    # Drop keywords that accept everything: "additionalProperties": {} is the default and
    # costs the validator a pass over every member.
    for key in ("additionalProperties", "items"):
        if out.get(key) is True or out.get(key) == {}:
            del out[key]
    for key in ("properties", "patternProperties", "required"):
        if key in out and not out[key]:
            del out[key]
    # {"type": "string", "const": "text"} says "text" twice, and validators check both: keep
    # the const (or enum) alone when every value it allows has the type.
    if "type" in out and ("const" in out or "enum" in out):
        types = out["type"] if type(out["type"]) is list else [out["type"]]
        values = [out["const"]] if "const" in out else out["enum"]
        if all(json_types(value) & set(types) for value in values):
            del out["type"]
    return out


def json_types(value) -> set[str]:
    """Return the JSON Schema types that ``value`` has (1 is both integer and number)."""
    if value is None:
        return {"null"}
    if type(value) is bool:
        return {"boolean"}
    if type(value) is int or (type(value) is float and value.is_integer()):
        return {"integer", "number"}
    if type(value) is float:
        return {"number"}
    return {str: {"string"}, list: {"array"}, dict: {"object"}}[type(value)]


def refs(schema) -> set[str]:
    """Return the names of the definitions that ``schema`` refers to."""
    found = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            for key, value in node.items():
                if key == "$ref":
                    found.add(value[len("#/$defs/"):].split("/")[0])
                elif key in ("const", "enum"):
                    continue
                else:
                    stack.append(value)
        elif type(node) is list:
            stack.extend(node)
    return found


def follow(defs: dict, ref: str):
    """Return the subschema that the local reference ``ref`` (``#/$defs/...``) points to."""
    node = defs
    for part in ref[len("#/$defs/"):].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def top_properties(defs: dict, schema, seen=()) -> set[str]:
    """Return the property names an object matching ``schema`` may have at its top level."""
    if type(schema) is not dict:
        return set()
    names = set(schema.get("properties") or ())
    if "$ref" in schema:
        names |= top_properties(defs, follow(defs, schema["$ref"]))
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key) or ():
            names |= top_properties(defs, sub)
    return names


def union_members(defs: dict, name: str) -> list[str]:
    """Return the definitions that the union ``name`` gathers (itself when it is no union:
    2026-07-28's ClientNotification is the one CancelledNotification, inlined)."""
    union = defs.get(name)
    if union is None:
        return []
    if "anyOf" not in union:
        return [name]
    return [option["$ref"][len("#/$defs/"):] for option in union["anyOf"]]


def build_index(defs: dict) -> dict:
    """Return the method index of one version (see the module docstring)."""
    roles: dict[str, list] = {}
    for union, role in UNIONS.items():
        for member in union_members(defs, union):
            roles.setdefault(member, []).append(role)
    entries: dict[str, dict] = {}
    for name in sorted(roles):
        definition = defs[name]
        method = ((definition.get("properties") or {}).get("method") or {}).get("const")
        if method is None:
            raise GenError(f"{name} is in a union of messages but has no method")
        kinds = {kind for kind, _ in roles[name]}
        if len(kinds) != 1:
            raise GenError(f"{name} is in unions of different kinds: {sorted(kinds)}")
        kind = kinds.pop()
        entry = describe(defs, name, kind, sorted({sender for _, sender in roles[name]}))
        old = entries.get(method)
        if old is not None:
            # One method under two names (2026-07-28: ClientNotification is an inlined
            # CancelledNotification): they must agree, and the named type wins.
            if (old["kind"], old["params"], old["result"]) != (entry["kind"], entry["params"], entry["result"]):
                raise GenError(f"{method}: {old['definition']} and {name} disagree")
            entry["from"] = sorted(set(old["from"]) | set(entry["from"]))
            if name in UNIONS:
                entry["definition"] = old["definition"]
        entries[method] = entry
    for name, definition in defs.items():
        method = ((definition.get("properties") or {}).get("method") or {}).get("const")
        if method is not None and method not in entries:
            raise GenError(f"{name} ({method}) belongs to no union of messages")
    return entries


def describe(defs: dict, name: str, kind: str, senders: list) -> dict:
    """Return the index entry of the message definition ``name``."""
    definition = defs[name]
    params = definition["properties"].get("params")
    if params is None:
        pointer = None
    elif set(params) == {"$ref"}:
        pointer = params["$ref"]
    else:
        pointer = f"#/$defs/{name}/properties/params"
    result = None
    input_required = False
    if kind != "notification":
        result = name[: -len("Request")] + "Result" if name.endswith("Request") else ""
        if result not in defs:
            if name not in EMPTY_RESULT:
                raise GenError(f"{name}: no {result} definition, and not known to return EmptyResult")
            result = "EmptyResult"
        elif name in EMPTY_RESULT:
            raise GenError(f"{name}: expected EmptyResult, found {result}")
        # 2026-07-28 names the answers a request may get: <Result>Response.
        response = defs.get(f"{result}Response")
        if response is not None:
            answer = response["properties"]["result"]
            options = [option.get("$ref", "") for option in answer.get("anyOf", [answer])]
            if f"#/$defs/{result}" not in options:
                raise GenError(f"{result}Response does not hold a {result}")
            input_required = "#/$defs/InputRequiredResult" in options
    return {
        "kind": kind,
        "from": senders,
        "definition": name,
        "params": pointer,
        "params_required": "params" in (definition.get("required") or ()),
        "result": result,
        "task": pointer is not None and kind != "notification" and "task" in top_properties(
            defs, {"$ref": pointer}),
        "input_required": input_required,
    }


def generate(spec_dir: Path, version: str, commit: str) -> str:
    """Return the text of mcp_stdio/schemas/<version>.json."""
    document = json.loads((spec_dir / version / "schema.json").read_text(encoding="utf-8"))
    key = "$defs" if "$defs" in document else "definitions"
    extra = set(document) - {key, "$schema"}
    if extra:
        raise GenError(f"{version}: unexpected top-level keys {sorted(extra)}")
    prefix = f"#/{key}/"
    defs = {name: clean(schema, f"{version}#/{key}/{name}", prefix) for name, schema in document[key].items()}
    index = build_index(defs)
    # Keep what the messages can reach.
    todo = [name for union in UNIONS for name in union_members(defs, union)]
    todo += [name for name in (*UNIONS, *EXTRA_ROOTS) if name in defs]
    todo += [entry["result"] for entry in index.values() if entry["result"]]
    todo += [name for name in defs if name.endswith(("Error", "ResultResponse"))]
    kept: set[str] = set()
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        if name not in defs:
            raise GenError(f"{version}: reference to a missing definition {name!r}")
        kept.add(name)
        todo.extend(refs(defs[name]))
    result_def = defs["Result"]
    data = {
        "$defs": {name: defs[name] for name in kept},
        "methods": index,
        "result_type": "resultType" in (result_def.get("required") or ()),
        "task_result": "CreateTaskResult" if "CreateTaskResult" in kept else None,
        "input_required_result": "InputRequiredResult" if "InputRequiredResult" in kept else None,
        "source": {
            "repository": REPOSITORY,
            "commit": commit,
            "path": f"schema/{version}/schema.json",
            "license": "MIT",
            "dialect": document.get("$schema"),
            "generator": "tools/gen_schemas.py (annotations removed, only definitions reachable from "
                         "messages kept, references rewritten to #/$defs/)",
        },
        "version": version,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def spec_commit(spec_dir: Path) -> str:
    readme = spec_dir / "README.md"
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as exc:
        raise GenError(f"cannot read {readme}: {exc.strerror}") from None
    match = re.search(r"\bcommit ([0-9a-f]{40})\b", text)
    if match is None:
        raise GenError(f"{readme} names no commit")
    return match.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("MCP_SPEC_DIR") or str(ROOT.parent / "shared" / "mcp-spec")
    parser.add_argument("--spec-dir", default=default, help=f"official schemas (default: {default})")
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    spec_dir = Path(args.spec_dir)
    try:
        commit = spec_commit(spec_dir)
        texts = {f"{version}.json": generate(spec_dir, version, commit) for version in VERSIONS}
    except (GenError, OSError) as exc:
        print(f"gen_schemas: {exc}", file=sys.stderr)
        return 2
    present = {path.name for path in OUT.glob("*.json")} if OUT.is_dir() else set()
    if args.check:
        stale = sorted(name for name, text in texts.items()
                       if not (OUT / name).is_file() or (OUT / name).read_text(encoding="utf-8") != text)
        stale += sorted(present - set(texts))
        for name in stale:
            print(f"gen_schemas: mcp_stdio/schemas/{name} is not what {spec_dir} gives", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name in sorted(present - set(texts)):
        (OUT / name).unlink()
    for name, text in texts.items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"mcp_stdio/schemas/{name}: {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
