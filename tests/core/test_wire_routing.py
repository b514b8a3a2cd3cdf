"""One provider shape: every dataset's compile, decode and failure come from its wire.

``HttpProvider.wires`` lists one :class:`querylang.provider.Wire` per dataset; the
provider's ``datasets`` are read from them and ``compile``/``decode``/``check`` are routed
by the query's dataset or the request's ``tag["dataset"]`` (else the default dataset).
The built-ins follow the layout every plugin author copies: ``__init__`` (the provider),
``catalog`` (data only), ``wire`` (a module or a package) and the emulator.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import querylang_providers
from querylang.catalog import Dataset, Dimension, GrainSpec, Metric
from querylang.failures import Failure, FailureKind
from querylang.frames import Frame, FrameBuilder
from querylang.provider import HttpProvider, Wire
from querylang.timegrid import Granularity, TimeWindow
from querylang.wire import NativeQuery, NativeRequest, NativeResponse, ProviderContext
from querylang_providers.baishan import BaishanProvider
from querylang_providers.fastly import FastlyProvider
from querylang_providers.gcore import GcoreProvider
from querylang_providers.gcore.wire import CdnWire, StorageWire
from querylang_providers.stackpath import StackPathProvider

PLUGINS = Path(querylang_providers.__file__).parent

# By hand, from the README's provider table: FROM gcore, gcore.storage, fastly, stackpath, baishan.
BUILT_INS = {
    GcoreProvider: {"cdn", "storage"},
    FastlyProvider: {"stats"},
    StackPathProvider: {"cdn"},
    BaishanProvider: {"cdn"},
}


@pytest.mark.parametrize("cls", list(BUILT_INS), ids=lambda c: c.__name__)
def test_every_built_in_lists_one_wire_per_dataset(cls: type[HttpProvider]) -> None:
    provider = cls()
    names = [w.dataset.name for w in provider.wires]
    assert sorted(names) == sorted(BUILT_INS[cls])  # one wire each, none twice
    assert all(isinstance(w, Wire) for w in provider.wires)
    assert set(provider.datasets) == BUILT_INS[cls]
    assert provider.default_dataset in provider.datasets
    for wire in provider.wires:
        assert provider.datasets[wire.dataset.name] is wire.dataset
        assert provider.wire(wire.dataset.name) is wire
    # routed, not overridden: a built-in never reimplements compile or decode itself
    assert "compile" not in vars(cls) and "decode" not in vars(cls)


def test_the_transitional_module_shape_is_gone() -> None:
    for name in ("_datasets", "dataset_modules"):
        assert not hasattr(HttpProvider, name)
        for cls in BUILT_INS:
            assert not hasattr(cls(), name), f"{cls.__name__}.{name}"


# -- routing, on a provider of two datasets -------------------------------------------------
def _dataset(name: str) -> Dataset:
    return Dataset(
        name=name,
        description=f"dataset {name}",
        metrics=(Metric(name="hits", unit="requests", kind="counter", description="hits"),),
        dimensions=(Dimension(name="site", description="site"),),
        grains=(GrainSpec.of("1h"),),
    )


class _Recording(Wire):
    """A wire that says who answered: its URL path, its frame's rows, its failure's words."""

    def __init__(self, name: str, *, envelope: bool) -> None:
        self.dataset = _dataset(name)
        self.envelope = envelope  # overrides failure (an error envelope of its own)
        self.decoded: list[str] = []

    def compile(self, query: NativeQuery, context: ProviderContext) -> list[NativeRequest]:
        tag = {"dataset": self.dataset.name} if self.dataset.name != "a" else {}
        return [
            NativeRequest(
                provider="two",
                method="GET",
                url=f"{context.base_url}/{self.dataset.name}",
                metrics=query.metrics,
                tag=tag,
            )
        ]

    def decode(self, query: NativeQuery, request: NativeRequest, response: NativeResponse) -> Frame:
        self.decoded.append(request.url)
        builder = FrameBuilder(query.group_by, request.metrics)
        builder.add_point((), query.window.start, {"hits": 1.0})
        return builder.build()

    def failure(
        self, provider: HttpProvider, request: NativeRequest, response: NativeResponse
    ) -> Failure | None:
        if not self.envelope:
            return super().failure(provider, request, response)
        return Failure(kind=FailureKind.BAD_REQUEST, said=f"wire {self.dataset.name}")


class _TwoDatasets(HttpProvider):
    name = "two"
    base_url = "http://two.test"
    default_dataset = "a"

    def __init__(self) -> None:
        self.a = _Recording("a", envelope=True)
        self.b = _Recording("b", envelope=False)
        self.c = _Recording("c", envelope=True)
        self.wires = (self.a, self.b, self.c)


def _query(dataset: str) -> NativeQuery:
    return NativeQuery(
        dataset=dataset,
        metrics=("hits",),
        group_by=(),
        filters=(),
        granularity=Granularity(1, "h"),
        window=TimeWindow(1_700_000_000 - 1_700_000_000 % 3600, 1_700_000_000),
    )


CONTEXT = ProviderContext(base_url="http://two.test", credentials={}, settings={}, now=0)


def _response(status: int) -> NativeResponse:
    return NativeResponse(status=status, headers={}, content=b'{"message": "refused"}')


def test_compile_and_decode_go_to_the_query_datasets_wire() -> None:
    provider = _TwoDatasets()
    assert set(provider.datasets) == {"a", "b", "c"}
    for name in ("a", "b", "c"):
        requests = provider.compile(_query(name), CONTEXT)
        assert isinstance(requests, list)
        assert [r.url for r in requests] == [f"http://two.test/{name}"]
        provider.decode(_query(name), requests[0], _response(200))
    assert provider.a.decoded == ["http://two.test/a"]
    assert provider.b.decoded == ["http://two.test/b"]
    assert provider.c.decoded == ["http://two.test/c"]


def test_failures_go_to_the_tagged_datasets_wire_else_the_default() -> None:
    provider = _TwoDatasets()
    (to_c,) = provider.compile(_query("c"), CONTEXT)
    (to_a,) = provider.compile(_query("a"), CONTEXT)  # untagged: the default dataset's wire
    (to_b,) = provider.compile(_query("b"), CONTEXT)
    failure_c = provider.classify(to_c, _response(200))
    failure_a = provider.classify(to_a, _response(200))
    assert failure_c is not None and failure_c.said == "wire c"
    assert failure_a is not None and failure_a.said == "wire a"
    # a wire without an envelope of its own falls back to the provider's status reading
    assert provider.classify(to_b, _response(200)) is None
    refused = provider.classify(to_b, _response(401))
    assert refused is not None and refused.kind is FailureKind.AUTH and refused.said == "refused"
    # check and http_error ask the same wire
    assert provider.check(to_c, _response(200)).kind == "fail"
    assert provider.check(to_b, _response(200)).kind == "ok"
    assert "wire c" in str(provider.http_error(to_c, _response(200)))


def test_a_dataset_without_a_wire_is_named() -> None:
    with pytest.raises(NotImplementedError, match="two has no wire for dataset 'nope'"):
        _TwoDatasets().compile(_query("nope"), CONTEXT)


def test_gcore_storage_errors_are_read_by_the_storage_wire_only() -> None:
    """The storage wire tags its requests, so its error envelope applies to them alone."""
    provider = GcoreProvider()
    context = ProviderContext(
        base_url=provider.base_url, credentials={"GCORE_API_KEY": "k"}, settings={}, now=0
    )
    day = TimeWindow(1_700_006_400, 1_700_092_800)
    storage = NativeQuery(
        dataset="storage", metrics=("traffic",), group_by=(), filters=(),
        granularity=Granularity(1, "h"), window=day,
    )  # fmt: skip
    cdn = NativeQuery(
        dataset="cdn", metrics=("sent_bytes",), group_by=(), filters=(),
        granularity=Granularity(1, "h"), window=day,
    )  # fmt: skip
    storage_requests = StorageWire().compile(storage, context)
    assert isinstance(storage_requests, list)  # not Unsupported
    (to_storage,) = storage_requests
    (to_cdn,) = CdnWire().compile(cdn, context)
    # a 200 carrying {"error"}: a bad request on the storage API, a success on the CDN's
    body = NativeResponse(status=200, headers={}, content=b'{"error": "bad dates"}')
    failure = provider.classify(to_storage, body)
    assert failure is not None and failure.kind is FailureKind.BAD_REQUEST
    assert (failure.api, failure.said) == ("Gcore object storage", "bad dates")
    assert provider.classify(to_cdn, body) is None
    refused = NativeResponse(status=400, headers={}, content=b'{"error": "bad dates"}')
    on_cdn = provider.classify(to_cdn, refused)
    assert on_cdn is not None and on_cdn.api == "the API"


# -- the layout --------------------------------------------------------------------------------
# By hand, from the target shape: each built-in is __init__, catalog and wire (a module, or a
# package of one module per dataset and the OAuth2 token). The emulator modules are left out:
# the emulator ports fold each provider's into one emulator.py.
LAYOUT = {
    "gcore": {"__init__.py", "catalog.py", "wire/__init__.py", "wire/cdn.py", "wire/storage.py"},
    "stackpath": {"__init__.py", "catalog.py", "wire/__init__.py", "wire/cdn.py", "wire/auth.py"},
    "fastly": {"__init__.py", "catalog.py", "wire.py"},
    "baishan": {"__init__.py", "catalog.py", "wire.py"},
}


def _emulator_side(path: Path) -> bool:
    return "emulator" in path.name or path.name == "synthetic.py"


@pytest.mark.parametrize("vendor", list(LAYOUT))
def test_each_built_in_has_the_one_shape(vendor: str) -> None:
    root = PLUGINS / vendor
    found = {p.relative_to(root).as_posix() for p in root.rglob("*.py") if not _emulator_side(p)}
    assert found == LAYOUT[vendor]


def _imports(path: Path) -> set[str]:
    """Every module a file imports (``from a.b import c`` counts as a.b and a.b.c)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


