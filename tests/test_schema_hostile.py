"""Hostile schemas and instances: the validator raises nothing but SchemaError, and every call
ends. Bounds are proved with small budgets (a call that could run away must raise the budget's
SchemaError), never with wall-clock assertions."""

from __future__ import annotations

import pytest

from mcp_stdio import schema, schema_patterns
from mcp_stdio.errors import MCPStdioError
from mcp_stdio.schema import SchemaError, Validator

BUDGET = "validation did not finish within its budget of 0.05 s"


def refusal(document) -> str:
    with pytest.raises(SchemaError) as caught:
        Validator(document)
    return str(caught.value)


def nested(levels: int, inner=None, wrap=lambda value: [value]):
    value = inner
    for _ in range(levels):
        value = wrap(value)
    return value


def test_schema_error_is_the_library_s_and_a_value_error():
    assert issubclass(SchemaError, MCPStdioError) and issubclass(SchemaError, ValueError)


# Compile time: every malformed keyword is named, with where it is

@pytest.mark.parametrize("document, message", [
    ({"required": 5}, "#: 'required' must be an array of strings, not 5"),
    ({"required": ["a", 1]}, "#: 'required' must be an array of strings, not ['a', 1]"),
    ({"properties": []}, "#: 'properties' must be an object of schemas, not []"),
    ({"properties": {"a": 1}}, "#/properties/a: a schema must be an object or a boolean, not 1"),
    ({"patternProperties": None}, "#: 'patternProperties' must be an object of schemas, not None"),
    ({"minLength": "x"}, "#: 'minLength' must be a non-negative integer, not 'x'"),
    ({"maxItems": -1}, "#: 'maxItems' must be a non-negative integer, not -1"),
    ({"minProperties": 1.5}, "#: 'minProperties' must be a non-negative integer, not 1.5"),
    ({"maxContains": True}, "#: 'maxContains' must be a non-negative integer, not True"),
    ({"items": 3}, "#/items: a schema must be an object or a boolean, not 3"),
    ({"items": [{}, "x"]}, "#/items/1: a schema must be an object or a boolean, not 'x'"),
    ({"prefixItems": {}}, "#: 'prefixItems' must be a non-empty array of schemas, not {}"),
    ({"additionalProperties": "no"}, "#/additionalProperties: a schema must be an object or a boolean, not 'no'"),
    ({"enum": 7}, "#: 'enum' must be an array, not 7"),
    ({"type": 5}, "#: 'type' must be a type name or a non-empty array of them, not 5"),
    ({"type": []}, "#: 'type' must be a type name or a non-empty array of them, not []"),
    ({"type": ["string", "strin"]}, "#: unknown type 'strin'"),
    ({"anyOf": []}, "#: 'anyOf' must be a non-empty array of schemas, not []"),
    ({"allOf": {"type": "string"}}, "#: 'allOf' must be a non-empty array of schemas, not {'type': 'string'}"),
    ({"oneOf": [True, 2]}, "#/oneOf/1: a schema must be an object or a boolean, not 2"),
    ({"not": None}, "#/not: a schema must be an object or a boolean, not None"),
    ({"if": True, "then": []}, "#/then: a schema must be an object or a boolean, not []"),
    ({"uniqueItems": 1}, "#: 'uniqueItems' must be a boolean, not 1"),
    ({"minimum": "0"}, "#: 'minimum' must be a number, not '0'"),
    ({"exclusiveMaximum": float("nan")}, "#: 'exclusiveMaximum' must be a number, not nan"),
    ({"pattern": 5}, "#/pattern: a pattern must be a string, not 5"),
    ({"$ref": 5}, "#: $ref must be a string, not 5"),
    ({"$ref": "#/$defs/missing"}, "#: $ref '#/$defs/missing' points to nothing"),
    ({"$ref": "#anchor"}, "#: $ref '#anchor' points to nothing (anchors are not supported)"),
    ({"$ref": "https://example.com/s.json"}, "#: remote $ref 'https://example.com/s.json' is not supported "
                                             "(never fetched)"),
    ({"$defs": {"a": {"type": "nope"}}, "properties": {"x": {"$ref": "#/$defs/a"}}}, "#/$defs/a: unknown type 'nope'"),
    ("string", "#: a schema must be an object or a boolean, not 'string'"),
])
def test_malformed_keywords_are_refused_with_their_location(document, message):
    assert refusal(document) == message


