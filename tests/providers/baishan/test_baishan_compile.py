"""Golden compile tests for FROM baishan: the exact wire request, or Unsupported."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from querylang.testing import golden
from querylang.timegrid import Granularity
from querylang_providers.baishan.catalog import parse_timezone
from tests.providers.kit import BAISHAN as kit
from tests.providers.kit import golden_file

GOLDEN = golden_file("baishan")
CASES = golden.load(GOLDEN)
TOKEN = kit.token

test_golden_compile = golden.golden_test(GOLDEN)


@pytest.mark.parametrize("case", [c for c in CASES if "requests" in c.expected], ids=str)
def test_token_is_sent_but_never_shown(case: golden.GoldenCase) -> None:
    for request in golden.compile_case(case, secrets={"BAISHAN_API_TOKEN": TOKEN}):
        assert f"token={TOKEN}" in request.url
        assert request.secret_params == ("token",)
        assert TOKEN not in json.dumps(request.to_json())
        assert TOKEN not in request.describe()
        assert TOKEN not in request.redacted_url()


def test_base_url_comes_from_the_context() -> None:
    query = CASES[0].native
    (request,) = kit.provider().compile(query, kit.context(base_url="http://127.0.0.1:9999/"))
    assert request.url.startswith("http://127.0.0.1:9999/v2/stat/bandwidth?token=")


def test_missing_setting_uses_the_default_zone() -> None:
    query = CASES[0].native
    (default,) = kit.provider().compile(query, kit.context(settings={}))
    (explicit,) = kit.provider().compile(
        query, kit.context(settings={"QUERYLANG_BAISHAN_TIMEZONE": "Asia/Shanghai"})
    )
    assert default.url == explicit.url


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("+08:00", 8 * 3600),
        ("+0800", 8 * 3600),
        ("UTC+8", 8 * 3600),
        ("-05:30", -(5 * 3600 + 1800)),
        ("UTC", 0),
        ("Z", 0),
        ("Asia/Shanghai", 8 * 3600),
    ],
)
def test_parse_timezone(text: str, offset: int) -> None:
    zone = parse_timezone(text)
    moment = dt.datetime(2026, 11, 20, tzinfo=dt.UTC).astimezone(zone)
    assert moment.utcoffset() == dt.timedelta(seconds=offset)


@pytest.mark.parametrize("text", ["", "Mars/Olympus", "+15:00", "+08:75", "eight"])
def test_parse_timezone_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timezone(text)


def test_catalog() -> None:
    dataset = kit.provider().datasets["cdn"]
    assert kit.provider().default_dataset == "cdn"
    rules = {m.name: (m.unit, m.kind, m.rollup, m.combine) for m in dataset.metrics}
    assert rules == {
        "bandwidth": ("bit/s", "gauge", "mean", "sum"),
        "traffic": ("bytes", "counter", "sum", "sum"),
    }
    domain, protocol = dataset.dimension("domain"), dataset.dimension("ip_protocol")
    assert domain is not None and domain.max_list == 10
    assert protocol is not None and protocol.values == ("ipv4", "ipv6")
    windows = {str(g.granularity): g.max_window for g in dataset.grains}
    assert windows == {"5m": 10 * 86400, "1h": 31 * 86400, "1d": 31 * 86400}
    assert dataset.omits_zeros
    limits = [(r.calls, r.per_seconds) for r in dataset.rate_limits]
    assert limits == [(300, 60), (24, 2)]
    assert Granularity.parse("1h").divides(Granularity.parse("1d"))
    assert [c.env for c in kit.provider().credentials] == ["BAISHAN_API_TOKEN"]
    assert [(s.env, s.default) for s in kit.provider().settings] == [
        ("QUERYLANG_BAISHAN_TIMEZONE", "+08:00")
    ]
