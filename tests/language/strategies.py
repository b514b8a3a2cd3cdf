"""Hypothesis strategies for query files: random valid statements, spelt in random ways."""

from __future__ import annotations

from hypothesis import strategies as st

from querylang.syntax import KEYWORDS

_FIRST = "abcdefrsxyzABCDEFRSXYZ_"
_WORD = st.builds(
    lambda a, b: a + b,
    st.sampled_from(_FIRST),
    st.text(alphabet=_FIRST + "0123456789", max_size=9),
)
names = _WORD.filter(lambda w: w.upper() not in KEYWORDS)
# Plain text plus the characters that tend to break lexers: quotes, separators, a form
# feed, a carriage return, Unicode line breaks, non-ASCII letters and an astral symbol.
_CHARS = list(" aZ09_-;$()=,.*#'\"\t\x0c\r\x85\u2028é€\U0001f600")
_TEXT = st.text(alphabet=st.sampled_from(_CHARS), max_size=12)
_INSERTS = [*_CHARS, "\n", "-- ", "$", "9" * 40]


def keyword(word: str) -> st.SearchStrategy[str]:
    """A keyword in upper, lower or mixed case."""
    return st.sampled_from([word.upper(), word.lower(), word.capitalize()])


@st.composite
def strings(draw: st.DrawFn) -> str:
    text = draw(_TEXT)
    quote = draw(st.sampled_from("'\""))
    return quote + text.replace(quote, quote * 2) + quote


numbers = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.builds(
        lambda a, b: f"{a}.{b}",
        st.integers(-999, 999),
        st.text("0123456789", min_size=1, max_size=4),
    ),
)
durations = st.builds(
    lambda n, u: f"{n}{u}", st.integers(1, 500), st.sampled_from(["s", "m", "h", "d", "w", "mo"])
)
params = names.map(lambda n: f"${n}")
timestamps = st.one_of(
    st.dates().map(lambda d: f"'{d.isoformat()}'"),
    st.sampled_from(["'2026-11-01T00:00:00Z'", "'2026-11-20T05:00:00+00:00'"]),
    params,
)
scalars = st.one_of(strings(), numbers, durations, params)


