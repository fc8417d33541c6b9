"""Refuse deeply nested storyboards before anything recurses into them.

Python's ``json`` and PyYAML's composer, pydantic and ``json.dumps`` all recurse once per level:
a storyboard nested a few hundred levels deep (a 2 KB request) ends in a ``RecursionError`` and
a 500 with a traceback of thousands of lines. A real storyboard is five or six levels deep
(storyboard > scenes > scene > visual > motion > zoom), so :data:`MAX_NESTING` leaves ample room
and the checks here run without recursion: a scan of JSON text, an iterative walk of parsed
values, and a depth count in the YAML composer (:mod:`reelforge.spec.parse`).
"""

from __future__ import annotations

import re
from typing import Any

from reelforge.errors import SpecError

MAX_NESTING = 32
"""The deepest nesting of lists and mappings a storyboard (or request body) may have."""

# A JSON string, escapes included (the unrolled form: no backtracking on long strings).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def nesting_error(source: str, limit: int = MAX_NESTING) -> SpecError:
    return SpecError(
        f"{source} is nested more than {limit} levels deep",
        hint="storyboards, timelines and caption files need under 10 levels of lists and "
        f"mappings; at most {limit} are accepted",
    )


def json_too_deep(raw: bytes | str, limit: int = MAX_NESTING) -> bool:
    """True when the arrays and objects of JSON text nest deeper than ``limit``; no parsing.

    Brackets inside strings do not count. Text that is not valid JSON gets some answer; the
    JSON parser reports its errors afterwards.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # too few brackets to nest deeper: the common case costs two counts
    depth = 0
    for byte in _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def check_json_nesting(raw: bytes | str, source: str, limit: int = MAX_NESTING) -> None:
    """Raise :class:`SpecError` when JSON text nests deeper than ``limit``; before parsing."""
    if json_too_deep(raw, limit):
        raise nesting_error(source, limit)


def check_nesting(value: Any, source: str, limit: int = MAX_NESTING) -> None:
    """Raise :class:`SpecError` when a parsed value nests lists/mappings deeper than ``limit``.

    Iterative, and each container is visited once, so YAML aliases that share one list many
    times over (a "billion laughs") cost no more than the list itself.
    """
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        if depth > limit:
            raise nesting_error(source, limit)
        stack.extend((child, depth + 1) for child in children)
