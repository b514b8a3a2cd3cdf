"""A Pygments lexer for the query language: the REPL, the docs and HTML reports share it.

Registered under the ``pygments.lexers`` entry point, so ``pygmentize -l querylang`` and
Markdown tools that use Pygments highlight ``qry`` blocks too.
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from querylang.syntax import KEYWORDS  # one keyword list: the grammar's

__all__ = ["QuerylangLexer", "highlight_html", "highlight_terminal"]


class QuerylangLexer(RegexLexer):
    """querylang statements: keywords, $parameters, durations, numbers, strings, comments."""

    name = "querylang"
    aliases = ["querylang", "qry"]  # noqa: RUF012 (Pygments reads class attributes)
    filenames = ["*.qry"]  # noqa: RUF012
    mimetypes = ["text/x-querylang"]  # noqa: RUF012
    flags = re.IGNORECASE

    tokens = {  # noqa: RUF012
        "root": [
            (r"\s+", Whitespace),
            (r"--[^\n]*", Comment.Single),
            (r"'(?:[^']|'')*'", String.Single),
            (r"'(?:[^']|'')*$", String.Single),  # not closed yet (while typing)
            (r"\$[A-Za-z_][A-Za-z0-9_]*", Name.Variable),
            (r"\d+(?:s|mo|m|h|d|w)\b", Number.Other),  # a duration
            (r"\d+(?:\.\d+)?(?:e[+-]?\d+)?\b", Number),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (
                r"([A-Za-z_][A-Za-z0-9_]*)(\.)([A-Za-z_][A-Za-z0-9_]*)",
                bygroups(Name.Namespace, Punctuation, Name),
            ),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"!=|<>|=", Operator),
            (r"[(),;.]", Punctuation),
            (r".", Text),
        ]
    }


def highlight_terminal(text: str) -> str:
    """``text`` with ANSI colours, for a terminal."""
    from pygments import highlight
    from pygments.formatters import TerminalFormatter

    return highlight(text, QuerylangLexer(), TerminalFormatter())


def highlight_html(text: str) -> str:
    """``text`` as highlighted HTML (``<div class="highlight">``), for reports and docs."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    return highlight(text, QuerylangLexer(), HtmlFormatter())
