"""``querylang fmt``: source files in, canonical files out, every comment kept in its place.

The layout itself (clause order, case, spacing, line breaks) is the printer's
(:mod:`querylang.printer`); this module reads files and standard input, puts back the
comments the parser drops, and implements ``--check`` and ``--diff``.

Comments (the parser drops them; they are found again by lexing):

- a comment on a line of its own before a statement leads it: it moves with the statement,
  at the left margin; blank lines between such comments, and before the statement, are
  kept (at most one). Comments at the very top of the file, followed by a blank line,
  stay at the top as the file's header.
- a comment after code on the same line trails it: it stays at the end of the line that
  prints the name or value it follows (after the ';' if that is the last line).
- a comment on a line of its own inside a statement goes on a line of its own before the
  line that prints the name or value after it.

A statement keeps its one-line form only if all its trailing comments follow its last
clause; otherwise it is laid out one clause per line, so each comment keeps its place.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TextIO

from attrs import frozen

from querylang import ir
from querylang.errors import QueryError
from querylang.parser import Token
from querylang.printer import WIDTH, Line, fmt_param, fmt_query, fmt_value, layouts
from querylang.sources import query_files
from querylang.syntax import Statement, parse, scan

__all__ = [
    "fmt",
    "fmt_param",
    "fmt_query",
    "fmt_value",
    "format_paths",
    "format_stdin",
    "query_files",
]


@frozen
class _Note:
    """A comment, and whether a blank line stood before it in the source."""

    text: str
    blank_before: bool


class _Attached:
    """The comments that belong to one statement."""

    def __init__(self) -> None:
        self.leading: list[_Note] = []
        self.blank_after_leading = False
        self.inner: list[tuple[_Note, int]] = []  # own-line comment, next leaf offset
        self.trailing: list[tuple[_Note, int | None]] = []  # comment, previous leaf offset


def _statement_tokens(tokens: Sequence[Token]) -> list[list[Token]]:
    """Tokens per statement; the ';' that end one belong to it."""
    groups: list[list[Token]] = []
    open_ = False
    for tok in tokens:
        if tok.type == "_SEMI":
            if groups:
                groups[-1].append(tok)
            open_ = False
            continue
        if not open_:
            groups.append([])
            open_ = True
        groups[-1].append(tok)
    return groups


def _all_leaves(stmt: Statement) -> list[int]:
    lines = layouts(stmt)[1]
    return sorted(x for line in lines for x in line.leaves)


def _attach(
    text: str, stmts: Sequence[Statement], groups: Sequence[list[Token]], comments: Sequence[Token]
) -> tuple[list[_Attached], list[_Note]]:
    """Give each comment to a statement (leading, inner or trailing), or to the file's end."""
    attached = [_Attached() for _ in stmts]
    trailer: list[_Note] = []
    tokens = [(tok, i) for i, group in enumerate(groups) for tok in group]
    leaves = [_all_leaves(s) for s in stmts]
    prev_end = 0
    for com in comments:
        start, end = com.start_pos or 0, com.end_pos or 0
        before = [(t, i) for t, i in tokens if (t.end_pos or 0) <= start]
        after = [(t, i) for t, i in tokens if (t.start_pos or 0) >= end]
        if before:
            prev_end = max(prev_end, before[-1][0].end_pos or 0)
        note = _Note(str(com).rstrip(), text.count("\n", prev_end, start) >= 2)
        prev_end = end
        if before and before[-1][0].end_line == com.line:
            owner = before[-1][1]
            prev_leaf = max((x for x in leaves[owner] if x < start), default=None)
            attached[owner].trailing.append((note, prev_leaf))
        elif not after:
            trailer.append(note)
        else:
            tok, owner = after[0]
            if tok is groups[owner][0]:
                attached[owner].leading.append(note)
                attached[owner].blank_after_leading = text.count("\n", end, tok.start_pos or 0) >= 2
            else:
                nxt = min((x for x in leaves[owner] if x > start), default=None)
                if nxt is None:
                    prev_leaf = max((x for x in leaves[owner] if x < start), default=None)
                    attached[owner].trailing.append((note, prev_leaf))
                else:
                    attached[owner].inner.append((note, nxt))
    return attached, trailer


def _line_of(lines: Sequence[Line], leaf: int | None) -> int:
    if leaf is None:
        return 0
    return next((i for i, line in enumerate(lines) if leaf in line.leaves), 0)


def _line_before(lines: Sequence[Line], leaf: int) -> int:
    """The line that prints ``leaf``, or the bare keyword line just above it."""
    index = _line_of(lines, leaf)
    return index - 1 if index and lines[index - 1].opens else index


