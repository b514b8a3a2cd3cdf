"""The query IR: frozen, keyword-only attrs nodes that keep their source spans."""

from __future__ import annotations

from typing import Literal as TypingLiteral

from attrs import field, frozen

from querylang.records import Record

__all__ = [
    "Align",
    "Between",
    "Duration",
    "Fill",
    "Last",
    "ListValue",
    "Literal",
    "MetricRef",
    "Name",
    "Param",
    "ParamDecl",
    "Predicate",
    "Query",
    "QueryFile",
    "Since",
    "Source",
    "Span",
    "TimeZone",
    "Value",
    "Window",
]


@frozen(kw_only=True, repr=False)
class Span(Record):
    """Where a node stands in its source text (offsets are 0-based, line/column 1-based)."""

    start: int = 0
    end: int = 0
    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1


NO_SPAN = Span()


def _span() -> Span:
    return field(default=NO_SPAN, eq=False, repr=False)


@frozen(kw_only=True, repr=False)
class Name(Record):
    """An identifier: a metric, dimension, provider or query name."""

    value: str
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class Literal(Record):
    """A string or number literal."""

    value: str | int | float
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class Duration(Record):
    """A duration literal such as ``5m``; ``mo`` is a calendar month."""

    amount: int
    unit: TypingLiteral["s", "m", "h", "d", "w", "mo"]
    span: Span = _span()

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@frozen(kw_only=True, repr=False)
class Param(Record):
    """A ``$name`` placeholder, bound before the query is planned."""

    name: str
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class ListValue(Record):
    """A parenthesised list of values: ``(1, 2, 'x')``."""

    items: tuple[Value, ...]
    span: Span = _span()


Value = Literal | Duration | Param | ListValue


@frozen(kw_only=True, repr=False)
class MetricRef(Record):
    """One SELECT item: a metric and its optional output alias."""

    name: Name
    alias: Name | None = None
    span: Span = _span()

    @property
    def output_name(self) -> str:
        return (self.alias or self.name).value


@frozen(kw_only=True, repr=False)
class Source(Record):
    """FROM provider[.dataset]."""

    provider: Name
    dataset: Name | None = None
    span: Span = _span()


PredicateOp = TypingLiteral["=", "!=", "IN", "NOT IN"]


@frozen(kw_only=True, repr=False)
class Predicate(Record):
    """One WHERE condition; ``value`` is a list (or a list parameter) for IN / NOT IN."""

    dimension: Name
    op: PredicateOp
    value: Value
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class Last(Record):
    """LAST <duration>: the window ending at the current bucket boundary."""

    duration: Duration | Param
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class Between(Record):
    """BETWEEN '<ts>' AND '<ts>': the half-open window [start, end)."""

    start: Literal | Param
    end: Literal | Param
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class Since(Record):
    """SINCE '<ts>': from a timestamp to now."""

    start: Literal | Param
    span: Span = _span()


Window = Last | Between | Since

FillMode = TypingLiteral["NULL", "ZERO", "PREVIOUS", "NONE"]


@frozen(kw_only=True, repr=False)
class Fill(Record):
    """FILL NULL | ZERO | PREVIOUS | NONE: what an empty bucket of a series shows."""

    mode: FillMode
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class TimeZone(Record):
    """TZ '<IANA name>' or TZ '+05:30': days, weeks and months in local time."""

    zone: Literal | Param
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class Align(Record):
    """ALIGN TO START: EVERY buckets start at the window's start, not on the epoch grid."""

    span: Span = _span()


@frozen(kw_only=True, repr=False)
class Query(Record):
    """One SELECT statement."""

    select: tuple[MetricRef, ...]
    sources: tuple[Source, ...]  # FROM a, b: one or more, each at most once
    by: tuple[Name, ...] = ()
    where: tuple[Predicate, ...] = ()
    every: Duration | Param | None = None
    window: Window | None = None
    fill: Fill | None = None
    tz: TimeZone | None = None
    align: Align | None = None
    name: Name | None = None
    span: Span = _span()

    @property
    def source(self) -> Source:
        """The first (for a single-source query, the only) FROM item."""
        return self.sources[0]


@frozen(kw_only=True, repr=False)
class ParamDecl(Record):
    """PARAM $name = value: a default for a placeholder, visible to every query in the file."""

    name: str
    value: Value
    span: Span = _span()


@frozen(kw_only=True, repr=False)
class QueryFile(Record):
    """A parsed source: its statements in order, and where it came from."""

    statements: tuple[Query | ParamDecl, ...]
    path: str = field(default="<query>", eq=False)

    @property
    def queries(self) -> tuple[Query, ...]:
        return tuple(s for s in self.statements if isinstance(s, Query))

    @property
    def params(self) -> tuple[ParamDecl, ...]:
        return tuple(s for s in self.statements if isinstance(s, ParamDecl))
