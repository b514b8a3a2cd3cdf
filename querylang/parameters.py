"""Parameters: values for ``$name`` placeholders from PARAM defaults, --param and files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from attrs import frozen

from querylang import ir
from querylang.errors import ParamError, SourceText, did_you_mean

__all__ = ["ParamValue", "file_params", "param_from_json", "param_from_text", "used_params"]


@frozen(kw_only=True)
class ParamValue:
    """A parameter's value and where it came from (for error messages)."""

    value: ir.Value
    origin: str  # "--param", "the params file", "the PARAM default"
    span: ir.Span = ir.NO_SPAN


def file_params(
    qfile: ir.QueryFile, overrides: Mapping[str, ParamValue], *, source: SourceText | None = None
) -> dict[str, ParamValue]:
    """Parameter values for a file: its PARAM defaults, overridden by the caller's values."""
    out: dict[str, ParamValue] = {}
    for decl in qfile.params:
        if decl.name in out:
            raise ParamError(
                "E303",
                f"the parameter ${decl.name} is declared twice",
                span=decl.span,
                source=source,
                hint="keep one PARAM line per parameter",
            )
        out[decl.name] = ParamValue(value=decl.value, origin="the PARAM default", span=decl.span)
    used = used_params(qfile.queries) if overrides else set()  # a walk of every query
    for name, value in overrides.items():
        if name not in used and name not in out:
            guess = did_you_mean(name, used)
            raise ParamError(
                "E302",
                f"--param {name} is not used by any query in {qfile.path}",
                source=source,
                hint=f"did you mean {guess!r}?" if guess else "check the parameter's name",
            )
        out[name] = value
    return out


def used_params(statements: Sequence[ir.Query | ir.ParamDecl]) -> set[str]:
    """The names of the $parameters the queries among ``statements`` use."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, ir.Param):
            found.add(node.name)
        elif isinstance(node, tuple):
            for item in node:
                visit(item)
        elif attrs.has(type(node)) and not isinstance(node, ir.Span):
            for field in attrs.fields(type(node)):
                visit(getattr(node, field.name))

    for statement in statements:
        if isinstance(statement, ir.Query):
            visit(statement)
    return found


def param_from_text(name: str, text: str, origin: str = "--param") -> ParamValue:
    """A command-line value: a querylang literal (7d, 'eu', 42, (1, 2)) or a bare word/list."""
    from querylang.syntax import parse

    raw = text.strip()
    try:
        statements = parse(f"PARAM ${name} = {raw}").statements
        if len(statements) != 1 or not isinstance(statements[0], ir.ParamDecl):
            raise ValueError("more than one value")
        parsed = statements[0].value
    except Exception:
        if "," in raw:
            items = tuple(param_from_text(name, part, origin).value for part in raw.split(","))
            return ParamValue(value=ir.ListValue(items=items), origin=origin)
        parsed = ir.Literal(value=raw)
    return ParamValue(value=parsed, origin=origin)


def param_from_json(name: str, value: Any, origin: str) -> ParamValue:
    """A params-file value: JSON string, number or list of those."""
    if isinstance(value, list):
        items = tuple(param_from_json(name, v, origin).value for v in value)
        return ParamValue(value=ir.ListValue(items=items), origin=origin)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParamError(
            "E301",
            f"the parameter ${name} in {origin} must be a string, number or list",
            hint='write e.g. {"window": "7d", "res": [1, 2]}',
        )
    return ParamValue(value=ir.Literal(value=value), origin=origin)