@pytest.mark.parametrize("vendor", list(LAYOUT))
def test_catalogs_are_data_only(vendor: str) -> None:
    """A catalog imports the catalog types and the standard library, nothing that does work."""
    for name in _imports(PLUGINS / vendor / "catalog.py"):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or top == "__future__"
        allowed = allowed or name == "querylang.catalog" or name.startswith("querylang.catalog.")
        assert allowed, f"{vendor}/catalog.py imports {name}"


@pytest.mark.parametrize("vendor", list(LAYOUT))
def test_emulators_never_import_a_wire(vendor: str) -> None:
    """An emulator takes the vendor constants from the catalog: it must not share the wire's
    code, or a bug in compile would be agreed with by the emulator it is tested against."""
    wire = f"querylang_providers.{vendor}.wire"
    for path in (PLUGINS / vendor).glob("*.py"):
        if _emulator_side(path):
            bad = sorted(n for n in _imports(path) if n == wire or n.startswith(f"{wire}."))
            assert not bad, f"{vendor}/{path.name} imports {bad}"


@pytest.mark.parametrize("vendor", list(LAYOUT))
def test_each_emulator_is_one_module_within_the_style_guides_size(vendor: str) -> None:
    """One emulator.py per provider, on the kit: what is left is the vendor's own, under the
    ~400 lines a module should stay within (docs/plugins.md quotes the counts)."""
    emulators = sorted(p.name for p in (PLUGINS / vendor).rglob("*.py") if _emulator_side(p))
    assert emulators == ["emulator.py"]
    lines = len((PLUGINS / vendor / "emulator.py").read_text().splitlines())
    assert lines <= 400, f"{vendor}/emulator.py is {lines} lines"
