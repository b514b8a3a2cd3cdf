"""The grammar and the Lark machines built from it: an LALR parser and a lexer, once each.

``grammar/querylang.lark`` ships inside the package. :func:`parser` is the LALR parser
that :mod:`querylang.syntax` turns into IR and :mod:`querylang.syntax_errors` asks what it
expected; :func:`scan` lexes a source whole (its comments too) for ``fmt``, completion and
statement splitting. :func:`span_of` turns a token or a tree's position into an IR span.
"""

from __future__ import annotations

import functools
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
    "FILL", "TZ", "ALIGN", "TO", "START",
)  # fmt: skip


def grammar_text() -> str:
    """The grammar shipped inside the package (or, in a source checkout, grammar/)."""
    here = Path(__file__).resolve().parent
    for folder in (here, here.parent):  # installed, then a source checkout
        candidate = folder / "grammar" / "querylang.lark"
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    import importlib.resources  # a package imported from a zip archive, say

    return (
        importlib.resources.files("querylang")
        .joinpath("grammar/querylang.lark")
        .read_text(encoding="utf-8")
    )


@functools.cache
def parser() -> Lark:
    """The one LALR parser of the process, built on first use.

    Lark's grammar cache (a file in querylang's cache directory, named by the grammar's
    hash and Lark's version) makes every later process load it instead of building it.
    Its lexer hands each comment it skips to :func:`scan`, when a scan is collecting them.
    """
    text = grammar_text()
    return Lark(
        text,
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _keep_comment},
        cache=_cache_file(text),
    )


def _cache_file(text: str) -> str | bool:
    """Where the built parser is kept between processes (False: nowhere writable)."""
    import hashlib
    import os

    import lark

    folder = os.environ.get("QUERYLANG_CACHE_DIR")
    if not folder:
        import platformdirs

        folder = platformdirs.user_cache_dir("querylang", appauthor=False)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(Path(folder) / f"grammar-{lark.__version__}-{digest}.lark")


def without_bom(text: str) -> str:
    """A byte-order mark (as some editors write) read as a space, so offsets do not move."""
    return " " + text[1:] if text.startswith("\ufeff") else text


@frozen
class Scan:
    """A source lexed whole: its significant tokens, its comments, and stray characters."""

    tokens: tuple[Token, ...]
    comments: tuple[Token, ...]
    stray: tuple[int, ...]  # offsets of characters that start no token


_COMMENTS: ContextVar[list[Token] | None] = ContextVar("querylang_comments", default=None)


def _keep_comment(token: Token) -> Token:
    collected = _COMMENTS.get()
    if collected is not None:  # a parse (not a scan) ignores comments
        collected.append(token)
    return token


def scan(text: str) -> Scan:
    """Lex ``text`` without parsing; a character that starts no token is noted and skipped."""
    stray: list[int] = []
    text = without_bom(text)
    while True:
        comments: list[Token] = []
        reset = _COMMENTS.set(comments)
        try:
            tokens = tuple(parser().lex(text))
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