@pytest.mark.parametrize("step", [0, -1, 0.0, float("inf"), float("nan"), "1", True, None])
def test_multiple_of_must_be_a_finite_number_above_zero(step):
    assert refusal({"multipleOf": step}) == f"#: 'multipleOf' must be a finite number above 0, not {step!r}"


# Compile time: loops and chains that never consume the instance

def test_a_schema_that_refers_to_itself_in_place_is_refused():
    assert refusal({"$ref": "#"}) == "the schema applies itself to the same value without end: # -> #"


def test_a_ref_loop_is_refused():
    document = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "properties": {
        "x": {"$ref": "#/$defs/a"}}}
    assert refusal(document) == ("the schema applies itself to the same value without end: "
                                 "#/$defs/a -> #/$defs/b -> #/$defs/a")


@pytest.mark.parametrize("keyword, pointer", [
    ("allOf", "#/allOf/0"), ("anyOf", "#/anyOf/0"), ("oneOf", "#/oneOf/0"), ("not", "#/not"),
    ("if", "#/if"), ("then", "#/then"), ("else", "#/else"),
])
def test_a_loop_through_any_in_place_keyword_is_refused(keyword, pointer):
    inner = {"$ref": "#"}
    document = {keyword: [inner] if keyword.endswith("Of") else inner}
    if keyword in ("then", "else"):
        document["if"] = {"type": "string"}
    assert refusal(document) == f"the schema applies itself to the same value without end: # -> {pointer} -> #"


def test_recursion_through_properties_and_items_is_fine():
    validator = Validator({"properties": {"next": {"$ref": "#"}}, "items": {"anyOf": [{"$ref": "#"}]}})
    assert validator.errors({"next": [[{"next": {}}]]}) == []


def test_an_in_place_chain_longer_than_the_limit_is_refused():
    count = schema.MAX_SCHEMA_DEPTH + 1
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(count)}
    defs[f"d{count}"] = {"type": "string"}
    assert refusal({"$defs": defs, "$ref": "#/$defs/d0"}) == (
        "#/$defs/d1: more than 64 subschemas apply in a chain to the same value ($ref, allOf, anyOf...)")


def test_a_long_chain_through_properties_compiles_without_recursion():
    count = 4_000  # 16,000 values: under the limit
    defs = {f"d{i}": {"properties": {"x": {"$ref": f"#/$defs/d{i + 1}"}}} for i in range(count)}
    defs[f"d{count}"] = {"type": "string"}
    validator = Validator({"$defs": defs, "$ref": "#/$defs/d0"})
    assert validator.errors(nested(100, 1, lambda value: {"x": value})) == []


# Compile time: size and depth of the document

@pytest.mark.parametrize("wrap", [
    lambda value: {"not": value}, lambda value: {"properties": {"a": value}}, lambda value: {"items": value},
    lambda value: {"enum": [value]}, lambda value: {"const": [value]}, lambda value: {"description": [value]},
])
def test_a_schema_900_levels_deep_is_refused(wrap):
    assert refusal(nested(900, {}, wrap)) == "the schema nests more than 64 levels of objects and arrays"


def test_a_schema_64_levels_deep_compiles():
    Validator(nested(63, {"type": "string"}, lambda value: {"items": value}))


def test_a_schema_with_too_many_values_is_refused():
    assert refusal({"enum": list(range(schema.MAX_SCHEMA_NODES))}) == (
        "the schema holds more than 20,000 JSON values")
    Validator({"enum": list(range(schema.MAX_SCHEMA_NODES - 2))})


def test_a_schema_that_contains_itself_is_refused():
    document: dict = {"type": "object"}
    document["properties"] = {"self": document}
    assert refusal(document) == "the schema nests more than 64 levels of objects and arrays"


# Patterns

