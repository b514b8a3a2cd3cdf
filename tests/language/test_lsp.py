"""The language server through its protocol: JSON-RPC messages over pipes to a server
running in this process (a thread), as an editor would talk to ``querylang lsp``."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

import pytest

from querylang.checking import check_text
from querylang.completion import complete
from querylang.formatting import fmt
from querylang.lsp import server
from querylang.plugins import registry
from tests.conftest import NOW

PROVIDERS = registry().providers
URI = "file:///work/q.qry"
TYPO = "SELECT sent_byts BY regoin FROM gcore EVERY 1h LAST 1d"


class Editor:
    """The client side: framed JSON-RPC requests out, responses and notifications in."""

    def __init__(self, to_server: BinaryIO, from_server: BinaryIO) -> None:
        self.to_server, self.from_server = to_server, from_server
        self.next_id = 0
        self.notifications: list[dict[str, Any]] = []
        self.capabilities: dict[str, Any] = {}

    def start(self) -> None:
        result = self.request("initialize", {"processId": None, "rootUri": None,
                                             "capabilities": {}})  # fmt: skip
        self.notify("initialized", {})
        self.capabilities = result["capabilities"]

    def stop(self) -> None:
        self.request("shutdown", None)
        self.notify("exit", None)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.to_server.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.to_server.flush()

    def receive(self) -> dict[str, Any]:
        length = 0
        while (line := self.from_server.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        assert length, "the server closed the connection"
        return json.loads(self.from_server.read(length))

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message["result"]
            if "method" in message and "id" not in message:
                self.notifications.append(message)

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self) -> list[dict[str, Any]]:
        """The next publishDiagnostics the server sends."""
        while True:
            pending = [n for n in self.notifications
                       if n["method"] == "textDocument/publishDiagnostics"]  # fmt: skip
            if pending:
                self.notifications.remove(pending[0])
                return pending[0]["params"]["diagnostics"]
            message = self.receive()
            if "method" in message and "id" not in message:
                self.notifications.append(message)


@pytest.fixture
def editor() -> Iterator[Editor]:
    client_to_server = os.pipe()
    server_to_client = os.pipe()
    ls = server(now=NOW)
    stdin = os.fdopen(client_to_server[0], "rb")
    stdout = os.fdopen(server_to_client[1], "wb")
    thread = threading.Thread(target=ls.start_io, args=(stdin, stdout), daemon=True)
    thread.start()
    client = Editor(os.fdopen(client_to_server[1], "wb"), os.fdopen(server_to_client[0], "rb"))
    client.start()
    yield client
    client.stop()
    thread.join(10)
    client.to_server.close()
    client.from_server.close()


def _open(editor: Editor, text: str, version: int = 1) -> list[dict[str, Any]]:
    editor.notify("textDocument/didOpen", {"textDocument": {
        "uri": URI, "languageId": "querylang", "version": version, "text": text}})  # fmt: skip
    return editor.diagnostics()


def test_capabilities(editor: Editor) -> None:
    caps = editor.capabilities
    assert caps["completionProvider"] and caps["hoverProvider"]
    assert caps["documentFormattingProvider"]


def test_diagnostics_are_checks_with_positions(editor: Editor) -> None:
    found = _open(editor, TYPO)
    # LSP positions count from 0: check's 1:8 is line 0, character 7.
    assert [(d["code"], d["range"]) for d in found] == [
        ("E202", {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 16}}),
        ("E203", {"start": {"line": 0, "character": 20}, "end": {"line": 0, "character": 26}}),
    ]
    assert found[0]["message"] == (
        "gcore has no metric 'sent_byts'\nhelp: did you mean 'sent_bytes'?"
    )
    assert all(d["severity"] == 1 and d["source"] == "querylang" for d in found)


def test_diagnostics_match_check_on_every_example(editor: Editor) -> None:
    text = "PARAM $w = 7d;\nSELECT a FORM gcore LAST 1d;\nSELECT requests FROM gcore\nWHERE region = eu\nEVERY 1m LAST 90d;\nSELECT sent_bytes FROM gcore EVERY 1h LAST $x"
    found = _open(editor, text)
    expected = check_text(text, "/work/q.qry", PROVIDERS, now=NOW, sandbox=True)
    assert [(d["code"], d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1)
            for d in found] == [(e.code, e.span.line, e.span.column) for e in expected]  # fmt: skip
    assert len(found) == 3


def test_diagnostics_follow_changes(editor: Editor) -> None:
    assert len(_open(editor, TYPO)) == 2
    editor.notify("textDocument/didChange", {
        "textDocument": {"uri": URI, "version": 2},
        "contentChanges": [{"text": "SELECT sent_bytes BY region FROM gcore EVERY 1h LAST 1d"}],
    })  # fmt: skip
    assert editor.diagnostics() == []


def test_completion_is_the_repls(editor: Editor) -> None:
    text = "SELECT sent_bytes FROM gcore WHERE reg"
    _open(editor, text)
    result = editor.request("textDocument/completion", {
        "textDocument": {"uri": URI}, "position": {"line": 0, "character": len(text)}})  # fmt: skip
    labels = [item["label"] for item in result["items"]]
    assert labels == [s.text for s in complete(text, PROVIDERS)] and "region" in labels
    edit = next(i for i in result["items"] if i["label"] == "region")["textEdit"]
    assert edit["range"]["start"] == {"line": 0, "character": len(text) - 3}


def test_completion_sees_the_source_after_the_cursor(editor: Editor) -> None:
    text = "SELECT \nFROM gcore.storage EVERY 1d LAST 2d"
    _open(editor, text)
    result = editor.request("textDocument/completion", {
        "textDocument": {"uri": URI}, "position": {"line": 0, "character": 7}})  # fmt: skip
    labels = [item["label"] for item in result["items"]]
    assert "traffic" in labels and "sent_bytes" not in labels


def test_formatting_is_fmt(editor: Editor) -> None:
    text = "select sent_bytes from gcore last 1d -- note\n"
    _open(editor, text)
    edits = editor.request("textDocument/formatting", {
        "textDocument": {"uri": URI}, "options": {"tabSize": 4, "insertSpaces": True}})  # fmt: skip
    assert [e["newText"] for e in edits] == [fmt(text)]
    assert fmt(text) == "SELECT sent_bytes FROM gcore LAST 1d;  -- note\n"
    assert edits[0]["range"]["start"] == {"line": 0, "character": 0}


def test_formatting_a_file_that_does_not_parse_changes_nothing(editor: Editor) -> None:
    _open(editor, "SELECT FORM")
    edits = editor.request("textDocument/formatting", {
        "textDocument": {"uri": URI}, "options": {"tabSize": 4, "insertSpaces": True}})  # fmt: skip
    assert edits is None


def test_hover_shows_unit_and_description(editor: Editor) -> None:
    text = "SELECT sent_bytes BY region FROM gcore EVERY 1h LAST 1d"
    _open(editor, text)

    def hover(word: str) -> Any:
        at = {"line": 0, "character": text.index(word) + 2}
        return editor.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": at})

    metric = next(m for m in PROVIDERS["gcore"].datasets["cdn"].metrics if m.name == "sent_bytes")
    found = hover("sent_bytes")["contents"]
    assert found["kind"] == "markdown"
    assert found["value"].startswith(f"**sent_bytes** ({metric.unit}, counter) — gcore")
    assert metric.unit == "bytes" and metric.description in found["value"]
    assert "(dimension)" in hover("region")["contents"]["value"]
    assert hover("EVERY") is None


def test_without_pygls_the_command_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from querylang.cli import main

    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    assert main(["lsp"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "pygls" in err and "pip install 'querylang[lsp]'" in err


def test_the_command_serves_the_protocol_on_standard_io() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "querylang.cli", "lsp"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    client = Editor(proc.stdin, proc.stdout)  # type: ignore[arg-type]
    try:
        client.start()
        assert client.capabilities["hoverProvider"]
        assert [d["code"] for d in _open(client, TYPO)] == ["E202", "E203"]
        client.stop()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_hover_of_a_name_in_a_query_from_several_sources() -> None:
    from querylang.lsp import hover_text

    text = "SELECT requests BY service FROM gcore, fastly EVERY 1d LAST 7d"
    found = hover_text(text, text.index("service") + 1, PROVIDERS)
    assert found is not None and found.startswith("**service** (dimension) — fastly")
