"""The grammar and the Lark machines built from it: an LALR parser and a lexer, once each.

``grammar/querylang.lark`` ships inside the package. :func:`parser` is the LALR parser
whose tree :mod:`querylang.syntax` walks into IR when a text has a mistake, and which
:mod:`querylang.syntax_errors` asks what it expected; :func:`reducer` runs the same tables
with callbacks of its own at each reduction (how a clean text is built into IR, no tree);
:func:`scan` lexes a source whole (its comments too) for ``fmt``, completion and
statement splitting. :func:`span_of` turns a token or a tree's position into an IR span.

The parser runs as Lark's *standalone* parser: the module ``python -m lark.tools.standalone``
writes for this grammar (Lark's parsing code and the grammar's LALR tables in one file).
It is generated on first use into querylang's cache directory (``$QUERYLANG_CACHE_DIR`` or
the user cache directory), named by a checksum of the grammar, and imported from there by
every later process: importing it costs about a third of importing Lark and building its
parser from Lark's own cache. The Lark runtime types (``Token``, ``Tree``, the ``Unexpected*``
errors) are the standalone module's and are exported here; to a type checker they are
Lark's, which they copy. Where the cache directory cannot be written, the generated code
is run from memory.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import zlib
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from attrs import frozen

from querylang import ir

__all__ = [
    "KEYWORDS",
    "Lark",
    "Scan",
    "Token",
    "Tree",
    "UnexpectedCharacters",
    "UnexpectedEOF",
    "UnexpectedInput",
    "UnexpectedToken",
    "grammar_text",
    "parser",
    "reducer",
    "scan",
    "span_of",
    "without_bom",
]

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


# The parser's options: part of the generated module's name, so a change makes a new one.
_OPTIONS = {"parser": "lalr", "lexer": "basic", "propagate_positions": True}
_FORMAT = 2  # bump to regenerate every kept module (e.g. after changing how it is made)

# What the generated module imports at its top only for code a loaded parser never runs:
# ``logging`` for the messages Lark writes while it builds a grammar or reads its own
# cache, ``pickle``/``base64`` for saving and loading that cache. They are imported on
# first use instead (a stand-in module object that imports the real one when an
# attribute is read), which keeps ~6 ms of imports out of every ``check``. Each edit
# applies only where its exact text is found; a Lark that writes another text keeps it.
_ON_FIRST_USE = """\
class _OnFirstUse:
    # querylang: a module imported when first used, then bound in its stand-in's place
    def __init__(self, name, binding, prepare=None):
        self._name, self._binding, self._prepare = name, binding, prepare

    def __getattr__(self, attribute):
        import importlib

        real = importlib.import_module(self._name)
        if self._prepare is not None:
            real = self._prepare(real)
        globals()[self._binding] = real
        return getattr(real, attribute)


def _lark_logger(logging):
    logger = logging.getLogger("lark")
    logger.addHandler(logging.StreamHandler())
    logger.setLevel(logging.CRITICAL)
    return logger


"""
_EDITS = (
    (
        'logger: logging.Logger = logging.getLogger("lark")\n'
        "logger.addHandler(logging.StreamHandler())\n",
        'logger = _OnFirstUse("logging", "logger", _lark_logger)\n',
    ),
    ("logger.setLevel(logging.CRITICAL)\n", ""),
    (
        "import pickle, zlib, base64\n",
        'import zlib\npickle = _OnFirstUse("pickle", "pickle")\n'
        'base64 = _OnFirstUse("base64", "base64")\n',
    ),
    ("import logging\n", _ON_FIRST_USE),  # last: its text holds an earlier edit's
)


def _lighten(source: str) -> str:
    """The generated source with the imports above made lazy, where each is found once."""
    if not all(source.count(old) == 1 for old, _ in _EDITS):
        return source
    for old, new in _EDITS:
        source = source.replace(old, new)
    return source


def _generate(text: str) -> str:
    """The standalone parser module's source, from Lark itself (the slow way, once)."""
    import io

    from lark import Lark as FullLark
    from lark.tools.standalone import gen_standalone

    out = io.StringIO()
    gen_standalone(FullLark(text, maybe_placeholders=False, **_OPTIONS), out=out)
    return _lighten(out.getvalue())


def _cache_folder() -> Path:
    from querylang.cachedir import cache_dir

    return cache_dir()


def _import(name: str, path: Path | None, source: str = "") -> ModuleType:
    """Run the generated module, from its file (bytecode cached beside it) or from memory."""
    import importlib.util

    if path is not None:
        spec = importlib.util.spec_from_file_location(name, path)
    else:
        spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the generated dataclasses look their module up
    try:
        if spec.loader is not None:
            spec.loader.exec_module(module)
        else:
            exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _compile(path: Path) -> None:
    """Write the module's bytecode now, even where PYTHONDONTWRITEBYTECODE is set: compiling
    the 180 kB source would otherwise cost every process more than the import saves."""
    import py_compile

    with contextlib.suppress(py_compile.PyCompileError):
        py_compile.compile(str(path), doraise=True)


@functools.cache
def _runtime() -> ModuleType:
    """The grammar's standalone parser module: imported from the cache, made if missing."""
    text = grammar_text()
    key = f"{_FORMAT} {sorted(_OPTIONS.items())} {len(text)} {text}".encode()
    name = f"querylang_lalr_{zlib.crc32(key):08x}"
    path = _cache_folder() / f"{name}.py"
    if path.is_file():
        try:
            return _import(name, path)
        except Exception:  # a damaged file (a full disk, an edit): made again below
            pass
    source = _generate(text)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_text(source, encoding="utf-8")
        os.replace(scratch, path)  # atomic: another process sees the whole file or none
        _compile(path)
    except OSError:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)
        return _import(name, None, source)
    return _import(name, path)


if TYPE_CHECKING:
    from lark import (
        Lark,
        Token,
        Tree,
        UnexpectedCharacters,
        UnexpectedEOF,
        UnexpectedInput,
        UnexpectedToken,
    )
else:
    _lark = _runtime()
    Lark, Token, Tree = _lark.Lark, _lark.Token, _lark.Tree
    UnexpectedInput, UnexpectedCharacters = _lark.UnexpectedInput, _lark.UnexpectedCharacters
    UnexpectedEOF, UnexpectedToken = _lark.UnexpectedEOF, _lark.UnexpectedToken


@functools.cache
def parser() -> Lark:
    """The one LALR parser of the process, loaded on first use from the generated module.

    Its lexer hands each comment it skips to :func:`scan`, when a scan is collecting them.
    """
    built: Lark = _runtime().Lark_StandAlone(lexer_callbacks={"COMMENT": _keep_comment})
    return built


def reducer(callback_for: Callable[[Any], Callable[[list[Any]], Any]]) -> Callable[[str], Any]:
    """A parse of the whole grammar that builds no tree: the same lexer and LALR tables as
    :func:`parser`, calling ``callback_for(rule)(children)`` at each reduction, where the
    children are every symbol of the rule's expansion (filtered tokens too) as shifted or
    reduced. Lark's tree builder and its position tracking are skipped altogether.
    """
    frontend = parser().parser
    reduce = {rule: callback_for(rule) for rule in parser().rules}
    inner = _runtime()._Parser(frontend.parser.parser.parse_table, reduce)

    def run(text: str) -> Any:
        return inner.parse(frontend._make_lexer_thread(text), "start")

    return run


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
            # The parser's own lexer: Lark.lex would build (and compile) another each call.
            lexing: Any = parser().parser._make_lexer_thread(text)
            tokens = tuple(lexing.lex(None))
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