@pytest.mark.parametrize("pattern, reason", [
    (r"^(a+)+$", "the repeated group '(a+)' contains a quantifier or '|' (like (a+)+), which can take "
                 "exponential time"),
    (r"(a|aa)*", "the repeated group '(a|aa)' contains a quantifier or '|' (like (a+)+), which can take "
                 "exponential time"),
    (r"^(\w+\s?)*$", r"the repeated group '(\\w+\\s?)' contains a quantifier or '|' (like (a+)+), which can "
                     "take exponential time"),
    (r"(.*a){12}", "the repeated group '(.*a)' contains a quantifier or '|' (like (a+)+), which can take "
                   "exponential time"),
    (r"^([a-z]+.)+$", "the repeated group '([a-z]+.)' contains a quantifier or '|' (like (a+)+), which can "
                      "take exponential time"),
    (r"^(?:\.[a-z]+[0-9]*)*$", r"the repeated group '(?:\\.[a-z]+[0-9]*)' contains a quantifier or '|' "
                               "(like (a+)+), which can take exponential time"),
    (r"(a)\1", r"backreferences such as \1 can take exponential time"),
    (r"(?P<x>a)(?P=x)", "backreferences such as (?P=name) can take exponential time"),
    (r"(a)?(?(1)b|c)", "conditional groups (?(...)...) are not supported"),
    (r"(?x) a b", "the verbose flag (?x) is not supported"),
    (r"a(?i)b", "inline flags such as (?i) must open the pattern"),
    (r"(?x:a)", "the verbose flag (?x) is not supported"),
    (r"[[:alpha:]]", "'[[' reads as a nested set in Python; escape the inner '['"),
    (r"[a--]", "a doubled '-' in a class reads as a set operation in Python; escape it"),
    (r"[a&&b]", "a doubled '&' in a class reads as a set operation in Python; escape it"),
    ("(" * 17 + "a" + ")" * 17, "groups nest deeper than 16 levels"),
    (r"a*" * 9 + "b", "it could backtrack more than 1,000,000 times on any string"),
    (r"(a|b|c)" * 13, "it could backtrack more than 1,000,000 times on any string"),
])
def test_patterns_that_could_run_away_are_refused(pattern, reason):
    assert refusal({"pattern": pattern}) == f"#/pattern: pattern {pattern!r} is refused: {reason}"


def test_the_pattern_that_stalled_the_event_loop_is_refused_before_any_search():
    assert refusal({"properties": {"a": {"pattern": "^(a+)+$"}}}).startswith("#/properties/a/pattern: pattern")


def test_a_pattern_longer_than_the_limit_is_refused():
    pattern = "a" * (schema.MAX_PATTERN_LENGTH + 1)
    assert refusal({"patternProperties": {pattern: {}}}) == (
        f"#/patternProperties: pattern '{'a' * 96}... is refused: longer than 1,000 characters")
    Validator({"pattern": "a" * schema.MAX_PATTERN_LENGTH})


@pytest.mark.parametrize("pattern, problem", [
    ("(", "missing ), unterminated subpattern at position 0"),
    ("[a", "unterminated character set at position 0"),
    ("a**", "multiple repeat at position 2"),
    (r"\k<x>", r"bad escape \k at position 0"),
    ("a{2,1}", "min repeat greater than max repeat at position 2"),
    ("a{99999999999}", "the repetition number is too large"),
])
def test_an_invalid_pattern_is_named(pattern, problem):
    assert refusal({"pattern": pattern}) == f"#/pattern: invalid pattern {pattern!r}: {problem}"


def test_a_polynomial_pattern_refuses_strings_past_its_limit():
    validator = Validator({"pattern": "[a-z]+$"})  # unanchored: quadratic
    assert validator.errors("a" * 900 + "!") == ["$: '" + "a" * 56 + "... does not match '[a-z]+$'"]
    with pytest.raises(SchemaError) as caught:
        validator.errors("a" * 40_000 + "!")
    assert str(caught.value) == ("$: pattern '[a-z]+$' is too costly to search in a string of 40,001 characters "
                                 "(at most 998 for this pattern)")


def test_pattern_properties_are_bounded_too():
    validator = Validator({"patternProperties": {"[a-z]+$": {"type": "integer"}}})
    with pytest.raises(SchemaError) as caught:
        validator.errors({"a" * 40_000 + "!": 1})
    assert str(caught.value) == ("$." + "a" * 37 + "...: pattern '[a-z]+$' is too costly to search in a string of "
                                 "40,001 characters (at most 998 for this pattern)")


# Instances

def test_unique_items_is_linear():
    validator = Validator({"uniqueItems": True})
    # Quadratic, these took minutes to hours; the budget turns a regression into a failure.
    assert validator.errors(list(range(20_000)), timeout=60) == []
    assert validator.errors(list(range(1_000_000)), timeout=60) == []
    assert validator.errors([{"id": i, "tags": [i, True]} for i in range(20_000)], timeout=60) == []
    assert validator.errors(list(range(1_000_000)) + [0.0], timeout=60) == ["$: items are not unique"]


