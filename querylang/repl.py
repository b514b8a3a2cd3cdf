"""``querylang repl``: an interactive prompt; prompt_toolkit adapts completion and Session.

``Session`` holds the state (format, output, timing, sandbox, clock, zone, parameters) and handles
one submitted text without a terminal; ``repl`` wraps it in a prompt_toolkit prompt with
persistent history, highlighting, multi-line editing and Tab completion.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from querylang import ir
from querylang.completion import ARGUMENTS, COMMANDS, complete, complete_command
from querylang.errors import ParamError, QuerylangError, UsageError, did_you_mean
from querylang.parameters import ParamValue, param_from_text, used_params

__all__ = ["Session", "history_path", "repl", "statements"]


def _formats() -> tuple[str, ...]:
    from querylang.output import FORMATS

    return tuple(FORMATS)


def history_path() -> Path:
    """Where the prompt's history persists: the user data directory (platformdirs)."""
    from platformdirs import user_data_path

    return user_data_path("querylang", appauthor=False) / "history"


def _on_off(command: str, arg: str) -> bool:
    if arg not in ("on", "off"):
        raise UsageError(
            f"{command} takes on or off, not {arg!r}" if arg else f"{command} takes on or off",
            hint=f"write {command} on or {command} off",
        )
    return arg == "on"


