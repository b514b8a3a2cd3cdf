"""Fuzzed query texts through parse, bind and plan: only the project's own errors come out.

The default run tries :data:`SMALL` texts; ``pytest -m long`` (the documented long suite)
tries 100,000. Texts are seeded mutations of the example files and of hostile inputs
(deep nesting, huge numbers and durations, dates at the ends of the calendar, odd bytes),
so a failure names a seed that reproduces it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import querylang
from querylang.errors import QuerylangError

ROOT = Path(__file__).resolve().parents[2]
SMALL = 2000
LONG = 100_000

SEEDS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.qry"))] + [
    "SELECT requests FROM gcore EVERY 1h LAST 1d",
    "SELECT traffic BY storage FROM gcore.storage EVERY 1d LAST 3d",
    "SELECT requests, hit_ratio BY region FROM fastly WHERE region IN ('usa') EVERY 1m LAST 2h",
    "SELECT xferUsedTotalMB BY pop FROM stackpath EVERY 5m BETWEEN '2026-11-01' AND '2026-11-02'",
    "SELECT traffic, bandwidth BY domain FROM baishan WHERE domain = 'a.example' EVERY 1d LAST 7d",
    "SELECT p95_bandwidth_bps FROM gcore, stackpath, baishan EVERY 1mo LAST 3mo",
]
PIECES = [
    "(", ")", "((((((((", "))))", ",", ";", "'", '"', "$w", "PARAM $w = 7d;", "BY", "WHERE",
    "IN", "NOT", "=", "!=", "EVERY", "LAST", "BETWEEN", "AND", "FROM", "SELECT", "1m", "5m",
    "1mo", "99999999d", "9999999999999mo", "0", "-1", "1e309", "9" * 400, "0001-01-01",
    "'9999-12-31T23:59:59Z'", "'0001-01-01'", "\x00", "\ufeff", "é", "🙂", "\n", "--", "/*",
    "*/", "gcore", "fastly", "stackpath", "baishan", "gcore.storage", "requests", "region",
    "account", "ORDER", "LIMIT", "AS", "*", ".", "\\",
]  # fmt: skip


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randint(0, 12))
        op = rng.randrange(6)
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:i] + rng.choice(PIECES) + text[i:]
        elif op == 2:
            text = text[:i] + " " + rng.choice(PIECES) + " " + text[j:]
        elif op == 3:
            text = text[:i] + text[i:j] * rng.randint(2, 5) + text[j:]
        elif op == 4:
            depth = rng.choice([3, 40, 1000, 20_000])
            text = text[:i] + "(" * depth + "1" + ")" * depth + text[j:]
        else:
            text = text[:i] + chr(rng.randrange(32, 0x2FFF)) + text[i:]
    return text


def _one(seed: int) -> None:
    rng = random.Random(seed)
    text = mutate(rng, rng.choice(SEEDS))
    try:
        querylang.explain(text, now="2026-11-20T05:00:00Z", sandbox=True)
    except QuerylangError as exc:
        assert exc.code[0] in "EP", (seed, exc.code)
        assert exc.code != "E999", seed
        str(exc)  # renders
    except Exception as exc:  # pragma: no cover - what this test exists to catch
        raise AssertionError(f"seed {seed}: {type(exc).__name__}: {exc!r} for {text!r}") from exc


def test_fuzzed_texts_give_only_project_errors() -> None:
    for seed in range(SMALL):
        _one(seed)


@pytest.mark.long
def test_fuzzed_texts_give_only_project_errors_100k() -> None:
    for seed in range(LONG):
        _one(seed)
