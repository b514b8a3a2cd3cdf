"""Parse a JSON body without building its big arrays of arrays as Python objects.

A series answer is mostly arrays of rows (``[[unix_ts, value], …]``) inside a few nested
objects. :func:`parse` finds each such array in the body's bytes, parses it alone (orjson)
and hands it to the caller's ``convert`` (a decoder turns it into numpy there), so the
Python objects of one array live only while that array is converted. The rest of the
body (the small skeleton of objects, with a placeholder string where each array read
alone was) is parsed by orjson, and the arrays' values are put back in its place.

What comes back is what the whole body's parse would give, with each converted array
replaced by what ``convert`` made of it; anything this cannot prove gives None and the
caller parses the whole body as before (``NativeResponse.json``), so what parses, what
fails and every message stay as they were:

- Each candidate is the text from a ``[`` followed by ``[`` (outside strings) to the first
  ``]`` followed by ``]``. One that orjson refuses on its own stays in the skeleton as
  text; one ``convert`` declines comes back as the list orjson made of it (read once).
- A placeholder is the string ``"\\u0000@N"``. A body that holds the escape ``\\u0000``
  anywhere is not read this way, so in the skeleton's tree a string equal to a
  placeholder can only be the one written for it.
- Each placeholder must come back exactly once, as a value (never a key) nested no deeper
  than orjson parses: a candidate cut from inside a string, or any other text where an
  array could not stand, leaves the skeleton unparseable or a placeholder missing, and
  gives None. A skeleton orjson refuses gives None as well (the whole body is parsed
  and fails, or parses through the standard library, exactly as before).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from typing import Any

__all__ = ["parse"]

_START = re.compile(rb"\[[ \t\n\r]*\[")
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_END = re.compile(rb"\][ \t\n\r]*\]")
_NUL_ESCAPE = b"\\u0000"
_MAX_DEPTH = 1000  # orjson refuses a document nested deeper than 1,024 levels
_GC_PAUSE_BYTES = 1 << 20  # as NativeResponse.json: none of the new objects is garbage


def parse(content: bytes, convert: Callable[[list[Any]], object | None]) -> Any | None:
    """The body's JSON with each array of arrays ``convert`` accepts replaced by its result.

    ``convert`` gets each candidate array as orjson parses it alone and returns what stands
    in the tree for it, or None to leave it as a list. None: no array was found, or the
    result could differ from the whole body's parse; the caller parses the whole body.
    """
    if _NUL_ESCAPE in content:
        return None
    pause = len(content) >= _GC_PAUSE_BYTES and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return _parse(content, convert)
    finally:
        if pause:
            gc.enable()


def _parse(content: bytes, convert: Callable[[list[Any]], object | None]) -> Any | None:
    import orjson  # here, not at the top: check and --help never parse a body

    view = memoryview(content)
    pieces: list[bytes | memoryview] = []
    converted: dict[str, object] = {}  # placeholder -> what convert made of the array
    kept = pos = 0  # content[:kept] is in pieces; candidates are searched from pos
    outside = 0  # content[outside] is not inside a string
    while (start := _START.search(content, pos)) is not None:
        clear = _outside_strings(content, outside, start.start())
        if clear is None:  # a string that never ends: no more candidates
            break
        outside = pos = clear
        if clear > start.start():  # the candidate is inside a string: search past it
            continue
        end = _END.search(content, start.end())
        if end is None:
            break
        try:
            rows = orjson.loads(view[start.start() : end.end()])
        except orjson.JSONDecodeError:  # not one array (e.g. "[[[1]]" of "[[[1]]]"): go on
            pos = start.start() + 1
            continue
        pos = outside = end.end()  # a whole array: no candidate or string starts inside it
        value = convert(rows)
        placeholder = f"\x00@{len(converted)}"
        converted[placeholder] = rows if value is None else value  # declined: orjson's list
        del rows, value
        pieces += (view[kept : start.start()], b'"\\u0000@%d"' % (len(converted) - 1))
        kept = pos
    if not converted:
        return None
    pieces.append(view[kept:])
    try:
        tree = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError:
        return None
    return tree if _put_back(tree, converted) else None


def _outside_strings(content: bytes, outside: int, at: int) -> int | None:
    """``at`` if it is outside every string, else where its string ends, reading strings
    from ``outside`` (a position outside them); None: a string never ends."""
    while (quote := content.find(b'"', outside, at)) >= 0:
        string = _STRING.match(content, quote)
        if string is None:
            return None
        outside = string.end()
        if outside > at:
            return outside
    return at


def _put_back(tree: Any, converted: dict[str, object]) -> bool:
    """Replace each placeholder in ``tree`` by its value; False unless each is a value,
    found exactly once, no deeper than orjson parses."""
    if isinstance(tree, str):
        return False  # the body is a placeholder: it was an array, not a container of one
    found = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for key, child in items:
            if isinstance(key, str) and key in converted:
                return False
            if isinstance(child, str):
                if child in converted:
                    if depth + 2 > _MAX_DEPTH:
                        return False
                    node[key] = converted[child]
                    found += 1
            elif isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return found == len(converted)