class Session:
    """The REPL's state and how it handles one submitted text (no terminal needed)."""

    def __init__(
        self,
        *,
        sandbox: bool = False,
        fmt: str = "table",
        now: str | None = None,
        config: str | None = None,
        tz: str | None = None,
    ):
        self.sandbox = sandbox
        self.fmt = fmt
        self.now = now
        self.tz = tz  # the default TZ of queries without one (None: UTC), like --tz
        self.config = config  # the connections file (None: discovered)
        self.timing = False
        self.output: Path | None = None  # results go to this file instead of the terminal
        self.params: dict[str, ParamValue] = {}
        self.cache: Any = None  # the result store, opened on the first query; off: False
        self.failed = 0  # the highest exit code of an input that failed (a script's exit code)

    def store(self) -> Any:
        """The result store (on by default, like the CLI's; QUERYLANG_CACHE=off turns it off)."""
        if self.cache is None:
            from querylang.store import Store, cache_enabled

            self.cache = Store.default() if cache_enabled() else False
        return self.cache or None

    # -- one input --------------------------------------------------------------------------
    def handle(self, text: str, out: TextIO, err: TextIO) -> bool:
        """Run one input (a dot-command, or statements); False when the user asked to quit."""
        line = text.strip()
        if not line:
            return True
        try:
            if line.startswith(".") or line == "\\q":
                return self.command(line, out)
            self.statements(line, out, err)
        except QuerylangError as exc:
            err.write(str(self._for_repl(exc)) + "\n")  # str(): scrubbed of every secret
            self.failed = max(self.failed, exc.exit_code)
        return True

    def command(self, line: str, out: TextIO) -> bool:
        """A dot-command; each validates its argument (a UsageError names the fix)."""
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        if name in (".quit", ".exit", "\\q"):
            return False
        if name not in COMMANDS:
            guess = did_you_mean(name, COMMANDS)
            raise UsageError(
                f"unknown command {name!r}",
                hint=f"did you mean {guess}?" if guess else "type .help for the commands",
            )
        if name == ".help":
            out.write(self.help() + "\n")
        elif name == ".format":
            if arg not in _formats():
                raise UsageError(
                    f".format {arg!r} is not a format" if arg else ".format needs a format",
                    hint=f"choose one of: {', '.join(_formats())}",
                )
            self.fmt = arg
            out.write(f"format {self.fmt}\n")
        elif name == ".output":
            self.set_output(arg, out)
        elif name == ".timing":
            self.timing = _on_off(name, arg)
            out.write(f"timing {arg}\n")
        elif name == ".sandbox":
            self.sandbox = _on_off(name, arg)
            out.write(f"sandbox {arg}\n")
        elif name == ".now":
            self.set_now(arg, out)
        elif name == ".tz":
            self.set_tz(arg, out)
        elif name == ".param":
            self.set_param(arg, out)
        elif name == ".explain":
            if not arg:
                raise UsageError(".explain needs a query", hint="write .explain SELECT …;")
            self.explain(arg.rstrip().rstrip(";"), out)
        return True

    def help(self) -> str:
        state = {
            ".format": self.fmt,
            ".output": str(self.output) if self.output else "the terminal",
            ".timing": "on" if self.timing else "off",
            ".sandbox": "on" if self.sandbox else "off",
            ".now": self.now or "the real clock",
            ".tz": self.tz or "the config file's, else UTC",
        }
        lines = [
            "Type a query and end it with ';' (Enter inside a statement starts a new line;",
            "Tab completes; Ctrl-C clears the line; Ctrl-D leaves). PARAM $name = value; sets",
            "a parameter for the session. Commands:",
        ]
        for name, (choices, what) in COMMANDS.items():
            arg = "|".join(_formats() if name == ".format" else choices or ())
            usage = f"{name} {arg or ARGUMENTS.get(name, '')}".rstrip()
            now = f" (now: {state[name]})" if name in state else ""
            if len(usage) <= 22:
                lines.append(f"  {usage:<22} {what}{now}")
            else:  # a long list of choices: the description on a line of its own
                lines += [f"  {usage}", f"  {'':<22} {what}{now}"]
        return "\n".join(lines)

    def set_output(self, arg: str, out: TextIO) -> None:
        if not arg:
            self.output = None
            out.write("output to the terminal\n")
            return
        path = Path(arg).expanduser()
        try:
            with path.open("w", encoding="utf-8"):
                pass
        except OSError as exc:
            raise UsageError(
                f"cannot write to {arg}: {exc.strerror or exc}",
                code="E501",
                hint="give a file in a folder that exists and that you can write to",
            ) from None
        self.output = path
        out.write(f"output to {path}\n")

    def set_now(self, arg: str, out: TextIO) -> None:
        from querylang.engine import resolve_now
        from querylang.timegrid import format_ts

        if arg == "off":
            self.now = None
        elif arg:
            try:
                resolve_now(arg)
            except UsageError:
                raise UsageError(
                    f".now {arg!r} is not an ISO 8601 timestamp",
                    hint="write e.g. .now 2026-11-20T00:00:00Z, or .now off",
                ) from None
            self.now = arg
        pinned = " (pinned; .now off for the real clock)" if self.now else ""
        out.write(f"now {format_ts(resolve_now(self.now))}{pinned}\n")

    def set_tz(self, arg: str, out: TextIO) -> None:
        from querylang.localtime import parse_zone

        if arg == "off":
            self.tz = None
        elif arg:
            try:
                parse_zone(arg)
            except ValueError:
                raise UsageError(
                    f".tz {arg!r} is not a time zone",
                    hint="write an IANA name such as .tz Europe/Berlin, an offset such as "
                    ".tz +05:30, or .tz off for the default",
                ) from None
            self.tz = arg
        if self.tz is None:
            out.write("tz: the config file's tz, else UTC, for queries without a TZ clause\n")
        else:
            out.write(f"tz {self.tz} for queries without a TZ clause (.tz off for UTC)\n")

    def set_param(self, arg: str, out: TextIO) -> None:
        if not arg:
            if not self.params:
                out.write("no parameters set (.param NAME VALUE, or PARAM $NAME = VALUE;)\n")
            for name, bound in sorted(self.params.items()):
                out.write(f"${name} = {_value_text(bound.value)}\n")
            return
        name, _, value = arg.replace("=", " ", 1).partition(" ")  # NAME VALUE or NAME=VALUE
        name = name.lstrip("$")
        value = value.strip().removeprefix("=").strip()
        if not name.isidentifier() or not value:
            raise UsageError(
                f".param {arg!r} is not NAME VALUE", hint="write e.g. .param window 7d"
            )
        self.params[name] = param_from_text(name, value, origin=".param")
        out.write(f"${name} = {_value_text(self.params[name].value)}\n")

    # -- statements ---------------------------------------------------------------------
    def statements(self, text: str, out: TextIO, err: TextIO) -> None:
        """PARAM statements persist for the session; the queries run with every value set."""
        from querylang.syntax import parse

        parsed = parse(text, "<repl>")
        for decl in parsed.params:
            self.params[decl.name] = ParamValue(value=decl.value, origin="PARAM", span=decl.span)
            out.write(f"${decl.name} = {_value_text(decl.value)}\n")
        queries = parsed.queries
        if not queries:
            return
        params = self._params_for(queries)
        started = time.perf_counter()
        self.run(text, params, out)
        if self.timing:
            err.write(f"time: {time.perf_counter() - started:.3f} s\n")

    def _params_for(self, queries: Iterable[ir.Query]) -> dict[str, ParamValue]:
        used = used_params(tuple(queries))
        return {k: v for k, v in self.params.items() if k in used}

    def _engine_options(self, params: Mapping[str, ParamValue]) -> dict[str, Any]:
        """What every engine call from the REPL shares: the session's clock, mode and store."""
        return {
            "path": "<repl>",
            "now": self.now,
            "tz": self.tz,
            "sandbox": self.sandbox,
            "params": params,
            "config": self.config,
            "cache": self.store(),
        }

    def run(self, text: str, params: Mapping[str, ParamValue], out: TextIO) -> None:
        from querylang.engine import run
        from querylang.output import write_results

        results = run(text, **self._engine_options(params))
        if self.output is None:
            write_results(results, self.fmt, out)
            return
        with self.output.open("a", encoding="utf-8") as handle:
            write_results(results, self.fmt, handle)
        out.write(f"{len(results)} result(s) written to {self.output}\n")

    def explain(self, text: str, out: TextIO) -> None:
        from querylang.engine import explain
        from querylang.output import write_explain
        from querylang.syntax import parse

        params = self._params_for(parse(text, "<repl>").queries)
        plans = explain(text, **self._engine_options(params))
        write_explain(plans, "text", out)

    def _for_repl(self, exc: QuerylangError) -> QuerylangError:
        """The REPL has no --param: an unbound parameter's hint says how to set one here."""
        if isinstance(exc, ParamError) and exc.code == "E300":
            name = exc.message.split("$", 1)[-1].split()[0]
            exc.hint = f"set it with .param {name} VALUE, or PARAM ${name} = VALUE;"
        return exc


