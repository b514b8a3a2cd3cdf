"""``querylang explain-code CODE``: the documented explanation and example of an error code.

The text is docs/reference.md's own section for the code (shipped inside the wheel), so the
command and the reference cannot drift; the example is checked live, so the output also
shows the error exactly as ``check`` reports it.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import TextIO

from attrs import frozen

from querylang.errors import UsageError, did_you_mean

__all__ = ["CodeDoc", "code_docs", "explain_code"]

_HEADING = re.compile(r"^### ([EP]\d{3}) — (.*)$", re.MULTILINE)
_EXAMPLE = re.compile(r"```qry\n(.*?)```", re.DOTALL)
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)


@frozen
class CodeDoc:
    """One error code as the reference documents it."""

    code: str
    title: str
    body: str  # the prose, with fenced blocks indented instead of fenced
    example: str | None  # the ``qry`` example, if the section has one


def _reference_text() -> str:
    """docs/reference.md: packaged as querylang/reference.md, or beside the source tree."""
    packaged = resources.files("querylang").joinpath("reference.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[1] / "docs" / "reference.md").read_text("utf-8")


def _plain(markdown: str) -> str:
    """Markdown to terminal text: fenced blocks indented, backticks and link targets gone."""
    text = _FENCE.sub(lambda m: "\n".join("    " + line for line in m[1].splitlines()), markdown)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text.replace("`", "").strip()


@functools.cache
def code_docs() -> dict[str, CodeDoc]:
    """Every documented code, in the reference's order."""
    text = _reference_text()
    text = text[text.index("## Error codes") :]
    heads = list(_HEADING.finditer(text))
    docs = {}
    for head, nxt in zip(heads, [*heads[1:], None], strict=True):
        section = text[head.end() : nxt.start() if nxt else len(text)]
        section = re.split(r"^## ", section, flags=re.MULTILINE)[0]
        example = _EXAMPLE.search(section)
        docs[head[1]] = CodeDoc(
            code=head[1],
            title=head[2].strip(),
            body=_plain(section),
            example=example[1].strip() if example else None,
        )
    return docs


def explain_code(code: str, out: TextIO) -> int:
    """Print a code's explanation, its example and how check reports the example."""
    docs = code_docs()
    key = code.strip().upper()
    if re.fullmatch(r"\d{3}", key):
        key = "E" + key
    doc = docs.get(key)
    if doc is None:
        # A letter typed for a digit (E4O2, P4Z9) is the likeliest slip: try that first.
        digits = key[:1] + key[1:].translate(str.maketrans("OILZS", "01125"))
        guess = digits if digits in docs else did_you_mean(key, docs)
        raise UsageError(
            f"{code!r} is not a querylang error code",
            hint=f"did you mean {guess}?"
            if guess
            else "codes look like E402 or P429; docs/reference.md lists them all",
        )
    out.write(f"{doc.code}: {doc.title}\n\n{doc.body}\n")
    if doc.example is not None:
        reported = _reported(doc.example)
        if reported:
            out.write(f"\n`querylang check` reports the example as:\n\n{reported}\n")
    return 0


def _reported(example: str) -> str:
    """The example's diagnostics as check prints them (clock pinned, sandbox settings)."""
    from querylang.checking import check_text
    from querylang.plugins import registry
    from querylang.timegrid import parse_ts

    now = parse_ts("2026-11-20T05:00:00Z")  # the reference's examples assume this clock
    errors = check_text(example, "example.qry", registry().providers, now=now, sandbox=True)
    return "\n\n".join(e.render() for e in errors)
