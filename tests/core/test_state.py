"""Every row's state, end to end in the sandbox: provisional until the vendor's delay has
passed after the bucket ends, complete from then on (the clock pinned with ``now``).

The delays are the vendor documents' (or the documented conservative choices), listed by
hand in tests/core/test_finality.py; here the emulators answer real HTTP-shaped requests.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from querylang.engine import run
from querylang.timegrid import Granularity, format_ts, parse_ts

MIN, HOUR, DAY = 60, 3600, 86400

# (query head, native grain, delay in seconds)
CASES = [
    *(("SELECT requests FROM fastly", g, 15 * MIN) for g in ("1m", "1h")),
    ("SELECT requests FROM fastly", "1d", 2 * HOUR),
    *(("SELECT sent_bytes FROM gcore", g, DAY) for g in ("1m", "5m", "15m", "1h", "1d")),
    *(("SELECT size_mean FROM gcore.storage", g, HOUR) for g in ("1h", "12h", "24h")),
    *(("SELECT xferUsedTotalMB FROM stackpath", g, 2 * HOUR) for g in ("5m", "1h", "1d", "1mo")),
    *(("SELECT traffic FROM baishan", g, 2 * HOUR) for g in ("5m", "1h", "1d")),
]


def _one_bucket(head: str, grain: str, now: int) -> tuple[str, float]:
    g = Granularity.parse(grain)
    start = g.floor(parse_ts("2026-10-01T00:00:00Z" if grain == "1mo" else "2026-11-19T00:00:00Z"))
    end = g.add(start)
    text = f"{head} EVERY {grain} BETWEEN '{format_ts(start)}' AND '{format_ts(end)}'"
    (result,) = run(text, now=now, sandbox=True)
    assert len(result.frame) == 1, text
    assert result.frame.state is not None
    return str(result.frame.state[0]), float(result.frame.metrics[result.columns[1].name][0])


@pytest.mark.parametrize(("head", "grain", "delay"), CASES, ids=lambda v: str(v).split()[-1])
def test_a_bucket_is_provisional_until_its_delay_has_passed(
    head: str, grain: str, delay: int
) -> None:
    g = Granularity.parse(grain)
    start = g.floor(parse_ts("2026-10-01T00:00:00Z" if grain == "1mo" else "2026-11-19T00:00:00Z"))
    final = g.add(start) + delay  # by hand: the bucket's end plus the documented delay
    before, value_before = _one_bucket(head, grain, final - 1)
    after, value_after = _one_bucket(head, grain, final)
    assert (before, after) == ("provisional", "complete")
    assert value_before == value_before and value_after == value_after  # a value, not null


def test_a_rebucketed_bucket_is_final_with_its_last_part() -> None:
    # a 6-hour bucket from Fastly hours: its last hour (05:00) ends 06:00, final 06:15
    text = "SELECT requests FROM fastly EVERY 6h BETWEEN '2026-11-19' AND '2026-11-19T06:00:00Z'"
    for now, state in (
        ("2026-11-19T06:14:59Z", "provisional"),
        ("2026-11-19T06:15:00Z", "complete"),
    ):
        (result,) = run(text, now=now, sandbox=True)
        assert result.frame.state.tolist() == [state]


def test_across_providers_the_longest_delay_counts() -> None:
    text = "SELECT requests FROM gcore, fastly EVERY 1h BETWEEN '2026-11-19' AND '2026-11-19T01:00:00Z'"
    (fast,) = run(text, now="2026-11-19T01:15:00Z", sandbox=True)  # Fastly final, Gcore not
    assert fast.frame.state.tolist() == ["provisional"]
    (late,) = run(text, now="2026-11-20T01:00:00Z", sandbox=True)
    assert late.frame.state.tolist() == ["complete"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "querylang.cli", *args], capture_output=True, text=True, check=False
    )


QUERY = "SELECT requests FROM fastly EVERY 1h BETWEEN '2026-11-19T22:00:00Z' AND '2026-11-20'"
NOW = "2026-11-20T00:10:00Z"  # 22:00 is final (ended 23:00 + 15 min), 23:00 is not


def test_json_ndjson_and_csv_carry_the_state() -> None:
    data = json.loads(_cli("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "json").stdout)
    (result,) = data["results"]
    assert [r["state"] for r in result["rows"]] == ["complete", "provisional"]
    assert result["columns"][-1] == {"name": "state", "role": "state"}
    lines = _cli("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "ndjson").stdout.splitlines()
    assert [json.loads(line)["state"] for line in lines] == ["complete", "provisional"]
    csv = _cli("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "csv").stdout.splitlines()
    assert csv[0] == "time,requests,state"
    assert [line.rsplit(",", 1)[1] for line in csv[1:]] == ["complete", "provisional"]


def test_the_table_marks_provisional_rows() -> None:
    out = _cli("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "table").stdout
    (complete,) = [line for line in out.splitlines() if "2026-11-19T22:00:00Z" in line]
    (provisional,) = [line for line in out.splitlines() if "2026-11-19T23:00:00Z" in line]
    assert "complete" in complete and "provisional *" in provisional
    assert "* provisional: the vendor may still revise these buckets" in out


def test_final_only_drops_provisional_rows_and_explain_says_so() -> None:
    csv = _cli("run", "--sandbox", "--now", NOW, "-e", QUERY, "-f", "csv", "--final-only").stdout
    assert csv.splitlines()[1:] and all(
        line.startswith("2026-11-19T22") for line in csv.splitlines()[1:]
    )
    plan = _cli("explain", "--now", NOW, "-e", QUERY, "--final-only").stdout
    assert "- --final-only: drop provisional rows" in plan
    assert "mark rows complete when their bucket ended by 2026-11-19T23:55:00Z" in plan


def test_last_still_excludes_the_unfinished_bucket() -> None:
    (result,) = run(
        "SELECT requests FROM fastly EVERY 1h LAST 2h", now="2026-11-20T00:10:00Z", sandbox=True
    )
    assert result.frame.time.tolist() == [
        parse_ts("2026-11-19T22:00:00Z"),
        parse_ts("2026-11-19T23:00:00Z"),
    ]
    assert result.frame.state.tolist() == ["complete", "provisional"]
