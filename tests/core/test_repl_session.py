"""The REPL through prompt_toolkit's pipe input: keys in, results out; and the Session's
dot-commands, parameters and script mode without a terminal."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from querylang.completion import complete_command
from querylang.plugins import registry
from querylang.repl import Session, history_path, repl, statements
from tests.conftest import NOW_TEXT

PROVIDERS = registry().providers
# The gcore emulator's requests for the two hours before NOW_TEXT (2026-11-20T05:00:00Z),
# as its series answers them (the same figures tests/core/test_repl.py reads back).
TWO_HOURS = (
    "time,requests,state\n2026-11-20T03:00:00Z,1439340,provisional\n"
    "2026-11-20T04:00:00Z,1652940,provisional\n"
)
TAB = "\t"
ENTER = "\r"
CTRL_C = "\x03"
CTRL_D = "\x04"
UP = "\x1b[A"


def _keys(chunks: Sequence[str], history: Path) -> tuple[int, str, str]:
    """Type ``chunks`` into a real prompt (a pause after each, so Tab's completion lands)."""
    out, err = io.StringIO(), io.StringIO()
    with create_pipe_input() as pipe:

        def typist() -> None:
            time.sleep(0.3)  # the prompt loads its history file in the background first
            for chunk in chunks:
                time.sleep(0.25 if chunk == TAB else 0.05)
                pipe.send_text(chunk)

        typing = threading.Thread(target=typist, daemon=True)
        typing.start()
        with create_app_session(input=pipe, output=DummyOutput()):
            code = repl(
                sandbox=True, now=NOW_TEXT, out=out, err=err, interactive=True, history=history
            )
        typing.join(10)  # never write to the pipe once closed: its descriptor may be reused
    return code, out.getvalue(), err.getvalue()


def test_multi_line_statement_runs_at_its_semicolon(tmp_path: Path) -> None:
    keys = [".format csv", ENTER, "SELECT requests", ENTER, "FROM gcore", ENTER,
            "EVERY 1h LAST 2h;", ENTER, CTRL_D]  # fmt: skip
    code, out, err = _keys(keys, tmp_path / "history")
    assert code == 0 and err == ""
    assert out.endswith("format csv\n" + TWO_HOURS)


def test_ctrl_c_clears_the_line_and_ctrl_d_leaves(tmp_path: Path) -> None:
    keys = ["SELECT nonsense FROM", CTRL_C, ".format csv", ENTER,
            "SELECT requests FROM gcore EVERY 1h LAST 2h;", ENTER, CTRL_D]  # fmt: skip
    code, out, err = _keys(keys, tmp_path / "history")
    assert code == 0 and err == ""  # the cleared line was never run
    assert out.endswith(TWO_HOURS)
    assert "nonsense" not in (tmp_path / "history").read_text()


def test_history_persists_between_sessions(tmp_path: Path) -> None:
    history = tmp_path / "data" / "history"
    _keys([".format csv", ENTER, "SELECT requests FROM gcore EVERY 1h LAST 2h;", ENTER, CTRL_D],
          history)  # fmt: skip
    assert "+SELECT requests FROM gcore EVERY 1h LAST 2h;" in history.read_text()
    # A new session: Up twice recalls the previous session's two inputs, in order.
    code, out, _ = _keys([UP, UP, ENTER, UP, UP, ENTER, CTRL_D], history)
    assert code == 0 and out.endswith("format csv\n" + TWO_HOURS)


def test_tab_completes_commands_their_arguments_and_names(tmp_path: Path) -> None:
    keys = [".fo", TAB, " csv", ENTER, ".timing of", TAB, ENTER,
            "SELECT reque", TAB, " FROM gcore EVERY 1h LAST 2h;", ENTER, CTRL_D]  # fmt: skip
    code, out, err = _keys(keys, tmp_path / "history")
    assert code == 0 and err == ""
    assert "format csv\ntiming off\n" + TWO_HOURS in out


def test_history_lives_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history_path() == tmp_path / "querylang" / "history"


def _session(*inputs: str) -> tuple[Session, str, str]:
    session = Session(sandbox=True, now=NOW_TEXT)
    out, err = io.StringIO(), io.StringIO()
    for text in inputs:
        session.handle(text, out, err)
    return session, out.getvalue(), err.getvalue()


def test_param_statements_and_dot_param_persist() -> None:
    _, out, err = _session(
        ".format csv",
        "PARAM $window = 2h;",
        "SELECT requests FROM gcore EVERY 1h LAST $window;",
        ".param window 1h",
        "SELECT requests FROM gcore EVERY 1h LAST $window;",
        ".param",
    )
    assert err == ""
    one_hour = "time,requests,state\n2026-11-20T04:00:00Z,1652940,provisional\n"
    assert out == "format csv\n$window = 2h\n" + TWO_HOURS + "$window = 1h\n" + one_hour + (
        "$window = 1h\n"
    )


def test_dot_param_takes_name_value_or_name_equals_value() -> None:
    session, out, err = _session(".param $window = 7d", ".param region=eu", ".param res (1, 2)")
    assert err == ""
    assert out == "$window = 7d\n$region = 'eu'\n$res = (1, 2)\n"
    assert set(session.params) == {"window", "region", "res"}


def test_an_unbound_parameter_says_how_to_set_it_here() -> None:
    _, _, err = _session("SELECT requests FROM gcore EVERY 1h LAST $window;")
    assert "error[E300]" in err and "--param" not in err
    assert "help: set it with .param window VALUE, or PARAM $window = VALUE;" in err


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (".format xml", ".format 'xml' is not a format"),
        (".format", ".format needs a format"),
        (".timing", ".timing takes on or off"),
        (".timing maybe", ".timing takes on or off, not 'maybe'"),
        (".sandbox yes", ".sandbox takes on or off, not 'yes'"),
        (".now yesterday", ".now 'yesterday' is not an ISO 8601 timestamp"),
        (".tz Mars/Olympus", ".tz 'Mars/Olympus' is not a time zone"),
        (".param window", ".param 'window' is not NAME VALUE"),
        (".output /nonexistent-dir/x.csv", "cannot write to /nonexistent-dir/x.csv"),
        (".explain", ".explain needs a query"),
        (".fromat csv", "unknown command '.fromat'"),
    ],
)
def test_commands_validate_their_argument(command: str, message: str) -> None:
    session, out, err = _session(command)
    assert out == "" and message in err and "help:" in err
    assert (session.fmt, session.timing, session.sandbox, session.now) == (
        "table", False, True, NOW_TEXT,
    )  # fmt: skip


