"""Shell completion: the bash script run by a real bash, and the engine zsh and fish call."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from querylang.cli import main

BIN = Path(sys.executable).parent


def _script(shell: str) -> str:
    out = io.StringIO()
    assert main(["completion", shell], out=out) == 0
    return out.getvalue()


def _bash_complete(line: str, script: Path) -> list[str]:
    """What Tab offers at the end of ``line`` in bash, through the printed script."""
    words = line.split() + ([""] if line.endswith(" ") else [])
    program = (
        f"source {script}\n"
        f"COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        "_python_argcomplete querylang\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [w.strip() for w in done.stdout.splitlines() if w.strip()]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completes_commands_options_and_catalog_names(tmp_path: Path) -> None:
    script = tmp_path / "querylang.bash"
    script.write_text(_script("bash"))
    assert _bash_complete("querylang desc", script) == ["describe"]
    assert _bash_complete("querylang describe gcore", script) == ["gcore", "gcore.storage"]
    assert _bash_complete("querylang check --format g", script) == ["github"]
    assert _bash_complete("querylang explain-code E40", script) == [
        "E400", "E401", "E402", "E403", "E404", "E405", "E406", "E407", "E408",
    ]  # fmt: skip
    assert "--sandbox" in _bash_complete("querylang run --", script)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_call_querylang_back(shell: str, tmp_path: Path) -> None:
    script = _script(shell)
    assert "querylang" in script and "_ARGCOMPLETE" in script
    assert any(f"_ARGCOMPLETE_SHELL{sep}{shell}" in script for sep in ('="', " "))
    # What that script runs: querylang with argcomplete's variables; the answer on fd 8.
    out = tmp_path / "answer"
    env = {
        **os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": shell,
        "COMP_LINE": "querylang emulate st", "COMP_POINT": "20",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }  # fmt: skip
    subprocess.run([BIN / "querylang"], env=env, timeout=60, stdin=subprocess.DEVNULL,
                   capture_output=True)  # fmt: skip
    assert "stackpath" in out.read_text()


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "tcsh"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "error[E500]: no completion for the shell 'tcsh'" in err and "bash, zsh, fish" in err
