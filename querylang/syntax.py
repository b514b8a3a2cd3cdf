"""Text → IR: the Lark LALR parser, loaded once, and friendly syntax errors."""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, v_args
from lark.exceptions import UnexpectedEOF, UnexpectedToken, VisitError

from querylang import ir
from querylang.errors import QueryError, QuerySyntaxError, SourceText, did_you_mean

__all__ = ["KEYWORDS", "grammar_text", "parse", "parser"]

KEYWORDS = (
    "SELECT", "BY", "FROM", "WHERE", "AND", "NOT", "IN", "AS",
    "EVERY", "LAST", "BETWEEN", "SINCE", "QUERY", "PARAM",
)  # fmt: skip

_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a quoted string",
    "DURATION": "a duration such as 5m or 7d",
    "PARAM": "a $parameter",
    "COMMA": "','",
    "LPAR": "'('",
    "RPAR": "')'",
    "DOT": "'.'",
    "EQ": "'='",
    "NE": "'!='",
    "_SEMI": "';'",
    "$END": "the end of the query",
}

_EXAMPLES = {
    "SELECT needs at least one metric": ["SELECT FROM gcore", "SELECT BY region FROM gcore"],
    "a list must not end with a comma": [
        "SELECT a, FROM x",
        "SELECT a BY b, FROM x",
        "SELECT a FROM x WHERE r IN (1,)",
    ],
    "IN takes a parenthesised list such as (1, 2)": [
        "SELECT a FROM x WHERE r IN 1",
        "SELECT a FROM x WHERE r NOT IN 'a'",
    ],
    "FROM needs a provider name": ["SELECT a FROM", "SELECT a FROM 'x'", "SELECT a FROM 1"],
    "EVERY needs a duration such as 1h": [
        "SELECT a FROM x EVERY 5",
        "SELECT a FROM x EVERY x",
        "SELECT a FROM x EVERY",
    ],
    "LAST needs a duration such as 7d": ["SELECT a FROM x LAST 7", "SELECT a FROM x LAST"],
    "conditions in WHERE are joined with AND": [
        "SELECT a FROM x WHERE a = 1 b = 2",
        "SELECT a FROM x WHERE a = 1 OR b = 2",
    ],
    "statements are separated by ';'": ["SELECT a FROM x LAST 1d SELECT b FROM x LAST 1d"],
}


def grammar_text() -> str:
    """The grammar shipped inside the package (or, in a source checkout, grammar/)."""
    packaged = importlib.resources.files("querylang").joinpath("grammar/querylang.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parent.parent / "grammar" / "querylang.lark"
    return checkout.read_text(encoding="utf-8")


@functools.cache
def parser() -> Lark:
    """The LALR parser, built on first use."""
    return Lark(grammar_text(), parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False)


def parse(text: str, path: str = "<query>") -> ir.QueryFile:
    """Parse a whole source (one or more statements) into a QueryFile."""
    source = SourceText(path, text)
    try:
        tree = parser().parse(text)
        statements = _ToIR().transform(tree)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, source) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc.with_source(source) from None
        raise
    return ir.QueryFile(statements=tuple(statements), path=path)


def _span_of(obj: Any) -> ir.Span:
    if isinstance(obj, Token):
        return ir.Span(
            start=obj.start_pos or 0,
            end=obj.end_pos or 0,
            line=obj.line or 1,
            column=obj.column or 1,
            end_line=obj.end_line or 1,
            end_column=obj.end_column or 1,
        )
    meta = obj
    if getattr(meta, "empty", True):
        return ir.NO_SPAN
    return ir.Span(
        start=meta.start_pos,
        end=meta.end_pos,
        line=meta.line,
        column=meta.column,
        end_line=meta.end_line,
        end_column=meta.end_column,
    )


def _unquote(token: Token) -> str:
    quote = token[0]
    return token[1:-1].replace(quote * 2, quote)


def _is_keyword(child: Any) -> bool:
    return isinstance(child, Token) and child.type.endswith("_KW")


_CLAUSES = {"by": "BY", "source": "FROM", "where": "WHERE", "every": "EVERY", "window": "window"}


