"""The core's modules import each other without a circle, and the contract names its types."""

from __future__ import annotations

import ast
from pathlib import Path

import querylang
from querylang import hookspecs

CORE = Path(querylang.__file__).resolve().parent


def _module_imports(path: Path) -> set[str]:
    """querylang modules imported when ``path`` is imported (not under TYPE_CHECKING or in a def)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:  # top level only: imports inside functions are lazy on purpose
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "querylang":
                found.update(f"querylang.{a.name}" for a in node.names)
            elif node.module.startswith("querylang."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("querylang."))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {f"querylang.{p.stem}": p for p in CORE.glob("*.py") if p.stem != "__init__"}
    return {name: _module_imports(path) & set(modules) for name, path in modules.items()}


def test_no_module_of_the_core_imports_itself_through_a_circle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, "import circle: " + " → ".join((*path, node))
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, (*path, node))
        done.add(node)

    for name in sorted(graph):
        visit(name, ())


def test_syntax_and_its_error_messages_both_build_on_the_parser_module() -> None:
    graph = _graph()
    assert "querylang.parser" in graph["querylang.syntax_errors"]
    assert "querylang.syntax" not in graph["querylang.syntax_errors"]


def test_the_contract_file_names_every_runtime_type_a_provider_handles() -> None:
    for name in ("Verdict", "AuthSession", "Provider", "Emulator", "hookimpl"):
        assert name in hookspecs.__all__
        assert getattr(hookspecs, name) is getattr(querylang, name)
    # the runtime classes are defined where they belong, not in the contract file
    assert querylang.Verdict.__module__ == "querylang.failures"
    assert querylang.AuthSession.__module__ == "querylang.wire"
