"""The safety rule for the patterns of a JSON Schema, and their cost (sans-I/O).

Python's ``re`` backtracks, cannot be interrupted and holds the GIL, so a ``pattern`` or a
``patternProperties`` name from an untrusted schema is analysed before it is used.
:class:`_Pattern` scans it (a small parser of its own: groups, classes, quantifiers,
flags), refuses the constructs the rule forbids (backreferences, conditional groups,
verbose or misplaced flags, class syntax that Python reads differently, repeated groups
that can split a string in many ways), estimates its worst-case backtracking cost as a
polynomial in the length of the string, and derives from it the longest string one search
may take. The rule, with examples, is the "Patterns" section of :mod:`mcp_stdio.schema`.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

from .errors import SchemaError
from .schema_run import (
    _WATCH_WORK,
    _WIDE_REPEAT,
    MAX_PATTERN_GROUP_DEPTH,
    MAX_PATTERN_LENGTH,
    MAX_REGEX_WORK,
    _brief,
    _Run,
    _where,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


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
                assert match is not None  # matched in the test above
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