def lists(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(items, min_size=1, max_size=6).map(lambda xs: "(" + ", ".join(xs) + ")")


values = st.one_of(scalars, lists(st.one_of(scalars, lists(scalars))))


@st.composite
def predicates(draw: st.DrawFn) -> str:
    name = draw(names)
    op = draw(st.sampled_from(["=", "!=", "<>", "IN", "NOT IN"]))
    if op in ("=", "!=", "<>"):
        return f"{name} {op} {draw(values)}"
    words = " ".join([draw(keyword(w)) for w in op.split()])
    return f"{name} {words} {draw(st.one_of(lists(scalars), params))}"


@st.composite
def queries(draw: st.DrawFn) -> str:
    """One query; clauses after SELECT in random order."""
    metrics = draw(st.lists(st.tuples(names, st.none() | names), min_size=1, max_size=7))
    select = (
        draw(keyword("select"))
        + " "
        + ", ".join(f"{m} {draw(keyword('as'))} {a}" if a else m for m, a in metrics)
    )
    clauses = [
        f"{draw(keyword('from'))} {draw(names)}"
        + (f".{draw(names)}" if draw(st.booleans()) else "")
    ]
    if draw(st.booleans()):
        clauses.append(
            f"{draw(keyword('by'))} " + ", ".join(draw(st.lists(names, min_size=1, max_size=5)))
        )
    if draw(st.booleans()):
        preds = draw(st.lists(predicates(), min_size=1, max_size=4))
        clauses.append(f"{draw(keyword('where'))} " + f" {draw(keyword('and'))} ".join(preds))
    if draw(st.booleans()):
        clauses.append(f"{draw(keyword('every'))} {draw(st.one_of(durations, params))}")
    window = draw(st.sampled_from(["none", "last", "since", "between"]))
    if window == "last":
        clauses.append(f"{draw(keyword('last'))} {draw(st.one_of(durations, params))}")
    elif window == "since":
        clauses.append(f"{draw(keyword('since'))} {draw(timestamps)}")
    elif window == "between":
        start, end = draw(timestamps), draw(timestamps)
        clauses.append(f"{draw(keyword('between'))} {start} {draw(keyword('and'))} {end}")
    head = ""
    if draw(st.booleans()):
        head = f"{draw(keyword('query'))} {draw(names)} {draw(keyword('as'))} "
    return head + " ".join([select, *draw(st.permutations(clauses))])


@st.composite
def param_decls(draw: st.DrawFn) -> str:
    return f"{draw(keyword('param'))} {draw(params)} = {draw(values)}"


_COMMENT = _TEXT.map(lambda t: "--" + t)


@st.composite
def spacing(draw: st.DrawFn) -> str:
    """What may stand between two tokens: spaces, newlines, comments."""
    kind = draw(st.sampled_from(["space", "space", "space", "newline", "blank", "trailing", "own"]))
    if kind == "space":
        return draw(st.sampled_from([" ", "  ", "\t"]))
    if kind == "newline":
        return "\n" + draw(st.sampled_from(["", "  "]))
    if kind == "blank":
        return "\n\n"
    if kind == "trailing":
        return f" {draw(_COMMENT)}\n"
    return f"\n{draw(_COMMENT)}\n"


@st.composite
def query_files(draw: st.DrawFn, *, with_comments: bool = True) -> str:
    """A whole file: PARAM lines and queries separated by ';', comments anywhere between tokens."""
    statements = draw(st.lists(st.one_of(queries(), param_decls()), max_size=5))
    text = ";\n".join(statements) + draw(st.sampled_from(["", ";", ";\n", ";;"]))
    if not with_comments:
        return text
    out = []
    for piece in _split_outside_strings(text):
        out.append(piece if piece != " " else draw(spacing()))
    lead = draw(st.sampled_from(["", f"{draw(_COMMENT)}\n", f"{draw(_COMMENT)}\n\n"]))
    tail = draw(st.sampled_from(["", "\n", f" {draw(_COMMENT)}", f"\n\n{draw(_COMMENT)}\n"]))
    return lead + "".join(out) + tail


def _split_outside_strings(text: str) -> list[str]:
    """The text cut into runs, each single space outside a string standing alone."""
    out: list[str] = []
    quote = None
    run = ""
    for ch in text:
        if quote:
            run += ch
            if ch == quote:
                quote = None  # a doubled quote closes and reopens: same result
            continue
        if ch in "'\"":
            quote = ch
            run += ch
        elif ch == " ":
            out += [run, " "]
            run = ""
        else:
            run += ch
    return [*out, run]


# -- queries that mostly make sense to the gcore provider (to reach binding and planning) --

_GCORE_METRICS = [
    "sent_bytes", "upstream_bytes", "requests", "responses_5xx", "responses_hit",
    "cache_hit_requests_ratio", "cache_hit_traffic_ratio", "request_time", "sent_byte",
]  # fmt: skip
_GCORE_DIMS = ["region", "resource", "country", "vhost", "protocol", "regoin"]
_GCORE_VALUES = ["'eu'", "'na'", "'cis'", "'europe'", "1", "2", "'3'", "1.5", "7d", "$p"]
_STEPS = ["90s", "1m", "5m", "7m", "15m", "1h", "2h", "1d", "1w", "1mo", "$every"]
_SPANS = ["1h", "6h", "1d", "7d", "2w", "30d", "90d", "400d", "1mo", "$window"]
_TIMES = ["'2026-11-01'", "'2026-11-19T00:30:00Z'", "'2025-01-01'", "'2026-11-20T05:00:00Z'",
          "'2027-01-01'", "'1999-12-31'", "'yesterday'", "$from"]  # fmt: skip


@st.composite
def gcore_files(draw: st.DrawFn) -> str:
    """PARAM defaults and queries over gcore's catalog, some right and some wrong."""
    lines = []
    defaults = (("window", _SPANS), ("every", _STEPS), ("from", _TIMES), ("p", _GCORE_VALUES))
    for name, choices in defaults:
        if draw(st.booleans()):
            lines.append(f"PARAM ${name} = {draw(st.sampled_from(choices))}")
    for _ in range(draw(st.integers(1, 3))):
        metrics = draw(st.lists(st.sampled_from(_GCORE_METRICS), min_size=1, max_size=3))
        query = "SELECT " + ", ".join(metrics)
        dims = draw(st.lists(st.sampled_from(_GCORE_DIMS), max_size=2))
        if dims:
            query += " BY " + ", ".join(dims)
        query += " FROM " + draw(st.sampled_from(["gcore", "gcore", "gcore.storage", "gcor"]))
        condition = st.tuples(
            st.sampled_from(_GCORE_DIMS),
            st.sampled_from(_GCORE_VALUES),
            st.sampled_from(["=", "!=", "IN", "NOT IN"]),
        )
        conds = draw(st.lists(condition, max_size=2))
        if conds:
            query += " WHERE " + " AND ".join(
                f"{d} {op} ({v})" if "IN" in op else f"{d} {op} {v}" for d, v, op in conds
            )
        if draw(st.booleans()):
            query += f" EVERY {draw(st.sampled_from(_STEPS))}"
        window = draw(st.sampled_from(["last", "last", "since", "between", "none"]))
        if window == "last":
            query += f" LAST {draw(st.sampled_from(_SPANS))}"
        elif window == "since":
            query += f" SINCE {draw(st.sampled_from(_TIMES))}"
        elif window == "between":
            query += f" BETWEEN {draw(st.sampled_from(_TIMES))} AND {draw(st.sampled_from(_TIMES))}"
        lines.append(query)
    return ";\n".join(lines) + ";\n"


@st.composite
def mutants(draw: st.DrawFn, base: st.SearchStrategy[str], count: int) -> list[str]:
    """``count`` variants of one drawn text, each with a few random edits."""
    text = draw(base)
    return [_mutate(draw, text) for _ in range(count)]


def _mutate(draw: st.DrawFn, text: str) -> str:
    """Random deletions, insertions and swaps of characters and of whole tokens."""
    from querylang.syntax import scan

    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["del", "ins", "swap", "tok_del", "tok_dup", "tok_swap"]))
        if kind in ("del", "ins", "swap"):
            i = draw(st.integers(0, len(text)))
            if kind == "del":
                text = text[:i] + text[i + 1 :]
            elif kind == "ins":
                text = text[:i] + draw(st.sampled_from(_INSERTS)) + text[i:]
            elif i + 1 < len(text):
                text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            continue
        tokens = scan(text).tokens
        if not tokens:
            continue
        a = tokens[draw(st.integers(0, len(tokens) - 1))]
        b = tokens[draw(st.integers(0, len(tokens) - 1))]
        a0, a1 = a.start_pos or 0, a.end_pos or 0
        if kind == "tok_del":
            text = text[:a0] + text[a1:]
        elif kind == "tok_dup":
            text = text[:a1] + " " + str(a) + text[a1:]
        else:
            (x0, x1), (y0, y1) = sorted([(a0, a1), (b.start_pos or 0, b.end_pos or 0)])
            if x1 <= y0:
                text = text[:x0] + text[y0:y1] + text[x1:y0] + text[x0:x1] + text[y1:]
    return text