def test_timing_output_now_and_explain(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    session, out, err = _session(
        ".timing on", ".format csv", f".output {target}",
        "SELECT requests FROM gcore EVERY 1h LAST 2h;", ".output",
        ".now 2026-11-20T04:00:00Z", ".now", ".explain SELECT requests FROM gcore EVERY 1h LAST 1h;",
        ".now off",
    )  # fmt: skip
    assert target.read_text() == TWO_HOURS
    assert f"1 result(s) written to {target}\noutput to the terminal\n" in out
    assert "now 2026-11-20T04:00:00Z (pinned" in out
    assert "from=2026-11-20T03%3A00%3A00Z&to=2026-11-20T04%3A00%3A00Z" in out  # explain
    assert session.now is None
    assert err.startswith("time: ") and err.endswith(" s\n")


def test_tz_sets_the_zone_of_queries_without_one() -> None:
    daily = "SELECT requests FROM gcore EVERY 1d LAST 2d;"
    session, out, err = _session(
        ".format csv", ".tz", ".tz Europe/Berlin", daily, ".help",
        f"{daily[:-1]} TZ 'UTC';", ".tz off", daily,
    )  # fmt: skip
    assert err == ""
    blocks = out.split("time,requests,state\n")
    berlin, explicit_utc, utc = blocks[1], blocks[2], blocks[3]
    # Berlin is UTC+01:00 in November: its days start at 23:00Z the evening before
    assert [line.split(",")[0] for line in berlin.splitlines()[:2]] == [
        "2026-11-18T00:00:00+01:00",
        "2026-11-19T00:00:00+01:00",
    ]
    _, same, _ = _session(
        ".format csv", "SELECT requests FROM gcore EVERY 1d LAST 2d TZ 'Europe/Berlin';"
    )
    assert same.split("time,requests,state\n")[1] in berlin  # the same as the TZ clause
    assert "(now: Europe/Berlin)" in berlin  # .help shows it
    assert explicit_utc.startswith("2026-11-18T00:00:00Z,") and utc.startswith(
        "2026-11-18T00:00:00Z,"
    )
    assert "tz: the config file's tz, else UTC, for queries without a TZ clause\n" in out
    assert session.tz is None


def test_help_lists_every_command() -> None:
    _, out, _ = _session(".help")
    for command in (".help", ".format", ".output", ".timing", ".explain", ".sandbox", ".now",
                    ".tz", ".param", ".quit"):  # fmt: skip
        assert f"\n  {command}" in out
    # each with its argument, the descriptions in one column
    assert "\n  .output [FILE]         write results to FILE; without one, back to" in out
    assert "\n  .now [TS|off]          pin the clock to TS (ISO 8601)" in out
    assert "\n  .format table|csv|json|ndjson|chart|html|parquet|arrow\n" in out
    assert "\n                         how results print (now: table)" in out


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        (
            ".",
            [
                ".help",
                ".format",
                ".output",
                ".timing",
                ".explain",
                ".sandbox",
                ".now",
                ".tz",
                ".param",
                ".quit",
            ],
        ),
        (".t", [".timing", ".tz"]),
        (".format c", ["csv"]),
        (".sandbox ", ["on", "off"]),
        (".now o", ["off"]),
        (".tz ", ["off"]),
        (".explain SELECT sent_byt", ["sent_bytes"]),
        (".timing on ", []),
    ],
)
def test_command_completion(before: str, expected: list[str]) -> None:
    found = complete_command(before, PROVIDERS, ("table", "csv", "json", "ndjson"))
    assert [s.text for s in found] == expected


