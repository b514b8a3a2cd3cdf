"""Parameters: PARAM defaults, --param and params-file values; errors point at the use site."""

from __future__ import annotations

import pytest

from querylang import ir
from querylang.engine import plan_queries
from querylang.errors import ParamError, QueryError
from querylang.parameters import param_from_json, param_from_text
from tests.conftest import NOW_TEXT

BASE = "SELECT requests BY region FROM gcore WHERE region IN $regions EVERY $step LAST $window;"


def _plans(text: str, **params: object) -> list:
    return plan_queries(text, path="q.qry", now=NOW_TEXT, env={}, params=params, need_secrets=False)


def _error(text: str, **params: object) -> QueryError:
    with pytest.raises(QueryError) as info:
        _plans(text, **params)
    return info.value


def _pointed(text: str, error: QueryError) -> str:
    return text[error.span.start : error.span.end]


def test_defaults_bind_and_overrides_win() -> None:
    text = "PARAM $regions = ('eu', 'na'); PARAM $step = 1h; PARAM $window = 2d;\n" + BASE
    (plan,) = _plans(text)
    assert plan.bound.filters[0].values == ("eu", "na")
    assert str(plan.bound.every) == "1h"
    assert plan.bound.window.seconds == 2 * 86400
    (plan,) = _plans(text, window="7d", regions="asia,au")
    assert plan.bound.window.seconds == 7 * 86400
    assert plan.bound.filters[0].values == ("asia", "au")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("SELECT requests FROM gcore WHERE resource = $res LAST 1d", "$res"),
        ("SELECT requests FROM gcore WHERE resource IN $res LAST 1d", "$res"),
        ("SELECT requests FROM gcore EVERY $step LAST 1d", "$step"),
        ("SELECT requests FROM gcore LAST $window", "$window"),
        ("SELECT requests FROM gcore BETWEEN $from AND '2026-11-02'", "$from"),
        ("SELECT requests FROM gcore SINCE $from", "$from"),
    ],
)
def test_unbound_parameter_is_e300_at_its_use(text: str, name: str) -> None:
    error = _error(text)
    assert isinstance(error, ParamError)
    assert error.code == "E300"
    assert _pointed(text, error) == name
    assert f"the parameter {name} has no value" in error.message
    assert f"--param {name[1:]}=VALUE" in (error.hint or "")
    assert error.render().startswith(f"q.qry:1:{error.span.column}: error[E300]")


@pytest.mark.parametrize(
    ("value", "want"),
    [("soon", "a duration"), ("(1, 2)", "a duration"), ("42", "a duration")],
)
def test_ill_typed_command_line_value_is_e301_at_its_use(value: str, want: str) -> None:
    text = "SELECT requests FROM gcore LAST $window"
    error = _error(text, window=value)
    assert error.code == "E301"
    assert _pointed(text, error) == "$window"
    assert error.message.startswith(f"the parameter $window must be {want}")
    assert "--param gives" in error.message


def test_ill_typed_default_names_its_origin() -> None:
    text = "PARAM $step = 'hourly';\nSELECT requests FROM gcore EVERY $step LAST 1d"
    error = _error(text)
    assert error.code == "E301"
    assert _pointed(text, error) == "$step"
    assert "the PARAM default gives 'hourly'" in error.message
    assert error.span.line == 2


def test_a_list_where_one_value_is_expected() -> None:
    text = "SELECT requests FROM gcore WHERE region = $regions LAST 1d"
    error = _error(text, regions="eu,na")
    assert error.code == "E301"
    assert _pointed(text, error) == "$regions"
    assert "a single value (use IN for a list)" in error.message


def test_a_bad_value_inside_a_list_parameter_points_at_the_parameter() -> None:
    text = "SELECT requests FROM gcore WHERE region IN $regions LAST 1d"
    error = _error(text, regions="eu,mars")
    assert error.code == "E207"
    assert _pointed(text, error) == "$regions"
    assert "'mars' is not a region" in error.message


def test_params_file_values() -> None:
    text = "SELECT requests FROM gcore WHERE resource IN $res LAST $window"
    origin = "the params file p.json"
    params = {
        "res": param_from_json("res", [1, 2], origin),
        "window": param_from_json("window", "3d", origin),
    }
    (plan,) = _plans(text, **params)
    assert plan.bound.filters[0].values == (1, 2)
    error = _error(text, res=params["res"], window=param_from_json("window", 7, origin))
    assert error.code == "E301"
    assert "the params file p.json gives 7" in error.message
    with pytest.raises(ParamError) as info:
        param_from_json("res", {"a": 1}, origin)
    assert info.value.code == "E301"


def test_duplicate_and_unused_parameters() -> None:
    error = _error("PARAM $w = 1d; PARAM $w = 2d; SELECT requests FROM gcore LAST $w")
    assert (error.code, error.span.column) == ("E303", 16)
    error = _error("SELECT requests FROM gcore LAST $window", windw="1d", window="1d")
    assert error.code == "E302"
    assert "did you mean 'window'" in (error.hint or "")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7d", ir.Duration(amount=7, unit="d")),
        ("'eu'", ir.Literal(value="eu")),
        ("eu", ir.Literal(value="eu")),
        ("42", ir.Literal(value=42)),
        ("(1, 2)", ir.ListValue(items=(ir.Literal(value=1), ir.Literal(value=2)))),
        ("eu,na", ir.ListValue(items=(ir.Literal(value="eu"), ir.Literal(value="na")))),
        ("2026-11-01", ir.Literal(value="2026-11-01")),
    ],
)
def test_command_line_values(text: str, value: ir.Value) -> None:
    assert param_from_text("p", text).value == value
