"""``querylang lsp``: a language server (pygls) for ``.qry`` files, over standard I/O.

Everything it says comes from the command-line tools' own functions, so an editor and the
terminal never disagree: diagnostics are ``check``'s (``checking.check_text``), completion
is the REPL's (``completion.complete``), formatting is ``fmt``'s, and hover shows a
metric's unit, kind and description (or a dimension's) from the provider catalogs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, BinaryIO

from querylang.completion import complete
from querylang.errors import QueryError, UsageError
from querylang.hookspecs import Provider

__all__ = ["hover_text", "server", "start"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _pygls() -> Any:
    try:
        import lsprotocol.types as types
        from pygls.lsp.server import LanguageServer
    except ImportError:
        raise UsageError(
            "querylang lsp needs the language-server library pygls, which is not installed",
            hint="pip install 'querylang[lsp]'",
        ) from None
    return types, LanguageServer


def _offset(text: str, line: int, character: int) -> int:
    """A string index for an LSP position (lines from 0; characters counted as code points)."""
    lines = text.split("\n")
    line = min(line, len(lines) - 1)
    return sum(len(part) + 1 for part in lines[:line]) + min(character, len(lines[line]))


def _statement_at(text: str, offset: int) -> str:
    """The text of the statement that holds ``offset`` (statements end at ';')."""
    start = text.rfind(";", 0, offset) + 1
    end = text.find(";", offset)
    return text[start : len(text) if end < 0 else end]


def hover_text(text: str, offset: int, providers: Mapping[str, Provider]) -> str | None:
    """Markdown for the name under ``offset``: a metric or dimension of the statement's source."""
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    found = _WORD.match(text, start)
    if found is None or found.end() < offset:
        return None
    word = found.group()
    statement = _statement_at(text, offset)
    source = re.search(r"\bFROM\s+([\w.]+(?:\s*,\s*[\w.]+)*)", statement, re.IGNORECASE)
    names = [n.strip() for n in source.group(1).split(",")] if source else []
    datasets = []
    for provider in providers.values():
        for name, dataset in provider.datasets.items():
            label = provider.name if name == provider.default_dataset else f"{provider.name}.{name}"
            if not names or label in names:
                datasets.append((label, dataset))
    for label, dataset in datasets:
        if label == word:
            return f"**{label}** — {dataset.description}"
    for label, dataset in datasets:
        metric = dataset.metric(word)
        if metric is not None:
            head = f"**{metric.name}** ({metric.unit}, {metric.kind}) — {label}"
            return f"{head}\n\n{metric.description}"
    for label, dataset in datasets:
        dim = dataset.dimension(word)
        if dim is not None:
            values = f"\n\nvalues: {', '.join(dim.values)}" if dim.values else ""
            return f"**{dim.name}** (dimension) — {label}\n\n{dim.description}{values}"
    return None


def server(*, now: int | None = None, sandbox: bool = True) -> Any:
    """The language server, its features registered (``now`` pins the clock, for tests)."""
    types, LanguageServer = _pygls()
    from querylang import __version__
    from querylang.checking import Diagnostic, check_text
    from querylang.formatting import fmt
    from querylang.plugins import registry

    ls = LanguageServer("querylang", __version__)
    providers = registry().providers

    def diagnostics(uri: str, text: str) -> list[Any]:
        clock = int(time.time()) if now is None else now
        from pygls.uris import to_fs_path

        path = to_fs_path(uri) or uri  # an unsaved buffer keeps its URI as its name
        found = []
        for error in check_text(text, path, providers, now=clock, sandbox=sandbox):
            d = Diagnostic.of(error, path)
            if d.line is None:
                start = end = types.Position(line=0, character=0)
            else:
                start = types.Position(line=d.line - 1, character=(d.column or 1) - 1)
                end = types.Position(
                    line=(d.end_line or d.line) - 1, character=(d.end_column or 1) - 1
                )
            found.append(
                types.Diagnostic(
                    range=types.Range(start=start, end=end),
                    message=d.message + (f"\nhelp: {d.hint}" if d.hint else ""),
                    severity=types.DiagnosticSeverity.Error,
                    code=d.code,
                    source="querylang",
                )
            )
        return found

    def publish(uri: str) -> None:
        document = ls.workspace.get_text_document(uri)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=document.version, diagnostics=diagnostics(uri, document.source)
            )
        )

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: Any) -> None:
        publish(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: Any) -> None:
        publish(params.text_document.uri)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: Any) -> None:
        publish(params.text_document.uri)

    @ls.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[" ", ",", "(", "="]),
    )
    def completion(params: Any) -> Any:
        text = ls.workspace.get_text_document(params.text_document.uri).source
        pos = params.position
        offset = _offset(text, pos.line, pos.character)
        items = []
        for s in complete(text[:offset], providers, text[offset:]):  # as the REPL calls it
            start = types.Position(line=pos.line, character=max(pos.character - s.replace, 0))
            items.append(
                types.CompletionItem(
                    label=s.text,
                    detail=s.meta or None,
                    text_edit=types.TextEdit(
                        range=types.Range(start=start, end=pos), new_text=s.text
                    ),
                )
            )
        return types.CompletionList(is_incomplete=False, items=items)

    @ls.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(params: Any) -> Any:
        document = ls.workspace.get_text_document(params.text_document.uri)
        text = document.source
        try:
            formatted = fmt(text, document.uri)
        except QueryError:
            return None  # the diagnostics already say why it does not parse
        if formatted == text:
            return []
        lines = text.split("\n")
        end = types.Position(line=len(lines) - 1, character=len(lines[-1]))
        whole = types.Range(start=types.Position(line=0, character=0), end=end)
        return [types.TextEdit(range=whole, new_text=formatted)]

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(params: Any) -> Any:
        text = ls.workspace.get_text_document(params.text_document.uri).source
        offset = _offset(text, params.position.line, params.position.character)
        found = hover_text(text, offset, providers)
        if found is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found)
        )

    return ls


def start(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Serve the language protocol on standard I/O until the editor ends the session."""
    server().start_io(stdin, stdout)
    return 0
