"""Text → IR: parse a source with the grammar's LALR parser, building the IR as it reduces.

A clean text is built straight into IR in the parser's reductions (no tree, no Lark
position tracking: a rule's span is read from the first and last tokens it covers); a text
with a mistake is parsed again into Lark's tree and walked, which finds and orders every
error as before. The parser and lexer themselves live in :mod:`querylang.parser`; the
friendly wording of a syntax error in :mod:`querylang.syntax_errors`.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import math
from typing import Any

from querylang import ir
from querylang.errors import QueryError, QuerySyntaxError, SourceText
from querylang.parser import (
    KEYWORDS,
    Scan,
    Token,
    Tree,
    UnexpectedInput,
    grammar_text,
    parser,
    reducer,
    scan,
    span_of,
    without_bom,
)
from querylang.syntax_errors import shorten, syntax_error
from querylang.timegrid import MAX_DURATION_SECONDS

__all__ = ["KEYWORDS", "Scan", "Statement", "grammar_text", "parse", "parse_each", "parser", "scan"]

Statement = ir.Query | ir.ParamDecl
MAX_NESTING = 32  # lists nested deeper than this are refused (E103), never a RecursionError
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mo": 31 * 86400}


def parse(text: str, path: str = "<query>") -> ir.QueryFile:
    """Parse a whole source (one or more statements) into a QueryFile."""
    statements = _parse_text(text, SourceText(path, text))
    return ir.QueryFile(statements=tuple(statements), path=path)


def parse_each(text: str, path: str = "<query>") -> list[Statement | QueryError]:
    """Parse statement by statement, so that a syntax error does not hide the statements after it.

    The text is cut after each top-level ';' (found by the lexer, so never inside a string or
    a comment); each piece is parsed in place, with the rest blanked, so spans stay those of
    the whole source.
    """
    source = SourceText(path, text)
    cuts = [0, *(t.end_pos or 0 for t in scan(text).tokens if t.type == "_SEMI"), len(text)]
    out: list[Statement | QueryError] = []
    for start, end in itertools.pairwise(cuts):
        masked = "".join("\n" if c == "\n" else " " for c in text[:start]) + text[start:end]
        try:
            out.extend(_parse_text(masked, source))
        except QueryError as exc:
            out.append(exc)
    return out


def _parse_text(text: str, source: SourceText) -> list[Statement]:
    """Parse ``text`` (the source, or one statement of it blanked around) into IR statements.

    A text that parses cleanly is built straight into IR by the parser's reductions; any
    mistake sends it through the tree (a second parse), so that every error is found,
    ordered and worded as it always was (syntax first, then nesting, then the rest).
    """
    text = without_bom(text)
    try:
        built: list[Statement] = _direct()(text).value
        return built
    except (UnexpectedInput, QueryError, RecursionError, _TooDeep):
        pass
    try:
        tree = parser().parse(text)
        _check_nesting(tree)
        return _ToIR().transform(tree)
    except UnexpectedInput as exc:
        raise syntax_error(exc, text, source) from None
    except QueryError as exc:
        raise exc.with_source(source) from None
    except RecursionError:
        raise QuerySyntaxError(
            "E103",
            "the statement is nested too deeply",
            source=source,
            hint=f"nest lists at most {MAX_NESTING} deep; IN takes a flat list such as (1, 2)",
        ) from None


def _check_nesting(tree: Tree) -> None:
    """Refuse lists nested deeper than MAX_NESTING (walked without recursion)."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data == "list":
            depth += 1
            if depth > MAX_NESTING:
                raise QuerySyntaxError(
                    "E103",
                    f"this list is nested more than {MAX_NESTING} deep",
                    span=span_of(node.meta),
                    hint="IN takes a flat list such as (1, 2)",
                )
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))


class _TooDeep(Exception):
    """Lists nested deeper than MAX_NESTING: left to the tree's walk to report."""