def _value_text(value: ir.Value) -> str:
    from querylang.printer import fmt_value

    return fmt_value(value)


def statements(lines: Iterable[str]) -> Iterator[str]:
    """Split a script into inputs: a dot-command per line, else text up to a closing ';'."""
    pending: list[str] = []
    for line in lines:
        if not pending and line.strip().startswith("."):
            yield line.strip()
            continue
        pending.append(line.rstrip("\n"))
        if line.rstrip().endswith(";"):
            yield "\n".join(pending)
            pending = []
    if "".join(pending).strip():
        yield "\n".join(pending)


def _completer(providers: Mapping[str, Any], config: str | None = None) -> Any:
    from prompt_toolkit.completion import Completer, Completion

    from querylang.config import load_config

    try:
        connections = load_config(config, providers=providers)
    except QuerylangError:
        connections = None  # the error shows when a query runs

    class QueryCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Iterable[Completion]:
            before = document.text_before_cursor
            if before.lstrip().startswith(".") and "\n" not in before:
                found = complete_command(before.lstrip(), providers, _formats())
            else:
                found = complete(before, providers, document.text_after_cursor, config=connections)
            for s in found:
                yield Completion(s.text, start_position=-s.replace, display_meta=s.meta)

    return QueryCompleter()


def _submits(text: str) -> bool:
    """Enter submits a dot-command or a statement ended by ';'; otherwise it adds a line."""
    stripped = text.strip()
    return not stripped or stripped.startswith(".") or stripped.endswith(";")


def repl(
    *,
    sandbox: bool,
    now: str | None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    interactive: bool | None = None,
    history: Path | None = None,
    config: str | None = None,
    tz: str | None = None,
) -> int:
    """Read inputs until .quit or Ctrl-D; a script on standard input runs without a prompt.

    A script goes on past a failing input and exits with the highest exit code of its
    failures (2 a mistake in a query or command, 1 a provider's failure), else 0.
    """
    session = Session(sandbox=sandbox, now=now, config=config, tz=tz)
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        for text in statements(sys.stdin):
            if not session.handle(text, out, err):
                break
        return session.failed  # a script that failed somewhere exits non-zero, as run does
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer

    from querylang.highlight import QuerylangLexer
    from querylang.plugins import registry

    keys = KeyBindings()

    @keys.add("enter")
    def _(event: Any) -> None:
        buffer = event.current_buffer
        if _submits(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @keys.add("escape", "enter")  # Alt-Enter submits whatever is there
    def _(event: Any) -> None:
        event.current_buffer.validate_and_handle()

    path = history or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stored: Any = FileHistory(os.fspath(path))
    except OSError:
        stored = None
        err.write(f"note: cannot keep history in {path}; this session's is not kept\n")
    prompt: PromptSession[str] = PromptSession(
        completer=_completer(registry().providers, config),
        key_bindings=keys,
        multiline=True,
        history=stored,
        lexer=PygmentsLexer(QuerylangLexer),
    )
    out.write(session.help() + "\n")
    while True:
        try:
            text = prompt.prompt("querylang> ", prompt_continuation="       ... ")
        except KeyboardInterrupt:  # Ctrl-C: the line is cleared, the session goes on
            continue
        except EOFError:  # Ctrl-D
            return 0
        try:
            if not session.handle(text, out, err):
                return 0
        except KeyboardInterrupt:
            err.write("cancelled\n")
