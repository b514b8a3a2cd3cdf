"""The printer: IR → canonical text. Every layout rule of ``fmt`` is here, and only here.

PARAM lines first (in file order, no blank line between them), then the queries in file
order, one blank line apart; clauses in the order SELECT, BY, FROM, WHERE, EVERY, window;
keywords upper-case, names as written, strings single-quoted ('' inside), `, ` between
list items. A statement that fits in 80 columns stays on one line; a longer one gets one
clause per line, and a clause still too long puts one item per line (indented two spaces),
with a long value list filled over indented lines between its parentheses.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from attrs import frozen

from querylang import ir
from querylang.syntax import Statement

__all__ = ["WIDTH", "Line", "fmt_param", "fmt_query", "fmt_value", "layouts"]

WIDTH = 80
INDENT = "  "


@frozen
class _Piece:
    """Printed text and the source offsets of the names and values it prints."""

    text: str
    leaves: tuple[int, ...] = ()
    items: tuple[_Piece, ...] | None = None  # a trailing value list that may be filled


@frozen
class Line:
    text: str
    leaves: tuple[int, ...] = ()
    opens: bool = False  # a bare clause keyword: its items follow on the next lines


def fmt_value(value: ir.Value) -> str:
    """A value in canonical form: 'text' (quotes doubled), 42, 7d, $name or (a, b)."""
    return _value(value).text


def _value(value: ir.Value) -> _Piece:
    if isinstance(value, ir.ListValue):
        items = tuple(_value(v) for v in value.items)
        text = "(" + ", ".join(i.text for i in items) + ")"
        return _Piece(text, tuple(x for i in items for x in i.leaves), items)
    if isinstance(value, ir.Param):
        text = f"${value.name}"
    elif isinstance(value, ir.Duration):
        text = str(value)
    elif isinstance(value.value, str):
        text = "'" + value.value.replace("'", "''") + "'"
    elif isinstance(value.value, float):
        text = _float(value.value)
    else:
        text = str(value.value)
    return _Piece(text, (value.span.start,))


def _float(number: float) -> str:
    """Positional notation with a decimal point, so that it reads back as the same float."""
    text = format(Decimal(repr(number)), "f")
    return text if "." in text else text + ".0"


def _name(name: ir.Name) -> _Piece:
    return _Piece(name.value, (name.span.start,))


def _join(pieces: Sequence[_Piece], sep: str, prefix: str = "") -> _Piece:
    leaves = tuple(x for p in pieces for x in p.leaves)
    return _Piece(prefix + sep.join(p.text for p in pieces), leaves)


def _clauses(q: ir.Query) -> list[tuple[str, list[_Piece], str]]:
    """(keyword, items, separator) for each clause present, in canonical order."""
    out: list[tuple[str, list[_Piece], str]] = []
    metrics = [
        _join([_name(m.name), _name(m.alias)], " AS ") if m.alias else _name(m.name)
        for m in q.select
    ]
    out.append(("SELECT", metrics, ", "))
    if q.by:
        out.append(("BY", [_name(n) for n in q.by], ", "))
    sources = [
        _join([_name(s.provider), *([_name(s.dataset)] if s.dataset else [])], ".")
        for s in q.sources
    ]
    out.append(("FROM", sources, ", "))
    if q.where:
        out.append(("WHERE", [_predicate(p) for p in q.where], " AND "))
    if q.every is not None:
        out.append(("EVERY", [_value(q.every)], ""))
    win = q.window
    if isinstance(win, ir.Last):
        out.append(("LAST", [_value(win.duration)], ""))
    elif isinstance(win, ir.Since):
        out.append(("SINCE", [_value(win.start)], ""))
    elif isinstance(win, ir.Between):
        out.append(("BETWEEN", [_join([_value(win.start), _value(win.end)], " AND ")], ""))
    if q.align is not None:
        out.append(("ALIGN", [_Piece("TO START", (q.align.span.start,))], ""))
    if q.tz is not None:
        out.append(("TZ", [_value(q.tz.zone)], ""))
    if q.fill is not None:
        out.append(("FILL", [_Piece(q.fill.mode, (q.fill.span.start,))], ""))
    return out


def _predicate(p: ir.Predicate) -> _Piece:
    value = _value(p.value)
    head = _Piece(f"{p.dimension.value} {p.op} ", (p.dimension.span.start,))
    return _Piece(head.text + value.text, head.leaves + value.leaves, _list_tail(head, value))


def _list_tail(head: _Piece, value: _Piece) -> tuple[_Piece, ...] | None:
    """For a value list: the head (with its own leaves) then the list's items, for filling."""
    if value.items is None or not value.items:
        return None
    return (head, *value.items)


