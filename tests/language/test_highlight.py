"""The Pygments lexer: every part of a statement gets its token type; Pygments finds it."""

from __future__ import annotations

from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String

from querylang.highlight import QuerylangLexer, highlight_html, highlight_terminal
from querylang.syntax import KEYWORDS

TEXT = "PARAM $w = 7d;\nselect sent_bytes AS b BY region FROM gcore.storage WHERE r IN (1, 'it''s') EVERY 1h LAST $w -- why\n"


def test_tokens() -> None:
    tokens = [(t, v) for t, v in QuerylangLexer().get_tokens(TEXT) if v.strip()]
    assert tokens == [
        (Keyword, "PARAM"), (Name.Variable, "$w"), (Operator, "="), (Number.Other, "7d"),
        (Punctuation, ";"), (Keyword, "select"), (Name, "sent_bytes"), (Keyword, "AS"),
        (Name, "b"), (Keyword, "BY"), (Name, "region"), (Keyword, "FROM"),
        (Name.Namespace, "gcore"), (Punctuation, "."), (Name, "storage"), (Keyword, "WHERE"),
        (Name, "r"), (Keyword, "IN"), (Punctuation, "("), (Number, "1"), (Punctuation, ","),
        (String.Single, "'it''s'"), (Punctuation, ")"), (Keyword, "EVERY"),
        (Number.Other, "1h"), (Keyword, "LAST"), (Name.Variable, "$w"),
        (Comment.Single, "-- why"),
    ]  # fmt: skip


def test_every_keyword_of_the_grammar_is_a_keyword() -> None:
    for keyword in KEYWORDS:
        ((token, _), *_) = QuerylangLexer().get_tokens(keyword)
        assert token is Keyword, keyword


def test_pygments_finds_it_by_name_and_file_name() -> None:
    assert isinstance(get_lexer_by_name("querylang"), QuerylangLexer)
    assert isinstance(get_lexer_by_name("qry"), QuerylangLexer)
    assert isinstance(get_lexer_for_filename("report.qry"), QuerylangLexer)


def test_html_and_terminal_output() -> None:
    html = highlight_html("SELECT a FROM b LAST 1d")
    assert '<span class="k">SELECT</span>' in html and 'class="highlight"' in html
    assert "\x1b[" in highlight_terminal("SELECT a FROM b LAST 1d")