def _render(stmt: Statement, notes: _Attached) -> tuple[list[_Note], list[str]]:
    """Comments to add to the leading ones, and the statement's lines with the others in place.

    An inner comment that would go before the first line leads the statement instead.
    """
    short, long = layouts(stmt)
    inner: dict[int, list[str]] = {}
    hoisted: list[_Note] = []
    for note, leaf in notes.inner:
        index = _line_before(long, leaf)
        if index == 0:
            hoisted.append(_Note(note.text, False))
        else:
            inner.setdefault(index, []).append(note.text)
    last = len(long) - 1
    one_line = len(short) == 1 and len(short[0].text) <= WIDTH
    if one_line and not inner and all(_line_of(long, a) == last for _, a in notes.trailing):
        lines, trailing = short, {0: [n.text for n, _ in notes.trailing]}
    else:
        lines, trailing = long, {}
        for note, anchor in notes.trailing:
            trailing.setdefault(_line_of(long, anchor), []).append(note.text)
    out: list[str] = []
    for i, line in enumerate(lines):
        indent = line.text[: len(line.text) - len(line.text.lstrip())]
        out.extend(indent + c for c in inner.get(i, ()))
        text = line.text
        if trailing.get(i):
            text += "  " + " ".join(trailing[i])
        out.append(text)
    return hoisted, out


def _notes_lines(notes: Sequence[_Note]) -> list[str]:
    out: list[str] = []
    for i, note in enumerate(notes):
        if i and note.blank_before:
            out.append("")
        out.append(note.text)
    return out


def fmt(text: str, path: str = "<query>") -> str:
    """The canonical form of a whole query file (raises QueryError if it does not parse)."""
    qfile = parse(text, path)
    scanned = scan(text)
    stmts = list(qfile.statements)
    attached, trailer = _attach(text, stmts, _statement_tokens(scanned.tokens), scanned.comments)
    out: list[str] = []
    if stmts:
        first = attached[0]
        cut = max((i for i, n in enumerate(first.leading) if _blank_after(first, i)), default=-1)
        if cut >= 0:
            out += [*_notes_lines(first.leading[: cut + 1]), ""]
            first.leading = first.leading[cut + 1 :]
    order = sorted(range(len(stmts)), key=lambda i: not isinstance(stmts[i], ir.ParamDecl))
    previous: Statement | None = None
    for i in order:
        stmt, notes = stmts[i], attached[i]
        hoisted, body = _render(stmt, notes)
        if hoisted:  # they sat inside the statement: no blank line between them and it
            gap = bool(notes.leading) and notes.blank_after_leading
            notes.leading += [_Note(hoisted[0].text, gap), *hoisted[1:]]
            notes.blank_after_leading = False
        together = isinstance(previous, ir.ParamDecl) and isinstance(stmt, ir.ParamDecl)
        if previous is not None and not together:
            out.append("")
        if notes.leading:
            out += _notes_lines(notes.leading)
            if notes.blank_after_leading:
                out.append("")
        out += body
        previous = stmt
    if trailer:
        if out and trailer[0].blank_before:
            out.append("")
        out += _notes_lines(trailer)
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(out) + "\n" if out else ""


def _blank_after(notes: _Attached, index: int) -> bool:
    if index + 1 < len(notes.leading):
        return notes.leading[index + 1].blank_before
    return notes.blank_after_leading


# -- querylang fmt --------------------------------------------------------------------


def format_stdin(src: TextIO, out: TextIO) -> int:
    """``fmt -``: format standard input to ``out`` (a syntax error raises QueryError)."""
    out.write(fmt(src.read(), "<stdin>"))
    return 0


def format_paths(
    paths: Sequence[str], *, check: bool, out: TextIO, err: TextIO, diff: bool = False
) -> int:
    """Reformat query files in place (or, with ``check``, list those that would change).

    With ``diff``, print a unified diff of each change instead and change nothing.
    Returns 0 when nothing needed changing (or everything was rewritten), 1 when ``check``
    or ``diff`` found files to reformat, 2 when a file could not be read or parsed.
    """
    status = 0
    for name, path in query_files(paths):
        if path is None:
            err.write(f"error[E501]: {name}: no such file or directory\n")
            status = 2
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            err.write(f"error[E501]: cannot read {name}: {exc}\n")
            status = 2
            continue
        try:
            formatted = fmt(text, name)
        except QueryError as exc:
            err.write(exc.render() + "\n")
            status = 2
            continue
        if formatted == text:
            continue
        if diff:
            out.writelines(
                difflib.unified_diff(
                    text.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    fromfile=name,
                    tofile=f"{name} (formatted)",
                )
            )
            status = max(status, 1)
        elif check:
            out.write(f"would reformat {name}\n")
            status = max(status, 1)
        else:
            path.write_text(formatted, encoding="utf-8")
            out.write(f"reformatted {name}\n")
    return status