class _Edges:
    """Where a reduced rule starts and ends, read as Lark's ``meta`` (for :func:`span_of`).

    It is what Lark's position tracking gives: the first and the last token the rule
    covers, filtered tokens (parentheses, ``;``) included.
    """

    __slots__ = ("empty", "first", "last")

    def __init__(self, first: Token | None, last: Token | None) -> None:
        self.empty = first is None
        self.first, self.last = first, last

    @property
    def start_pos(self) -> int | None:
        return self.first.start_pos if self.first is not None else None

    @property
    def line(self) -> int | None:
        return self.first.line if self.first is not None else None

    @property
    def column(self) -> int | None:
        return self.first.column if self.first is not None else None

    @property
    def end_pos(self) -> int | None:
        return self.last.end_pos if self.last is not None else None

    @property
    def end_line(self) -> int | None:
        return self.last.end_line if self.last is not None else None

    @property
    def end_column(self) -> int | None:
        return self.last.end_column if self.last is not None else None


class _Done:
    """A rule reduced to its IR value, with the tokens it starts and ends at and how deep
    the lists in it nest."""

    __slots__ = ("depth", "first", "last", "value")

    def __init__(self, value: Any, first: Token | None, last: Token | None, depth: int) -> None:
        self.value, self.first, self.last, self.depth = value, first, last, depth


class _Run(_Done):
    """An inlined helper rule (Lark's ``__x_star_N``): its kept children, spliced into the
    rule that uses it."""


def _reduction(rule: Any) -> Any:
    """The reduction of one grammar rule: what Lark's tree builder does (filter tokens,
    inline ``_`` rules, pass a ``?rule``'s one child through), then ``_ToIR``'s method."""
    name = rule.origin.name
    expansion = rule.expansion
    if rule.options.expand1:
        if len(expansion) != 1 or getattr(expansion[0], "filter_out", False):
            raise AssertionError(f"?{name}: expected one kept symbol")  # the grammar changed
        return _first_child
    dropped = frozenset(i for i, sym in enumerate(expansion) if sym.is_term and sym.filter_out)
    if name.startswith("_"):
        return functools.partial(_gather, dropped, None, False)
    build = getattr(_ToIR(), rule.alias or name)
    return functools.partial(_gather, dropped, build, name == "list")


def _first_child(children: list[Any]) -> Any:
    return children[0]


def _gather(dropped: frozenset[int], build: Any, nests: bool, children: list[Any]) -> _Done:
    kids: list[Any] = []
    depth = 0
    first = last = None
    for i, child in enumerate(children):
        if isinstance(child, _Done):
            if child.depth > depth:
                depth = child.depth
            if type(child) is _Run:
                kids.extend(child.value)
            else:
                kids.append(child.value)
            if first is None:
                first = child.first
            if child.last is not None:
                last = child.last
        else:
            if i not in dropped:
                kids.append(child)
            if first is None:
                first = child
            last = child
    if build is None:
        return _Run(kids, first, last, depth)
    if nests:
        depth += 1
        if depth > MAX_NESTING:
            raise _TooDeep
    return _Done(build(_Edges(first, last), kids), first, last, depth)


@functools.cache
def _direct() -> Any:
    """The parse that builds IR in its reductions (made once per process)."""
    return reducer(_reduction)


def _unquote(token: Token) -> str:
    quote = token[0]
    return token[1:-1].replace(quote * 2, quote)


def _is_keyword(child: Any) -> bool:
    return isinstance(child, Token) and child.type.endswith("_KW")


_CLAUSES = {
    "by": "BY",
    "source": "FROM",
    "where": "WHERE",
    "every": "EVERY",
    "window": "window",
    "fill": "FILL",
    "tz": "TZ",
    "align": "ALIGN TO START",
}
FILL_MODES = ("NULL", "ZERO", "PREVIOUS", "NONE")


