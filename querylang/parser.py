"""The grammar and the Lark machines built from it: an LALR parser and a lexer, once each.

``grammar/querylang.lark`` ships inside the package. :func:`parser` is the LALR parser
that :mod:`querylang.syntax` turns into IR and :mod:`querylang.syntax_errors` asks what it
expected; :func:`scan` lexes a source whole (its comments too) for ``fmt``, completion and
statement splitting. :func:`span_of` turns a token or a tree's position into an IR span.
"""

from __future__ import annotations

import functools
import importlib.resources
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from attrs import frozen
from lark import Lark, Token, UnexpectedCharacters

from querylang import ir

__all__ = ["KEYWORDS", "Scan", "grammar_text", "parser", "scan", "span_of", "without_bom"]

KEYWORDS = (
    "SELECT", "BY", "FROM", "WHERE", "AND", "NOT", "IN", "AS",
    "EVERY", "LAST", "BETWEEN", "SINCE", "QUERY", "PARAM",
)  # fmt: skip


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
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
    )


def without_bom(text: str) -> str:
    """A byte-order mark (as some editors write) read as a space, so offsets do not move."""
    return " " + text[1:] if text.startswith("\ufeff") else text


@frozen
class Scan:
    """A source lexed whole: its significant tokens, its comments, and stray characters."""

    tokens: tuple[Token, ...]
    comments: tuple[Token, ...]
    stray: tuple[int, ...]  # offsets of characters that start no token


_COMMENTS: ContextVar[list[Token]] = ContextVar("querylang_comments")


def _keep_comment(token: Token) -> Token:
    _COMMENTS.get().append(token)
    return token


@functools.cache
def _scanner() -> Lark:
    """A second instance of the grammar whose lexer also hands over the comments it skips."""
    return Lark(
        grammar_text(), parser="lalr", lexer="basic", lexer_callbacks={"COMMENT": _keep_comment}
    )


def scan(text: str) -> Scan:
    """Lex ``text`` without parsing; a character that starts no token is noted and skipped."""
    stray: list[int] = []
    text = without_bom(text)
    while True:
        comments: list[Token] = []
        reset = _COMMENTS.set(comments)
        try:
            tokens = tuple(_scanner().lex(text))
        except UnexpectedCharacters as exc:
            pos = exc.pos_in_stream or 0
            stray.append(pos)
            text = f"{text[:pos]} {text[pos + 1 :]}"
            continue
        finally:
            _COMMENTS.reset(reset)
        return Scan(tokens=tokens, comments=tuple(comments), stray=tuple(stray))


def span_of(obj: Any) -> ir.Span:
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