def _item_lines(piece: _Piece, indent: str, lead: str = "", tail: str = "") -> list[Line]:
    """One item on its line, or, when too long and ending in a list, the list filled."""
    text = indent + lead + piece.text + tail
    if len(text) <= WIDTH or piece.items is None:
        return [Line(text, piece.leaves)]
    head, *items = piece.items
    lines = [Line(f"{indent}{lead}{head.text}(", head.leaves)]
    inner = indent + INDENT
    row: list[_Piece] = []
    for item in items:
        candidate = [*row, item]
        if row and len(inner + ", ".join(p.text for p in candidate) + ",") > WIDTH:
            lines.append(Line(inner + ", ".join(p.text for p in row) + ",", _leaves(row)))
            candidate = [item]
        row = candidate
    lines.append(Line(inner + ", ".join(p.text for p in row), _leaves(row)))
    lines.append(Line(f"{indent}){tail}"))
    return lines


def _leaves(pieces: Sequence[_Piece]) -> tuple[int, ...]:
    return tuple(x for p in pieces for x in p.leaves)


def _query_lines(q: ir.Query, *, long: bool) -> list[Line]:
    clauses = _clauses(q)
    head = [_Piece(f"QUERY {q.name.value} AS", (q.name.span.start,))] if q.name else []
    if not long:
        parts = [*head, *(_join(items, sep, f"{kw} ") for kw, items, sep in clauses)]
        return [Line(" ".join(p.text for p in parts), _leaves(parts))]
    lines = [Line(p.text, p.leaves) for p in head]
    for kw, items, sep in clauses:
        one = _join(items, sep, f"{kw} ")
        if len(one.text) <= WIDTH or (len(items) == 1 and items[0].items is None):
            lines.append(Line(one.text, one.leaves))
            continue
        if len(items) == 1:
            lines.extend(_item_lines(items[0], "", f"{kw} "))
            continue
        lines.append(Line(kw, opens=True))
        for i, item in enumerate(items):
            last = i == len(items) - 1
            if sep == " AND ":
                lines.extend(_item_lines(item, INDENT, "AND " if i else ""))
            else:
                lines.extend(_item_lines(item, INDENT, tail="" if last else ","))
    return lines


def _param_lines(decl: ir.ParamDecl) -> list[Line]:
    head = _Piece(f"PARAM ${decl.name} = ", (decl.span.start,))
    value = _value(decl.value)
    piece = _Piece(head.text + value.text, head.leaves + value.leaves, _list_tail(head, value))
    return _item_lines(piece, "")


def layouts(stmt: Statement) -> tuple[list[Line], list[Line]]:
    """(one-line form, one-clause-per-line form), each ending in ';'."""
    if isinstance(stmt, ir.ParamDecl):
        short = long = _param_lines(stmt)
    else:
        short, long = _query_lines(stmt, long=False), _query_lines(stmt, long=True)
    return _end(short), _end(long)


def _end(lines: list[Line]) -> list[Line]:
    last = lines[-1]
    return [*lines[:-1], Line(last.text + ";", last.leaves, last.opens)]


def _pick(stmt: Statement) -> list[Line]:
    short, long = layouts(stmt)
    return short if len(short) == 1 and len(short[0].text) <= WIDTH else long


def fmt_query(q: ir.Query) -> str:
    """The canonical text of one query, ending in ';'."""
    return "\n".join(line.text for line in _pick(q))


def fmt_param(decl: ir.ParamDecl) -> str:
    """The canonical text of one PARAM line, ending in ';'."""
    return "\n".join(line.text for line in _pick(decl))


# -- comments -------------------------------------------------------------------------