class _ToIR:
    """Builds IR nodes from the parse tree; rejects clauses that appear twice.

    Each rule's method gets the rule's position (a tree's ``meta``, or the direct parse's
    ``_Edges``) and its children, already built bottom-up. The tree's walk is this class's
    own, not a Lark ``Transformer``: with ``v_args`` that wraps every method anew at each
    node, which cost a third of the parse.
    """

    def transform(self, tree: Tree) -> Any:
        children = [self.transform(c) if isinstance(c, Tree) else c for c in tree.children]
        build = getattr(self, tree.data, None)
        if build is None:  # a rule without a method of its own stays a tree, as in Lark
            return Tree(tree.data, children, tree.meta)
        return build(tree.meta, children)

    def start(self, meta: Any, children: list[Any]) -> list[Any]:
        return children

    def param_decl(self, meta: Any, children: list[Any]) -> ir.ParamDecl:
        _, name, value = children
        return ir.ParamDecl(name=str(name)[1:], value=value, span=span_of(meta))

    def query(self, meta: Any, children: list[Any]) -> ir.Query:
        parts = [c for c in children if not _is_keyword(c)]
        name = None
        if isinstance(parts[0], Token):
            name = ir.Name(value=str(parts[0]), span=span_of(parts[0]))
            parts = parts[1:]
        select, *clauses = parts
        seen: dict[str, Any] = {}
        for kind, value, span in clauses:
            if kind in seen:
                label = _CLAUSES[kind]
                what = "a time window (LAST, SINCE or BETWEEN)" if kind == "window" else label
                raise QuerySyntaxError(
                    "E102",
                    f"{what} is given twice in one query",
                    span=span,
                    hint=f"keep one {label} clause; each clause may appear at most once",
                )
            seen[kind] = value
        span = span_of(meta)
        if "source" not in seen:
            raise QuerySyntaxError(
                "E104",
                "the query has no FROM clause",
                span=span,
                hint="name the provider to ask, e.g. FROM gcore",
            )
        return ir.Query(
            name=name,
            select=tuple(select),
            sources=seen["source"],
            by=tuple(seen.get("by", ())),
            where=tuple(seen.get("where", ())),
            every=seen.get("every"),
            window=seen.get("window"),
            fill=seen.get("fill"),
            tz=seen.get("tz"),
            align=seen.get("align"),
            span=span,
        )

    def select(self, meta: Any, children: list[Any]) -> list[ir.MetricRef]:
        return [c for c in children if not _is_keyword(c)]

    def metric(self, meta: Any, children: list[Any]) -> ir.MetricRef:
        names = [c for c in children if not _is_keyword(c)]
        alias = ir.Name(value=str(names[1]), span=span_of(names[1])) if len(names) > 1 else None
        return ir.MetricRef(
            name=ir.Name(value=str(names[0]), span=span_of(names[0])),
            alias=alias,
            span=span_of(meta),
        )

    def by(self, meta: Any, children: list[Any]) -> tuple[str, tuple[ir.Name, ...], ir.Span]:
        names = tuple(
            ir.Name(value=str(c), span=span_of(c)) for c in children if not _is_keyword(c)
        )
        return ("by", names, span_of(meta))

    def source(self, meta: Any, children: list[Any]) -> tuple[str, tuple[ir.Source, ...], ir.Span]:
        return ("source", tuple(c for c in children if isinstance(c, ir.Source)), span_of(meta))

    def source_item(self, meta: Any, children: list[Any]) -> ir.Source:
        names = [ir.Name(value=str(c), span=span_of(c)) for c in children if not _is_keyword(c)]
        return ir.Source(
            provider=names[0],
            dataset=names[1] if len(names) > 1 else None,
            span=span_of(meta),
        )

    def where(
        self, meta: Any, children: list[Any]
    ) -> tuple[str, tuple[ir.Predicate, ...], ir.Span]:
        preds = tuple(c for c in children if not _is_keyword(c))
        return ("where", preds, span_of(meta))

    def _predicate(self, meta: Any, children: list[Any], op: ir.PredicateOp) -> ir.Predicate:
        parts = [c for c in children if not _is_keyword(c)]
        name, value = parts[0], parts[-1]
        return ir.Predicate(
            dimension=ir.Name(value=str(name), span=span_of(name)),
            op=op,
            value=value,
            span=span_of(meta),
        )

    def eq(self, meta: Any, children: list[Any]) -> ir.Predicate:
        return self._predicate(meta, children, "=")

    def ne(self, meta: Any, children: list[Any]) -> ir.Predicate:
        return self._predicate(meta, children, "!=")

    def in_(self, meta: Any, children: list[Any]) -> ir.Predicate:
        return self._predicate(meta, children, "IN")

    def not_in(self, meta: Any, children: list[Any]) -> ir.Predicate:
        return self._predicate(meta, children, "NOT IN")

    def every(self, meta: Any, children: list[Any]) -> tuple[str, Any, ir.Span]:
        return ("every", children[-1], span_of(meta))

    def last(self, meta: Any, children: list[Any]) -> tuple[str, ir.Last, ir.Span]:
        span = span_of(meta)
        return ("window", ir.Last(duration=children[-1], span=span), span)

    def between(self, meta: Any, children: list[Any]) -> tuple[str, ir.Between, ir.Span]:
        start, end = [c for c in children if not _is_keyword(c)]
        span = span_of(meta)
        return ("window", ir.Between(start=start, end=end, span=span), span)

    def since(self, meta: Any, children: list[Any]) -> tuple[str, ir.Since, ir.Span]:
        span = span_of(meta)
        return ("window", ir.Since(start=children[-1], span=span), span)

    def fill(self, meta: Any, children: builtins.list[Any]) -> tuple[str, ir.Fill, ir.Span]:
        token = children[-1]
        mode = str(token).upper()
        if mode not in FILL_MODES:
            raise QuerySyntaxError(
                "E120",
                f"FILL takes NULL, ZERO, PREVIOUS or NONE, not {shorten(str(token))}",
                span=span_of(token),
                hint="write FILL NULL (missing stays missing), FILL ZERO, FILL PREVIOUS (gauges) "
                "or FILL NONE (drop empty buckets)",
            )
        span = span_of(meta)
        return ("fill", ir.Fill(mode=mode, span=span), span)  # type: ignore[arg-type]

    def tz(self, meta: Any, children: builtins.list[Any]) -> tuple[str, ir.TimeZone, ir.Span]:
        span = span_of(meta)
        return ("tz", ir.TimeZone(zone=children[-1], span=span), span)

    def align(self, meta: Any, children: builtins.list[Any]) -> tuple[str, ir.Align, ir.Span]:
        span = span_of(meta)
        return ("align", ir.Align(span=span), span)

    def list(self, meta: Any, children: builtins.list[Any]) -> ir.ListValue:
        return ir.ListValue(items=tuple(children), span=span_of(meta))

    def string(self, meta: Any, children: builtins.list[Token]) -> ir.Literal:
        return ir.Literal(value=_unquote(children[0]), span=span_of(children[0]))

    def number(self, meta: Any, children: builtins.list[Token]) -> ir.Literal:
        text = str(children[0])
        try:
            value: int | float = float(text) if "." in text else int(text)
            finite = math.isfinite(float(value))
        except (ValueError, OverflowError):  # more digits than Python converts, or a float holds
            finite = False
        if not finite:
            raise QuerySyntaxError(
                "E103",
                f"the number {shorten(text)} is too large",
                span=span_of(children[0]),
                hint="write a number of at most a few hundred digits",
            )
        return ir.Literal(value=value, span=span_of(children[0]))

    def duration_lit(self, meta: Any, children: builtins.list[Token]) -> ir.Duration:
        text = str(children[0])
        unit = "mo" if text.endswith("mo") else text[-1]
        digits = text[: -len(unit)].lstrip("0")
        amount = int(digits or "0") if len(digits) < 30 else MAX_DURATION_SECONDS + 1
        seconds = amount * _UNIT_SECONDS[unit]
        if amount <= 0 or seconds > MAX_DURATION_SECONDS:
            raise QuerySyntaxError(
                "E103",
                f"the duration {shorten(text)} is "
                + ("not positive" if amount <= 0 else "longer than 1000 years"),
                span=span_of(children[0]),
                hint="durations count at least one unit, e.g. 1h"
                if amount <= 0
                else "choose a duration of at most a few years, e.g. 365d",
            )
        return ir.Duration(amount=amount, unit=unit, span=span_of(children[0]))  # type: ignore[arg-type]

    def param(self, meta: Any, children: builtins.list[Token]) -> ir.Param:
        return ir.Param(name=str(children[0])[1:], span=span_of(children[0]))
