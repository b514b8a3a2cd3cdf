"""querylang.testing.golden itself: loading, comparing with a diff, update mode, leaks.

The provider here is a tiny one defined below, so every expected request is written by
hand from its three-line wire format: ``GET /v1/hits?metric=&start=&end=&step=`` with a
Bearer token, one request per metric, ``site NOT IN`` refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from querylang.catalog import Credential, Dataset, Dimension, GrainSpec, Metric
from querylang.provider import HttpProvider, Wire
from querylang.testing import golden
from querylang.wire import NativeQuery, NativeRequest, ProviderContext, Unsupported, build_url

DAY = ("2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z")
START, END = 1795046400, 1795132800  # DAY as UNIX seconds
TOKEN_NAME = "MINI_TOKEN"


class HitsWire(Wire):
    dataset = Dataset(
        name="hits",
        description="hits",
        metrics=(
            Metric(name="hits", unit="requests", kind="counter", description="hits"),
            Metric(name="bytes", unit="bytes", kind="counter", description="bytes"),
        ),
        dimensions=(Dimension(name="site", description="site", values=("a", "b")),),
        grains=(GrainSpec.of("1h", max_window=31 * 86400),),
        history=90 * 86400,
    )

    def __init__(self, leak: bool = False) -> None:
        self.leak = leak

    def compile(
        self, query: NativeQuery, context: ProviderContext
    ) -> Sequence[NativeRequest] | Unsupported:
        site = query.filter("site")
        if site is not None and site.op == "not_in":
            return Unsupported(reason="mini cannot exclude sites", hint="use site IN (…)")
        token = context.credentials[TOKEN_NAME]
        out = []
        for metric in query.metrics:
            params: list[tuple[str, Any]] = [
                ("metric", metric),
                ("start", query.window.start),
                ("end", query.window.end),
                ("step", query.granularity.seconds),
                *(("site", s) for s in (site.values if site else ())),
                *((("key", token),) if self.leak else ()),
            ]
            out.append(
                NativeRequest(
                    provider="mini",
                    method="GET",
                    url=build_url(context.base_url, "/v1/hits", params),
                    headers=(("Authorization", f"Bearer {token}"),),
                    secret_headers=("Authorization",),
                    metrics=(metric,),
                    tag={"step": query.granularity.seconds} if site else {},
                )
            )
        return out


class MiniProvider(HttpProvider):
    name = "mini"
    base_url = "https://mini.example.invalid"
    default_dataset = "hits"
    credentials = (Credential(env=TOKEN_NAME, description="token"),)

    def __init__(self, leak: bool = False) -> None:
        self.wires = (HitsWire(leak),)


def hits_request(metric: str, start: int, end: int, extra: str = "") -> dict[str, Any]:
    return {
        "method": "GET",
        "url": f"https://mini.example.invalid/v1/hits?metric={metric}&start={start}&end={end}"
        f"&step=3600{extra}",
        "headers": {"Authorization": "***"},
        "body": None,
        "metrics": [metric],
    }


def cases() -> list[dict[str, Any]]:
    """Hand-written cases of the mini provider, each expected outcome right."""
    native = {"metrics": ["hits", "bytes"], "granularity": "1h", "window": list(DAY)}
    one_site = {**native, "metrics": ["hits"]}
    one_site["filters"] = [{"dimension": "site", "op": "in", "values": ["a"]}]
    not_site = {**one_site, "filters": [{"dimension": "site", "op": "not_in", "values": ["a"]}]}
    return [
        {
            "name": "two metrics, two requests",
            "note": "kept as written",
            "now": DAY[1],
            "native": native,
            "requests": [hits_request("hits", START, END), hits_request("bytes", START, END)],
        },
        {
            "name": "a site filter is sent and tagged",
            "now": DAY[1],
            "native": one_site,
            "requests": [{**hits_request("hits", START, END, "&site=a"), "tag": {"step": 3600}}],
        },
        {
            "name": "excluding a site is unsupported",
            "now": DAY[1],
            "native": not_site,
            "unsupported": {"reason": "mini cannot exclude sites", "hint": "use site IN (…)"},
        },
        {
            "name": "text, the last two hours",
            "now": DAY[1],
            "text": "SELECT hits FROM mini EVERY 1h LAST 2h",
            "requests": [hits_request("hits", END - 7200, END)],
        },
    ]


def write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(golden.dumps({"provider": "mini", "dataset": "hits", "cases": items}))
    return path


@pytest.fixture
def file(tmp_path: Path) -> Path:
    return write(tmp_path / "compile.json", cases())


def test_right_cases_pass(file: Path) -> None:
    loaded = golden.load(file)
    assert [c.name for c in loaded] == [c["name"] for c in cases()]
    for case in loaded:
        golden.check(case, provider=MiniProvider())


def test_golden_test_is_one_parameter_per_case(file: Path) -> None:
    test = golden.golden_test(file, provider=MiniProvider())
    (mark,) = test.pytestmark  # type: ignore[attr-defined]
    assert mark.name == "parametrize"
    assert [c.name for c in mark.args[1]] == [c["name"] for c in cases()]
    assert mark.kwargs["ids"] == [c["name"] for c in cases()]


def test_a_mismatch_names_the_case_and_shows_a_diff(tmp_path: Path) -> None:
    items = cases()
    items[0]["requests"][1]["url"] = items[0]["requests"][1]["url"].replace("bytes", "bites")
    path = write(tmp_path / "compile.json", items)
    case = golden.load(path)[0]
    with pytest.raises(golden.GoldenMismatch) as caught:
        golden.check(case, provider=MiniProvider())
    text = str(caught.value)
    lines = text.splitlines()
    assert lines[0] == (
        f"golden case 'two metrics, two requests' ({path}, now=2026-11-20T00:00:00Z) "
        "does not match:"
    )
    assert "--- expected" in lines and "+++ actual" in lines
    assert any(line.startswith("-") and "metric=bites" in line for line in lines)
    assert any(line.startswith("+") and "metric=bytes" in line for line in lines)
    assert not any(line.startswith(("-", "+")) and "metric=hits" in line for line in lines)
    assert lines[-1].startswith("fix: if the change is intended, run again with ")
    assert "QUERYLANG_GOLDEN_UPDATE=1" in lines[-1]


def test_update_rewrites_only_the_expected_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    right = cases()
    wrong = cases()
    wrong[0]["requests"] = []  # a new case: any outcome, then one update run
    wrong[2] = {k: v for k, v in wrong[2].items() if k != "unsupported"}
    wrong[2]["requests"] = [hits_request("hits", START, END)]  # the wrong kind of outcome
    path = write(tmp_path / "compile.json", wrong)
    before = json.loads(path.read_text())
    monkeypatch.setenv(golden.UPDATE_ENV, "1")
    with pytest.warns(golden.GoldenUpdated) as warned:
        for case in golden.load(path):
            golden.check(case, provider=MiniProvider())
    assert sorted(str(w.message).split(": ", 1)[1] for w in warned) == [
        "rewrote the expected outcome of 'excluding a site is unsupported'",
        "rewrote the expected outcome of 'two metrics, two requests'",
    ]
    after = json.loads(path.read_text())
    assert after == {"provider": "mini", "dataset": "hits", "cases": right}
    for old, new in zip(before["cases"], after["cases"], strict=True):
        kept = {k: v for k, v in old.items() if k not in golden.OUTCOMES}
        assert {k: v for k, v in new.items() if k not in golden.OUTCOMES} == kept
        assert list(new)[: len(kept)] == list(kept)  # the keys keep their order
    assert after["cases"][0]["note"] == "kept as written"
    # a second run has nothing to rewrite: the file stays byte for byte
    text = path.read_text()
    for case in golden.load(path):
        golden.check(case, provider=MiniProvider())
    assert path.read_text() == text
    monkeypatch.delenv(golden.UPDATE_ENV)
    for case in golden.load(path):
        golden.check(case, provider=MiniProvider())


def test_without_update_mode_the_file_is_never_written(tmp_path: Path) -> None:
    items = cases()
    items[3]["requests"] = []
    path = write(tmp_path / "compile.json", items)
    text = path.read_text()
    with pytest.raises(golden.GoldenMismatch, match="'text, the last two hours'"):
        golden.check(golden.load(path)[3], provider=MiniProvider())
    assert path.read_text() == text


def test_a_querylang_error_is_an_outcome(tmp_path: Path) -> None:
    item = {"name": "unknown metric", "now": DAY[1], "text": "SELECT nope FROM mini LAST 2h"}
    path = write(tmp_path / "compile.json", [{**item, "error": {}}])
    got = golden.outcome(golden.load(path)[0], provider=MiniProvider())
    assert list(got) == ["error"] and got["error"]["code"] == "E202"  # docs/reference.md
    assert "nope" in got["error"]["message"]


def test_a_credential_shown_unredacted_fails(file: Path) -> None:
    case = golden.load(file)[0]
    shown = golden.credentials(MiniProvider())[TOKEN_NAME]
    assert shown.endswith("s3cr3t")
    with pytest.raises(golden.GoldenMismatch, match=f"the value of {TOKEN_NAME} is shown"):
        golden.check(case, provider=MiniProvider(leak=True))
    requests = golden.compile_case(case, provider=MiniProvider(leak=True))
    assert not isinstance(requests, Unsupported) and f"key={shown}" in requests[0].url


def test_a_text_case_of_another_dataset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "compile.json"
    item = {"name": "t", "now": DAY[1], "text": "SELECT hits FROM mini LAST 2h", "requests": []}
    path.write_text(json.dumps({"provider": "mini", "dataset": "other", "cases": [item]}))
    with pytest.raises(golden.GoldenFileError, match=r"the file is for mini\.other"):
        golden.check(golden.load(path)[0], provider=MiniProvider())


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"text": "SELECT hits FROM mini LAST 2h"}, "gives ['text', 'native'] of"),
        ({"unsupported": {"reason": "r", "hint": None}}, "gives ['requests', 'unsupported'] of"),
        ({"now": "yesterday"}, "cannot be read"),
        ({"name": "a site filter is sent and tagged"}, "the name is taken"),
    ],
)
def test_a_malformed_case_is_refused_with_its_name(
    tmp_path: Path, change: dict[str, Any], words: str
) -> None:
    items = cases()
    items[0].update(change)
    path = write(tmp_path / "compile.json", items)
    with pytest.raises(golden.GoldenFileError, match="fix: ") as caught:
        golden.load(path)
    assert words in str(caught.value) and str(path) in str(caught.value)
