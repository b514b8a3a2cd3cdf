"""Friendly syntax errors: expected tokens in words, labels for common slips, did-you-mean."""

from __future__ import annotations

import functools

from querylang import ir
from querylang.errors import QuerySyntaxError, SourceText, did_you_mean
from querylang.parser import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    parser,
    span_of,
)

__all__ = ["shorten", "syntax_error"]

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
    "$END": "the end of the statement",
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
    "FILL takes NULL, ZERO, PREVIOUS or NONE: write FILL ZERO, not FILL 0": [
        "SELECT a FROM x FILL 0",
        "SELECT a FROM x FILL 'zero'",
        "SELECT a FROM x FILL (0)",
        "SELECT a FROM x FILL",
    ],
    "conditions in WHERE are joined with AND": [
        f"SELECT a FROM x WHERE a {op} {value} {joiner} b = 2"
        for op, value in (("=", "1"), ("=", "'x'"), ("=", "1d"), ("=", "$p"), ("IN", "(1)"))
        for joiner in ("OR", "b")
    ],
    "statements are separated by ';'": ["SELECT a FROM x LAST 1d SELECT b FROM x LAST 1d"],
    "a statement starts with SELECT, QUERY name AS or PARAM": ["FROM x", "SELECT a; FROM x"],
    "parameter names start with $, e.g. PARAM $window = 7d": ["PARAM x = 1", "PARAM = 1"],
    "name a query with QUERY name AS SELECT …": ["QUERY q SELECT a FROM x", "QUERY SELECT a"],
}

_CHAR_HINTS = {
    "#": "comments start with --",
    "/": "comments start with --",
    "<": "conditions compare with = or != only",
    ">": "conditions compare with = or != only",
    "|": "join conditions with AND",
    "&": "join conditions with AND",
    "*": "name each metric to SELECT; there is no *",
}


def _expected_words(expected: set[str]) -> str:
    """Terminal names in words: keywords as written, the rest described (';' when alone)."""
    if expected - {"_SEMI", "$END"}:
        expected = expected - {"_SEMI"}
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


@functools.cache
def _example_errors() -> dict[str, UnexpectedInput]:
    """How each labelled example fails, parsed once rather than for every error."""
    errors: dict[str, UnexpectedInput] = {}
    for examples in _EXAMPLES.values():
        for example in examples:
            try:
                parser().parse(example)
            except UnexpectedInput as exc:
                # Kept as data only: no traceback (and the frames it holds) is kept alive.
                exc.__traceback__ = None
                exc.__context__ = exc.__cause__ = None
                errors[example] = exc
    return errors


def _parse_example(example: str) -> None:
    """Stands in for parsing a labelled example: raises a fresh copy of its cached error.

    The cached object itself is never raised: raising it would chain each new traceback
    onto it, so every syntax error would make it (and the memory it pins) grow.
    """
    error = _example_errors().get(example)
    if error is not None:
        fresh = type(error).__new__(type(error))
        fresh.args = error.args
        fresh.__dict__.update(error.__dict__)
        raise fresh


def shorten(text: str, width: int = 24) -> str:
    return text if len(text) <= width else f"{text[: width - 1]}…"


def _expected_at(text: str, pos: int) -> set[str]:
    """What the parser would have taken at ``pos`` (the lexer only knows it matched nothing)."""
    try:
        interactive = parser().parse_interactive(text[:pos])
        interactive.exhaust_lexer()
        return set(interactive.accepts())
    except UnexpectedInput:
        return set()


def _point(pos: int, line: int, column: int) -> ir.Span:
    return ir.Span(start=pos, end=pos + 1, line=line, column=column, end_line=line,
                   end_column=column + 1)  # fmt: skip


def syntax_error(exc: UnexpectedInput, text: str, source: SourceText) -> QuerySyntaxError:
    """A friendly E100/E101 for a Lark error on ``text`` (laid out like ``source``)."""
    label = None
    try:
        label = exc.match_examples(_parse_example, _EXAMPLES, use_accepts=True)  # type: ignore[arg-type]
    except Exception:
        label = None
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else "?"
        span = _point(pos, exc.line, exc.column)
        if char in "'\"":
            return QuerySyntaxError(
                "E100",
                "this string is not closed",
                span=span,
                source=source,
                hint=f"end it with {char} on the same line; a quote inside is doubled, as in "
                "'it''s'",
            )
        choices = _expected_words(_expected_at(text, pos))
        message = f"unexpected character {char!r}; expected {choices}"
        hint = _CHAR_HINTS.get(char) or label
        return QuerySyntaxError("E100", message, span=span, source=source, hint=hint)
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        token = getattr(exc, "token", None)
        wanted: set[str] = set(getattr(exc, "expected", ()) or ())
        accepts = getattr(exc, "accepts", None)
        if accepts:
            wanted = set(accepts) or wanted
        words = _expected_words(wanted)
        if token is None or token.type in ("$END", "_SEMI"):
            if token is not None and token.type == "_SEMI":
                span = span_of(token)
            elif token is not None and token.end_pos:
                # $END borrows the last token's position: point just after that token.
                span = _point(token.end_pos, token.end_line or 1, token.end_column or 1)
            else:
                span = _point(0, 1, 1)
            return QuerySyntaxError(
                "E101",
                f"the statement ends too early; expected {words}",
                span=span,
                source=source,
                hint=label or "finish the statement",
            )
        span = span_of(token)
        hint = label
        keywords = [e[:-3] for e in wanted if e.endswith("_KW")]
        if token.type == "NAME" and keywords:
            guess = did_you_mean(str(token), keywords)
            if guess:
                hint = f"did you mean {guess}?"
        if token.type == "NAME" and "STRING" in wanted and not hint:
            hint = f"a text value is quoted: '{shorten(str(token))}'"
        if token.type.endswith("_KW"):
            found = f"keyword {token.type.removesuffix('_KW')}"
        elif token.type == "STRING":
            found = f"string {shorten(str(token))}"
        else:
            found = repr(shorten(str(token)))
        message = f"unexpected {found}; expected {words}"
        return QuerySyntaxError("E100", message, span=span, source=source, hint=hint)
    return QuerySyntaxError("E100", str(exc), source=source)