def test_a_script_splits_into_commands_and_statements() -> None:
    script = [".format csv\n", "PARAM $w = 2h;\n", "SELECT requests\n", "FROM gcore;\n", "SELECT x"]
    assert list(statements(script)) == [
        ".format csv", "PARAM $w = 2h;", "SELECT requests\nFROM gcore;", "SELECT x",
    ]  # fmt: skip


def test_ctrl_c_during_a_query_returns_to_the_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = Session.run

    def interrupted(self: Session, text: str, params: Any, out: Any) -> None:
        calls.append(text)
        if len(calls) == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises while the engine waits
        original(self, text, params, out)

    monkeypatch.setattr(Session, "run", interrupted)
    keys = [".format csv", ENTER, "SELECT requests FROM gcore EVERY 1h LAST 2h;", ENTER,
            "SELECT requests FROM gcore EVERY 1h LAST 2h;", ENTER, CTRL_D]  # fmt: skip
    code, out, err = _keys(keys, tmp_path / "history")
    assert code == 0 and err == "cancelled\n" and len(calls) == 2
    assert out.endswith("format csv\n" + TWO_HOURS)


def test_piped_input_runs_as_a_script(monkeypatch: pytest.MonkeyPatch) -> None:
    script = ".format csv\nPARAM $w = 2h;\nSELECT requests\nFROM gcore EVERY 1h LAST $w;\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    out, err = io.StringIO(), io.StringIO()
    assert repl(sandbox=True, now=NOW_TEXT, out=out, err=err, interactive=False) == 0
    assert err.getvalue() == "" and out.getvalue() == "format csv\n$w = 2h\n" + TWO_HOURS


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (".tz Nowhere\nSELECT requests FROM gcore EVERY 1h LAST 2h;\n", 2),
        ("SELECT requests FROM gcorr EVERY 1h LAST 2h;\n.format csv\n", 2),
    ],
)
def test_a_failing_script_goes_on_and_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, script: str, code: int
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    out, err = io.StringIO(), io.StringIO()
    assert repl(sandbox=True, now=NOW_TEXT, out=out, err=err, interactive=False) == code
    assert "error[E2" in err.getvalue() or "error[E5" in err.getvalue()
    assert "requests" in out.getvalue() or out.getvalue() == "format csv\n"  # it went on


def test_the_prompts_completer_is_the_pure_function() -> None:
    from prompt_toolkit.document import Document

    from querylang.completion import complete
    from querylang.repl import _completer

    completer = _completer(PROVIDERS)
    for text in ("SELECT sent_b", "SELECT requests FROM gcore WHERE region = ", ".form"):
        got = [(c.text, -c.start_position) for c in completer.get_completions(Document(text), None)]
        want = complete_command(text, PROVIDERS, ("table", "csv", "json", "ndjson")) if (
            text.startswith(".")) else complete(text, PROVIDERS)  # fmt: skip
        assert got == [(s.text, s.replace) for s in want] and got