def test_an_instance_nested_deeper_than_the_limit_is_an_error():
    path = "$" + "[0]" * schema.MAX_INSTANCE_DEPTH
    assert Validator({"items": {"$ref": "#"}}).errors(nested(900)) == [f"{path}: nested deeper than 128 levels"]
    assert Validator({"items": {"$ref": "#"}}).errors(nested(129)) == [f"{path}: nested deeper than 128 levels"]
    assert Validator({"items": {"$ref": "#"}}).errors(nested(128)) == []
    deep_object = nested(900, 1, lambda value: {"a": value})
    assert Validator({"additionalProperties": {"$ref": "#"}}).errors(deep_object) == [
        "$" + ".a" * 128 + ": nested deeper than 128 levels"]


@pytest.mark.parametrize("document, message", [
    ({"const": [[1]]}, "$: nested deeper than 128 levels"),
    ({"enum": [[1]]}, "$: nested deeper than 128 levels"),
    ({"uniqueItems": True}, "$: nested deeper than 128 levels"),
    ({"const": {"a": 1}}, "$: [[[[[[[[[...]]]]]]]], 1] is not {'a': 1}"),  # not even an object
    ({"type": "array", "contains": {"$ref": "#"}}, "$: no item matches 'contains'"),  # too deep: no match
    ({"anyOf": [{"items": {"$ref": "#"}}, {"type": "integer"}]}, "$: [[[[[[[[[...]]]]]]]], 1] matches none of anyOf"),
])
def test_deep_instances_never_raise_recursion_error(document, message):
    assert Validator(document).errors([nested(900), 1]) == [message]


def test_deep_values_in_const_are_compared_up_to_the_limit():
    assert Validator({"const": nested(60, 1)}).errors(nested(60, 1)) == []
    assert Validator({"const": nested(60, 1)}).errors(nested(200, 1)) == ["$: nested deeper than 128 levels"]


def test_python_s_stack_limit_is_a_schema_error():
    # 60 in-place hops per level (each with two keywords: a real call) over 120 levels.
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}", "type": "array"} for i in range(60)}
    defs["d60"] = {"items": {"$ref": "#/$defs/d0"}}
    validator = Validator({"$defs": defs, "$ref": "#/$defs/d0"})
    with pytest.raises(SchemaError) as caught:
        validator.errors(nested(120))
    assert str(caught.value) == "validation nests deeper than Python's recursion limit allows"
    with pytest.raises(SchemaError):
        validator.is_valid(nested(120))


@pytest.mark.parametrize("document, value, message", [
    ({"multipleOf": 0.1}, float("inf"), "$: inf is not a finite number"),
    ({"multipleOf": 3}, float("-inf"), "$: -inf is not a finite number"),
    ({"multipleOf": 0.5}, float("nan"), "$: nan is not a finite number"),
    ({"minimum": 0}, float("nan"), "$: nan is not a finite number"),
    ({"maximum": 0}, float("inf"), "$: inf is not a finite number"),
    ({"maximum": 0}, 10 ** 5000, "$: <a 16610-bit integer> is more than the maximum 0"),
    ({"multipleOf": 7}, 10 ** 5000, "$: <a 16610-bit integer> is not a multiple of 7"),
    ({"minimum": 10 ** 400}, 1e308, "$: 1e+308 is less than the minimum <a 1329-bit integer>"),
    ({"multipleOf": 1e-300}, 1e308, ""),
    ({"exclusiveMinimum": 0.5}, 10 ** 400, ""),
], ids=lambda value: f"{type(value).__name__}")  # pytest cannot str() a 5000-digit id
def test_numbers_never_overflow(document, value, message):
    assert Validator(document).errors(value) == ([message] if message else [])


# The budget

def exponential(width: int = 3) -> Validator:
    """A schema that tries every option at every level: width ** depth paths."""
    option = {"type": "array", "items": {"$ref": "#/$defs/t"}}
    return Validator({"$defs": {"t": {"anyOf": [option] * (width - 1) + [{"type": "integer"}]}},
                      "$ref": "#/$defs/t", "not": {"const": 0}})


def test_exponential_any_of_ends_at_the_budget():
    with pytest.raises(SchemaError) as caught:
        exponential().errors(nested(60, "x"), timeout=0.05)
    assert str(caught.value) == BUDGET


