"""Shell completion for ``querylang`` (argcomplete): bash, zsh and fish.

``querylang completion SHELL`` prints the script that hooks the shell up; on each Tab the
shell runs ``querylang`` with argcomplete's variables set and ``complete`` answers from the
parser — commands, options, formats — and from the installed catalogs (providers and
datasets, error codes).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from typing import Any

__all__ = ["SHELLS", "complete", "install_completers", "script"]

SHELLS = ("bash", "zsh", "fish")


def _sources(**_: Any) -> list[str]:
    from querylang.plugins import registry

    labels = []
    for provider in registry().providers.values():
        for name in provider.datasets:
            labels.append(provider.name if name == provider.default_dataset else
                          f"{provider.name}.{name}")  # fmt: skip
    return labels


def _providers(**_: Any) -> list[str]:
    from querylang.plugins import registry

    return sorted(registry().providers)


def _codes(**_: Any) -> list[str]:
    from querylang.codes import code_docs

    return list(code_docs())


def _choices(values: Iterable[str]) -> Any:
    fixed = list(values)
    return lambda **_: fixed


def install_completers(parser: argparse.ArgumentParser) -> None:
    """Attach completers to the arguments whose values come from the catalogs."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            for arg in sub._actions:
                dest = arg.dest
                if name == "describe" and dest == "provider":
                    arg.completer = lambda **_: [*_sources(), "standard"]
                elif name == "emulate" and dest == "provider":
                    arg.completer = _providers
                elif name == "explain-code" and dest == "code":
                    arg.completer = _codes
                elif dest == "format" and getattr(arg.type, "choices", None):
                    arg.completer = _choices(arg.type.choices)


def complete(parser: argparse.ArgumentParser) -> None:
    """When the shell asks (argcomplete's variables are set): answer and exit; else nothing."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    install_completers(parser)
    argcomplete.autocomplete(parser)


def script(shell: str) -> str:
    """The shell code that makes Tab complete ``querylang`` in ``shell``."""
    import argcomplete

    return argcomplete.shellcode(["querylang"], shell=shell)
