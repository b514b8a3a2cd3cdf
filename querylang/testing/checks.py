"""The conformance checks by name, each a function of a provider raising ConformanceFailure.

One module per check (catalog, compiling, decoding, endtoend, failures), all run in the
sandbox (fixed clock, made-up secrets, no network where it must not be used).
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen

from querylang.hookspecs import Provider
from querylang.testing.catalog import check_catalog
from querylang.testing.compiling import check_compile, check_secrets, queries
from querylang.testing.decoding import check_decode
from querylang.testing.endtoend import TruthEmulator, check_end_to_end
from querylang.testing.failures import check_failures
from querylang.testing.sandbox import NOW, ConformanceFailure, env_for, no_network, secrets

__all__ = [
    "CHECKS",
    "NOW",
    "Case",
    "ConformanceFailure",
    "TruthEmulator",
    "env_for",
    "no_network",
    "queries",
    "secrets",
]


@frozen
class Case:
    provider: Provider
    check: str
    run: Callable[[Provider], None]

    @property
    def id(self) -> str:
        return f"{self.provider.name}::{self.check}"


CHECKS: dict[str, Callable[[Provider], None]] = {
    "catalog": check_catalog,
    "compile": check_compile,
    "decode": check_decode,
    "end_to_end": check_end_to_end,
    "failures": check_failures,
    "secrets": check_secrets,
}