@v_args(meta=True)
class _ToIR(Transformer):
    """Builds IR nodes from the parse tree; rejects clauses that appear twice."""

    def start(self, meta: Any, children: list[Any]) -> list[Any]:
        return children

    def param_decl(self, meta: Any, children: list[Any]) -> ir.ParamDecl:
        _, name, value = children
        return ir.ParamDecl(name=str(name)[1:], value=value, span=_span_of(meta))

    def query(self, meta: Any, children: list[Any]) -> ir.Query:
        parts = [c for c in children if not _is_keyword(c)]
        name = None
        if isinstance(parts[0], Token):
            name = ir.Name(value=str(parts[0]), span=_span_of(parts[0]))
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
        span = _span_of(meta)
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
            source=seen["source"],
            by=tuple(seen.get("by", ())),
            where=tuple(seen.get("where", ())),
            every=seen.get("every"),
            window=seen.get("window"),
            span=span,
        )

    def select(self, meta: Any, children: list[Any]) -> list[ir.MetricRef]:
        return [c for c in children if not _is_keyword(c)]

    def metric(self, meta: Any, children: list[Any]) -> ir.MetricRef:
        names = [c for c in children if not _is_keyword(c)]
        alias = ir.Name(value=str(names[1]), span=_span_of(names[1])) if len(names) > 1 else None
        return ir.MetricRef(
            name=ir.Name(value=str(names[0]), span=_span_of(names[0])),
            alias=alias,
            span=_span_of(meta),
        )

    def by(self, meta: Any, children: list[Any]) -> tuple[str, tuple[ir.Name, ...], ir.Span]:
        names = tuple(ir.Name(value=str(c), span=_span_of(c)) for c in children if not _is_keyword(c))
        return ("by", names, _span_of(meta))

    def source(self, meta: Any, children: list[Any]) -> tuple[str, ir.Source, ir.Span]:
        names = [ir.Name(value=str(c), span=_span_of(c)) for c in children if not _is_keyword(c)]
        src = ir.Source(
            provider=names[0],
            dataset=names[1] if len(names) > 1 else None,
            span=_span_of(meta),
        )
        return ("source", src, _span_of(meta))

    def where(self, meta: Any, children: list[Any]) -> tuple[str, tuple[ir.Predicate, ...], ir.Span]:
        preds = tuple(c for c in children if not _is_keyword(c))
        return ("where", preds, _span_of(meta))

    def _predicate(self, meta: Any, children: list[Any], op: ir.PredicateOp) -> ir.Predicate:
        parts = [c for c in children if not _is_keyword(c)]
        name, value = parts[0], parts[-1]
        return ir.Predicate(
            dimension=ir.Name(value=str(name), span=_span_of(name)),
            op=op,
            value=value,
            span=_span_of(meta),
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
        return ("every", children[-1], _span_of(meta))

    def last(self, meta: Any, children: list[Any]) -> tuple[str, ir.Last, ir.Span]:
        span = _span_of(meta)
        return ("window", ir.Last(duration=children[-1], span=span), span)

    def between(self, meta: Any, children: list[Any]) -> tuple[str, ir.Between, ir.Span]:
        start, end = [c for c in children if not _is_keyword(c)]
        span = _span_of(meta)
        return ("window", ir.Between(start=start, end=end, span=span), span)

    def since(self, meta: Any, children: list[Any]) -> tuple[str, ir.Since, ir.Span]:
        span = _span_of(meta)
        return ("window", ir.Since(start=children[-1], span=span), span)

    def list(self, meta: Any, children: list[Any]) -> ir.ListValue:
        return ir.ListValue(items=tuple(children), span=_span_of(meta))

    def string(self, meta: Any, children: list[Token]) -> ir.Literal:
        return ir.Literal(value=_unquote(children[0]), span=_span_of(children[0]))

    def number(self, meta: Any, children: list[Token]) -> ir.Literal:
        text = str(children[0])
        value: int | float = float(text) if "." in text else int(text)
        return ir.Literal(value=value, span=_span_of(children[0]))

    def duration_lit(self, meta: Any, children: list[Token]) -> ir.Duration:
        text = str(children[0])
        unit = "mo" if text.endswith("mo") else text[-1]
        amount = int(text[: -len(unit)])
        if amount <= 0:
            raise QuerySyntaxError(
                "E103",
                f"the duration {text} is not positive",
                span=_span_of(children[0]),
                hint="durations count at least one unit, e.g. 1h",
            )
        return ir.Duration(amount=amount, unit=unit, span=_span_of(children[0]))  # type: ignore[arg-type]

    def param(self, meta: Any, children: list[Token]) -> ir.Param:
        return ir.Param(name=str(children[0])[1:], span=_span_of(children[0]))


def _expected_words(expected: set[str]) -> str:
    words = []
    for name in sorted(expected):
        if name.endswith("_KW"):
            words.append(name[:-3])
        else:
            words.append(_WORDS.get(name, name.lower()))
    words = sorted(set(words), key=lambda w: (not w.isupper(), w))
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else "something else"


def _syntax_error(exc: UnexpectedInput, source: SourceText) -> QuerySyntaxError:
    label = None
    try:
        label = exc.match_examples(parser().parse, _EXAMPLES, use_accepts=True)
    except Exception:  # noqa: BLE001 - a label is a nicety; never let it hide the real error
        label = None
    if isinstance(exc, UnexpectedCharacters):
        char = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else "?"
        span = ir.Span(
            start=exc.pos_in_stream,
            end=exc.pos_in_stream + 1,
            line=exc.line,
            column=exc.column,
            end_line=exc.line,
            end_column=exc.column + 1,
        )
        expected = _expected_words(set(exc.allowed or ()))
        message = f"unexpected character {char!r}; expected {expected}"
        hint = label or "strings are written in single quotes, e.g. region = 'eu'"
        return QuerySyntaxError("E100", message, span=span, source=source, hint=hint)
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        token = getattr(exc, "token", None)
        expected = set(getattr(exc, "expected", ()) or ())
        if getattr(exc, "accepts", None):
            expected = set(exc.accepts) or expected
        expected.discard("_SEMI") if expected - {"_SEMI", "$END"} else None
        words = _expected_words(expected)
        if token is None or token.type == "$END":
            lines = source.text.splitlines() or [""]
            line = len(lines)
            col = len(lines[-1]) + 1
            span = ir.Span(
                start=len(source.text),
                end=len(source.text),
                line=line,
                column=col,
                end_line=line,
                end_column=col + 1,
            )
            return QuerySyntaxError(
                "E101",
                f"the query ends too early; expected {words}",
                span=span,
                source=source,
                hint=label or "finish the statement",
            )
        span = _span_of(token)
        hint = label
        keywords = [e[:-3] for e in expected if e.endswith("_KW")]
        if token.type == "NAME" and keywords:
            guess = did_you_mean(str(token), keywords)
            if guess:
                hint = f"did you mean {guess}?"
        if token.type.endswith("_KW"):
            found = f"keyword {token.type.removesuffix('_KW')}"
        else:
            found = repr(str(token))
        message = f"unexpected {found}; expected {words}"
        return QuerySyntaxError("E100", message, span=span, source=source, hint=hint)
    return QuerySyntaxError("E100", str(exc), source=source)
