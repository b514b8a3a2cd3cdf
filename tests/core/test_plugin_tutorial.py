"""The plugin tutorial cannot drift: its code is the example plugin's code, all of it.

docs/plugins.md marks each tutorial code block with a comment naming the example file it is
taken from (``<!-- tutorial: querylang_edgelog/wire.py -->``). Every marked block must appear
verbatim in that file and be made of whole top-level statements, and together the blocks must
show every top-level statement of the plugin's modules (the emulator included), of its
pyproject.toml and of its conformance test.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from collections import defaultdict
from pathlib import Path

import attrs
import pytest

import querylang
from querylang.plugins import registry_of
from querylang.timegrid import parse_ts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "querylang-example-plugin"
DOC = (ROOT / "docs" / "plugins.md").read_text()

MARKER = re.compile(r"<!-- tutorial: (?P<path>\S+) -->")
FENCED = re.compile(
    r"<!-- tutorial: (?P<path>\S+) -->\n```(?P<lang>\w+)\n(?P<code>.*?\n)```\n", re.S
)
# What the tutorial must show whole: the plugin's own modules, its packaging, its one test.
WHOLE = ("querylang_edgelog/__init__.py", "querylang_edgelog/catalog.py",
         "querylang_edgelog/wire.py", "querylang_edgelog/emulator.py", "pyproject.toml",
         "tests/test_conformance.py")  # fmt: skip
NOT_SHOWN: set[str] = set()  # every module of the plugin is shown whole


@attrs.frozen
class Block:
    path: str
    lang: str
    code: str


BLOCKS = [Block(m["path"], m["lang"], m["code"]) for m in FENCED.finditer(DOC)]


def _statements(source: str) -> list[str]:
    """Each top-level statement of a module, as its AST dump (positions left out)."""
    return [ast.dump(node) for node in ast.parse(source).body]


def test_every_marker_is_followed_by_a_code_block() -> None:
    assert len(MARKER.findall(DOC)) == len(BLOCKS), (
        "a '<!-- tutorial: … -->' marker in docs/plugins.md is not directly followed by a "
        "fenced python or toml block"
    )
    assert {b.lang for b in BLOCKS} == {"python", "toml"}


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.path}#{i}" for i, b in enumerate(BLOCKS)])
def test_a_tutorial_block_is_the_example_plugins_code(block: Block) -> None:
    source = (EXAMPLE / block.path).read_text()
    assert block.code in source, (
        f"this tutorial block is not verbatim in examples/querylang-example-plugin/{block.path}:"
        f"\n{block.code}"
    )
    if block.lang == "python":
        statements = set(_statements(source))
        for dump in _statements(block.code):
            assert dump in statements, f"{block.path}: a block shows part of a definition"
    else:
        assert tomllib.loads(block.code) == tomllib.loads(source)


def test_the_blocks_together_are_the_whole_plugin() -> None:
    shown: dict[str, list[Block]] = defaultdict(list)
    for block in BLOCKS:
        shown[block.path].append(block)
    package = {f"querylang_edgelog/{p.name}" for p in (EXAMPLE / "querylang_edgelog").glob("*.py")}
    assert package - NOT_SHOWN <= set(WHOLE), "a module of the plugin is missing from WHOLE"
    for path in WHOLE:
        source = (EXAMPLE / path).read_text()
        if path.endswith(".toml"):
            assert [b.code for b in shown[path]] == [source], f"{path} is not shown whole"
            continue
        in_blocks = {dump for b in shown[path] for dump in _statements(b.code)}
        missing = [
            ast.get_source_segment(source, node, padded=False) or ast.dump(node)
            for node in ast.parse(source).body
            if ast.dump(node) not in in_blocks
        ]
        assert not missing, f"the tutorial does not show, from {path}:\n" + "\n".join(
            m.splitlines()[0] for m in missing
        )


def test_the_tutorial_declares_the_entry_point() -> None:
    (toml,) = [b for b in BLOCKS if b.path == "pyproject.toml"]
    assert tomllib.loads(toml.code)["project"]["entry-points"]["querylang"] == {
        "edgelog": "querylang_edgelog"
    }


def test_the_tree_lists_the_files_the_tutorial_writes() -> None:
    (tree,) = re.findall(r"<!-- tutorial-tree -->\n```text\n(.*?)```", DOC, re.S)
    files, folders = set(), [""]
    for line in tree.splitlines()[1:]:
        depth = (len(line) - len(line.lstrip())) // 2
        name = line.strip()
        del folders[depth:]
        if name.endswith("/"):
            folders.append(name)
        else:
            files.add("".join(folders[1:]) + name)
    assert files == set(WHOLE) | NOT_SHOWN
    assert all((EXAMPLE / f).is_file() for f in files)


def _tutorial_queries() -> list[str]:
    """The query texts the tutorial's 'Run it' commands pass with ``-e``."""
    run_it = DOC[DOC.index("### 7. Run it") :]
    (commands,) = re.findall(r"```sh\n(.*?)```", run_it, re.S)[:1]
    queries = []
    for line in commands.replace("\\\n", " ").splitlines():
        words = shlex.split(line.split(" #")[0])
        while words and "=" in words[0]:  # VAR=value before the command
            words.pop(0)
        if words[:2] == ["querylang", "run"] and "-e" in words:
            queries.append(words[words.index("-e") + 1])
    return queries


def test_the_tutorial_queries_give_the_emulators_numbers(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    import querylang_edgelog

    queries = _tutorial_queries()
    assert len(queries) == 2
    now = parse_ts("2026-11-20T05:30:00Z")
    providers = registry_of(querylang_edgelog)
    for text in queries:
        (result,) = querylang.run(text, now=now, sandbox=True, providers=providers)
        assert len(result.frame) > 0, text
    # The last one, SELECT requests … EVERY 1d LAST 7d: the seven whole days before today,
    # each the emulator's own total over every site.
    day = 86400
    today = now // day * day
    emulator = providers.get("edgelog").emulator(lambda: float(now))
    truth = emulator.expected("series", "requests", today - 7 * day, today, day)
    assert len(truth) == 7
    frame = result.frame
    assert dict(zip(frame.time.tolist(), frame.metrics["requests"].tolist(), strict=True)) == truth