def test_exponential_one_of_and_not_end_at_the_budget():
    branch = {"type": "array", "items": {"$ref": "#/$defs/t"}}
    for root, instance in (({"oneOf": [branch, {"allOf": [branch]}, {"type": "integer"}]}, nested(60, "x")),
                           ({"not": {"anyOf": [{"not": branch}, {"not": {"allOf": [branch]}}]}}, nested(60, [])),
                           ({"if": branch, "then": branch, "else": branch}, nested(60, "x"))):
        validator = Validator({"$defs": {"t": root}, "$ref": "#/$defs/t"})
        with pytest.raises(SchemaError) as caught:
            validator.is_valid(instance, timeout=0.05)
        assert str(caught.value) == BUDGET


def test_the_budget_message_formats_the_timeout():
    with pytest.raises(SchemaError) as caught:
        exponential().errors(nested(60, "x"), timeout=0)
    assert str(caught.value) == "validation did not finish within its budget of 0 s"


def test_a_budget_large_enough_changes_nothing():
    assert exponential().errors(nested(5, 1), timeout=60) == []
    assert exponential().errors(nested(5, "x"), timeout=60) == ["$: [[[[['x']]]]] matches none of anyOf"]


def test_the_budget_covers_long_unique_items_and_long_strings():
    with pytest.raises(SchemaError) as caught:
        Validator({"items": {"uniqueItems": True}}).errors([list(range(100_000))] * 200, timeout=0.05)
    assert str(caught.value) == BUDGET
    with pytest.raises(SchemaError) as caught:
        Validator({"items": {"pattern": "^a*$"}}).errors(["a" * 900_000] * 10_000, timeout=0.05)
    assert str(caught.value) == BUDGET


def test_the_clock_is_read_before_any_costly_search():
    # Between two reads of the clock, searches that cost 1,000 steps at most: 900 characters
    # under "[a-z]+$" (quadratic) would cost 400 times that, so each is watched.
    assert schema_patterns._Pattern("[a-z]+$", "#").watch == 30
    assert schema_patterns._Pattern("^[A-Za-z0-9+/]*={0,2}$", "#").watch == 995
    assert schema_patterns._Pattern("^https?://", "#").watch > 10 ** 9
    with pytest.raises(SchemaError) as caught:
        Validator({"items": {"pattern": "[a-z]+$"}}).errors(["a" * 900 + "!"] * 10_000, timeout=0.05)
    assert str(caught.value) == BUDGET


@pytest.mark.parametrize("arguments, message", [
    ({"timeout": -1}, "timeout must be a number of seconds or None, not -1"),
    ({"timeout": "1"}, "timeout must be a number of seconds or None, not '1'"),
    ({"timeout": float("nan")}, "timeout must be a number of seconds or None, not nan"),
    ({"limit": "20"}, "limit must be an integer, not '20'"),
])
def test_bad_arguments_are_schema_errors(arguments, message):
    with pytest.raises(SchemaError) as caught:
        Validator({}).errors(1, **arguments)
    assert str(caught.value) == message


# Values that are not JSON

class Hostile:
    def __repr__(self):
        raise RuntimeError("repr")

    def __eq__(self, other):
        raise RuntimeError("eq")

    __hash__ = object.__hash__


def test_objects_that_are_not_json_are_opaque():
    value = Hostile()
    assert Validator({"type": "object"}).errors(value) == ["$: <Hostile> is not of type object"]
    assert Validator({"const": 1}).errors(value) == ["$: <Hostile> is not 1"]
    assert Validator({"enum": [[1]]}).errors([value]) == ["$: [<Hostile>] is not one of [[1]]"]
    assert Validator({"uniqueItems": True}).errors([[value], [Hostile()]]) == []
    assert Validator({"uniqueItems": True}).errors([[value], [value]]) == ["$: items are not unique"]
    assert Validator({"minimum": 0, "pattern": "x", "required": ["a"], "minItems": 1}).errors(value) == []


def test_huge_names_and_values_are_cut_in_messages():
    name = "n" * 1_000_000
    found = Validator({"additionalProperties": False, "properties": {}}).errors({name: 1})
    assert found == ["$: additional property '" + "n" * 56 + "... is not allowed"]
    found = Validator({"additionalProperties": {"type": "string"}}).errors({name: list(range(10 ** 6))})
    assert found == ["$." + "n" * 37 + "...: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16... "
                     "is not of type string"]
