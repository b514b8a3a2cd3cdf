"""``querylang repl``: an interactive prompt; prompt_toolkit adapts completion.complete."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from querylang.completion import complete
from querylang.errors import QuerylangError

__all__ = ["Session", "repl"]

HELP = """\
Type a query and end it with ';' (Tab completes names). Commands:
  .sandbox on|off      answer from the built-in emulators (now: {sandbox})
  .format table|csv|json|ndjson
  .explain QUERY;      show the plan instead of running
  .help  .quit"""


class Session:
    """The REPL's state and how it handles one submitted text (no terminal needed)."""

    def __init__(self, *, sandbox: bool = False, fmt: str = "table", now: str | None = None):
        self.sandbox = sandbox
        self.fmt = fmt
        self.now = now
        self.cache: Any = None  # the result store, opened on the first query; off: False

    def store(self) -> Any:
        """The result store (on by default, like the CLI's; QUERYLANG_CACHE=off turns it off)."""
        if self.cache is None:
            from querylang.store import Store, cache_enabled

            self.cache = Store.default() if cache_enabled() else False
        return self.cache or None

    def handle(self, text: str, out: TextIO, err: TextIO) -> bool:
        """Run one input; False when the user asked to quit."""
        line = text.strip()
        if not line:
            return True
        if line in (".quit", ".exit", "\\q"):
            return False
        if line == ".help":
            out.write(HELP.format(sandbox="on" if self.sandbox else "off") + "\n")
            return True
        if line.startswith(".sandbox"):
            self.sandbox = line.split()[-1] != "off"
            out.write(f"sandbox {'on' if self.sandbox else 'off'}\n")
            return True
        if line.startswith(".format"):
            choice = line.split()[-1]
            if choice in ("table", "csv", "json", "ndjson"):
                self.fmt = choice
            out.write(f"format {self.fmt}\n")
            return True
        try:
            if line.startswith(".explain"):
                from querylang.engine import explain
                from querylang.output import write_explain

                plans = explain(
                    line[len(".explain") :], now=self.now, sandbox=self.sandbox, cache=self.store()
                )
                write_explain(plans, "text", out)
            else:
                from querylang.engine import run
                from querylang.output import write_results

                results = run(line, now=self.now, sandbox=self.sandbox, cache=self.store())
                write_results(results, self.fmt, out)
        except QuerylangError as exc:
            err.write(exc.render() + "\n")
        return True


def _completer() -> Any:
    from prompt_toolkit.completion import Completer, Completion

    from querylang.plugins import registry

    class QueryCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Iterable[Completion]:
            for s in complete(
                document.text_before_cursor, registry().providers, document.text_after_cursor
            ):
                yield Completion(s.text, start_position=-s.replace, display_meta=s.meta)

    return QueryCompleter()


def repl(*, sandbox: bool, now: str | None, out: TextIO = sys.stdout) -> int:
    """Read queries until .quit or end of input."""
    session = Session(sandbox=sandbox, now=now)
    if not sys.stdin.isatty():  # scripted use: one statement per ';'
        for statement in sys.stdin.read().split(";"):
            if statement.strip() and not session.handle(statement, out, sys.stderr):
                break
        return 0
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("enter")
    def _(event: Any) -> None:
        buffer = event.current_buffer
        text = buffer.text.strip()
        if not text or text.startswith(".") or text.endswith(";"):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    prompt: PromptSession[str] = PromptSession(
        completer=_completer(), key_bindings=keys, multiline=True
    )
    out.write(HELP.format(sandbox="on" if sandbox else "off") + "\n")
    while True:
        try:
            text = prompt.prompt("querylang> ", prompt_continuation="       ... ")
        except (EOFError, KeyboardInterrupt):
            return 0
        if not session.handle(text.rstrip().rstrip(";"), out, sys.stderr):
            return 0
