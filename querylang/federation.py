"""One question across providers: ``FROM a, b``, the ``provider`` dimension, standard metrics.

A query takes this path when it names several sources, uses the ``provider`` dimension,
or selects a standard metric (:mod:`querylang.standard`) that its one source has no native
metric for. Otherwise it is bound and planned exactly as before (``binding.bind``).

Binding checks that every name is answered by every provider (naming the ones that lack
it and the ones that have it), then binds one *leg* per provider: an ordinary
:class:`~querylang.binding.BoundQuery` for the native counters the standard metrics are
made of. Planning plans each leg on its own (native grain, chunking, limits: an error
names the leg's provider) and adds the steps that make one answer of them: each leg's
natives become standard columns tagged with its provider; then the providers are added up
(unless ``BY provider``), 5-minute peaks and percentiles are taken from the *combined*
series, ratios and mean rates are recomputed from the summed parts, and the columns are
shaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs
from attrs import frozen

from querylang import ir
from querylang.accounts import ACCOUNT, Account, accounts, uses_accounts, with_source
from querylang.binding import BoundQuery, bind, refuse_reserved
from querylang.catalog import Dataset
from querylang.errors import BindingError, LimitError, SourceText, did_you_mean
from querylang.hookspecs import Provider
from querylang.localtime import Grid
from querylang.parameters import ParamValue
from querylang.standard import (
    BURST_GRAIN_SECONDS,
    STANDARD,
    answerable,
    mapping,
    standard_metric,
)
from querylang.steps import Burst, Combine, Derive, MarkState, MeanRate, Shape, Standardize, Step
from querylang.timegrid import Granularity, TimeWindow, format_ts

if TYPE_CHECKING:
    from querylang.config import Config
    from querylang.planning import Plan
    from querylang.wire import NativeRequest, ProviderContext

__all__ = ["CrossMetric", "CrossPlan", "CrossQuery", "Leg", "bind_query", "plan_query"]

PROVIDER = "provider"
DAY = 86400
FIVE_MINUTES = Granularity(5, "m")


@frozen(kw_only=True)
class CrossMetric:
    """One SELECT item of a cross-provider query."""

    output: str
    name: str  # a standard metric, or a native counter every provider has
    unit: str
    kind: str  # counter | ratio | gauge (rates)
    rule: str  # counter | ratio | rate | peak | p95 | native
    span: ir.Span = ir.NO_SPAN


@frozen(kw_only=True)
class Leg:
    """One provider's part: its bound native query and how its natives become columns."""

    label: str  # the provider (or provider.dataset): the ``provider`` dimension's value
    account: str  # the ``account`` dimension's value: the connection's name
    bound: BoundQuery
    columns: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]  # column → native terms

    @property
    def display(self) -> str:
        """How errors and explain name this leg: the provider, and the account if named."""
        return _shown(self.account, self.bound.provider.name, self.label)


@frozen(kw_only=True)
class CrossQuery:
    """A query over one or more providers, in the standard vocabulary."""

    query: ir.Query
    legs: tuple[Leg, ...]
    metrics: tuple[CrossMetric, ...]
    by: tuple[str, ...]  # as written; may include "provider"
    every: Granularity | Grid | None
    window: TimeWindow
    now: int
    counters: tuple[str, ...]  # the summed columns every leg delivers
    excluded: tuple[str, ...] = ()  # sources left out by WHERE provider …

    @property
    def name(self) -> str | None:
        return self.query.name.value if self.query.name else None

    @property
    def source_label(self) -> str:
        return ", ".join(leg.display for leg in self.legs)

    @property
    def burst(self) -> bool:
        return any(m.rule in ("peak", "p95") for m in self.metrics)


def _label(provider: Provider, dataset: Dataset) -> str:
    if dataset.name == provider.default_dataset:
        return provider.name
    return f"{provider.name}.{dataset.name}"


_Source = tuple[Account, Provider, Dataset, str, str]  # account, provider, dataset, label, shown


def _shown(account: str, provider: str, label: str) -> str:
    """A source as messages name it: ``fastly``, or ``fastly_eu (fastly)`` for a connection."""
    return label if account in (label, provider) else f"{account} ({label})"


def _resolve(
    query: ir.Query, providers: Mapping[str, Provider], config: Config | None
) -> list[_Source]:
    """Each account's provider and dataset; E200/E201 for unknown ones, E212 for repeats."""
    from querylang.binding import _Binder

    out: list[_Source] = []
    for account in accounts(query, providers, config):
        provider, dataset = _Binder(with_source(query, account), providers, {}, 0).source()
        label = _label(provider, dataset)
        out.append((account, provider, dataset, label, _shown(account.name, provider.name, label)))
    return out


def is_cross(
    query: ir.Query, providers: Mapping[str, Provider], config: Config | None = None
) -> bool:
    """Whether ``query`` takes the cross-provider path (see the module docstring)."""
    found = accounts(query, providers, config)
    if len(found) > 1 or uses_accounts(query):
        return True
    if any(n.value == PROVIDER for n in query.by) or any(
        p.dimension.value == PROVIDER for p in query.where
    ):
        return True
    src = found[0].source
    provider = providers.get(src.provider.value)
    if provider is None:
        return False
    dataset = provider.datasets.get(src.dataset.value if src.dataset else provider.default_dataset)
    if dataset is None:
        return False
    return any(
        dataset.metric(ref.name.value) is None and standard_metric(ref.name.value) is not None
        for ref in query.select
    )


def _unique(labels: list[str]) -> list[str]:
    return list(dict.fromkeys(labels))


def _listing(labels: list[str]) -> str:
    return ", ".join(labels) if labels else "none of them"


class _CrossBinder:
    def __init__(
        self,
        query: ir.Query,
        providers: Mapping[str, Provider],
        params: Mapping[str, ParamValue],
        now: int,
        config: Config | None = None,
    ) -> None:
        from querylang.binding import _Binder

        self.query = query
        self.providers = providers
        self.params = params
        self.now = now
        self.config = config
        self.values = _Binder(query, providers, params, now)

    def sources(self) -> tuple[list[_Source], list[str]]:
        """The accounts left after ``WHERE provider …`` / ``WHERE account …``, and the rest."""
        sources = _resolve(self.query, self.providers, self.config)
        keep = list(range(len(sources)))
        for pred in self.query.where:
            dim = pred.dimension.value
            if dim not in (PROVIDER, ACCOUNT):
                continue
            names = [s[3] if dim == PROVIDER else s[0].name for s in sources]
            listed = list(dict.fromkeys(names))
            as_list = pred.op in ("IN", "NOT IN")
            values = self.values.scalars(pred.value, as_list=as_list)
            for value, span in values:
                if str(value) not in names:
                    guess = did_you_mean(str(value), listed)
                    what = "a provider" if dim == PROVIDER else "an account"
                    raise BindingError(
                        "E207",
                        f"{value!r} is not {what} of this query (FROM has {', '.join(listed)})",
                        span=span,
                        hint=f"did you mean {guess!r}?" if guess else "add it to FROM",
                    )
            named = {str(v) for v, _ in values}
            inclusive = pred.op in ("=", "IN")
            keep = [k for k in keep if (names[k] in named) == inclusive]
        if not keep:
            preds = [p for p in self.query.where if p.dimension.value in (PROVIDER, ACCOUNT)]
            spans = [p.span for p in preds]
            on = list(dict.fromkeys(p.dimension.value for p in preds))
            what = on[0] if len(on) == 1 else "source"
            raise BindingError(
                "E207",
                f"the conditions on {' and '.join(repr(d) for d in on)} exclude every {what} "
                "in FROM",
                span=spans[-1],
                hint="the query could only return an empty result; check the WHERE clause",
            )
        left = [s for k, s in enumerate(sources) if k in keep]
        return left, [s[4] for k, s in enumerate(sources) if k not in keep]

    def dimensions(self, legs: list[_Source]) -> None:
        """Every BY and WHERE dimension must exist in every provider's dataset."""
        names = [(n.value, n.span) for n in self.query.by]
        names += [(p.dimension.value, p.dimension.span) for p in self.query.where]
        seen: set[str] = set()
        for name, span in names:
            if name in (PROVIDER, ACCOUNT) or name in seen:
                continue
            seen.add(name)
            having = _unique([shown for _, _, ds, _, shown in legs if ds.dimension(name)])
            lacking = _unique([shown for _, _, ds, _, shown in legs if not ds.dimension(name)])
            if lacking:
                pool = [d.name for _, _, ds, _, _ in legs for d in ds.dimensions]
                pool += [PROVIDER, ACCOUNT]
                guess = did_you_mean(name, pool)
                raise BindingError(
                    "E203",
                    f"{_listing(lacking)} {'has' if len(lacking) == 1 else 'have'} no dimension "
                    f"{name!r} ({_listing(having)} {'has' if len(having) == 1 else 'have'} it)",
                    span=span,
                    hint=f"did you mean {guess!r}?"
                    if guess and not having
                    else "group or filter only by dimensions every provider in FROM has, "
                    "or by provider or account",
                )

    def metrics(self, legs: list[_Source]) -> list[CrossMetric]:
        out: list[CrossMetric] = []
        outputs: set[str] = {n.value for n in self.query.by}
        for ref in self.query.select:
            name = ref.name.value
            std = standard_metric(name)
            datasets = list({shown: ds for _, _, ds, _, shown in legs}.items())
            if std is not None:
                lacking = [label for label, ds in datasets if not answerable(ds, name)]
                if lacking:
                    having = [label for label, ds in datasets if answerable(ds, name)]
                    raise BindingError(
                        "E202",
                        f"{_listing(lacking)} cannot answer the standard metric {name!r} "
                        f"({_listing(having)} can)",
                        span=ref.name.span,
                        hint="leave "
                        + " and ".join(lacking)
                        + " out of FROM, or run `querylang describe standard` for who answers what",
                    )
                kind = {"counter": "counter", "ratio": "ratio"}.get(std.rule, "gauge")
                metric = CrossMetric(
                    output=ref.output_name,
                    name=name,
                    unit=std.unit,
                    kind=kind,
                    rule=std.rule,
                    span=ref.span,
                )
            else:
                metric = self.native(ref, datasets)
            refuse_reserved(metric.output, ref.span)
            if metric.output in outputs:
                raise BindingError(
                    "E208",
                    f"two result columns would be named {metric.output!r}",
                    span=ref.span,
                    hint="give one of them another name with AS",
                )
            outputs.add(metric.output)
            out.append(metric)
        return out

    def native(self, ref: ir.MetricRef, datasets: list[tuple[str, Dataset]]) -> CrossMetric:
        """A vendor-native counter that every provider in FROM has, with one unit."""
        name = ref.name.value
        found = [(label, ds.metric(name)) for label, ds in datasets]
        having = [label for label, m in found if m is not None]
        lacking = [label for label, m in found if m is None]
        if lacking:
            pool = [m.name for m in STANDARD] + [m.name for _, ds in datasets for m in ds.metrics]
            guess = did_you_mean(name, pool)
            raise BindingError(
                "E202",
                f"{_listing(lacking)} {'has' if len(lacking) == 1 else 'have'} no metric "
                f"{name!r}" + (f" ({_listing(having)} {'has' if len(having) == 1 else 'have'} it)"
                               if having else ""),
                span=ref.name.span,
                hint=f"did you mean {guess!r}?" if guess
                else "use a standard metric: `querylang describe standard` lists them",
            )  # fmt: skip
        metrics = [m for _, m in found if m is not None]
        units = {m.unit for m in metrics}
        if any(m.kind != "counter" for m in metrics) or len(units) > 1:
            raise BindingError(
                "E202",
                f"{name!r} is each vendor's own metric, and it cannot be added up across "
                f"{', '.join(label for label, _ in datasets)}",
                span=ref.name.span,
                hint="use a standard metric (`querylang describe standard`), or query one "
                "provider at a time",
            )
        return CrossMetric(
            output=ref.output_name,
            name=name,
            unit=metrics[0].unit,
            kind="counter",
            rule="native",
            span=ref.span,
        )

    def leg(self, found: _Source, metrics: list[CrossMetric], source: SourceText | None) -> Leg:
        account, _, dataset, label, _ = found
        counters = _counters(metrics)
        columns: list[tuple[str, tuple[tuple[str, float], ...]]] = []
        for name in counters:
            std = mapping(dataset, name)
            terms = std.terms if std is not None else ((name, 1.0),)
            columns.append((name, tuple((n, float(c)) for n, c in terms)))
        natives = list(dict.fromkeys(n for _, terms in columns for n, _ in terms))
        span = metrics[0].span
        query = attrs.evolve(
            self.query,
            sources=(account.source,),
            select=tuple(
                ir.MetricRef(name=ir.Name(value=n, span=span), span=span) for n in natives
            ),
            by=tuple(n for n in self.query.by if n.value not in (PROVIDER, ACCOUNT)),
            where=tuple(
                p for p in self.query.where if p.dimension.value not in (PROVIDER, ACCOUNT)
            ),
        )
        bound = bind(query, self.providers, now=self.now, params=self.params, source=source)
        bound = attrs.evolve(bound, account=account.name, connection=account.connection)
        return Leg(label=label, account=account.name, bound=bound, columns=tuple(columns))

    def bind(self, source: SourceText | None) -> CrossQuery:
        legs, excluded = self.sources()
        by = [n.value for n in self.query.by]
        for i, name in enumerate(by):
            if name in by[:i]:
                raise BindingError(
                    "E209", f"{name!r} is listed twice", span=self.query.by[i].span,
                    hint="list each column once",
                )  # fmt: skip
        self.dimensions(legs)
        metrics = self.metrics(legs)
        if self.query.every is not None:
            self.values.duration(self.query.every)  # a bad EVERY is reported before any leg
        bound_legs = [self.leg(found, metrics, source) for found in legs]
        window = bound_legs[0].bound.window
        every = bound_legs[0].bound.every  # under TZ or ALIGN TO START: the local grid
        cross = CrossQuery(
            query=self.query,
            legs=tuple(bound_legs),
            metrics=tuple(metrics),
            by=tuple(by),
            every=every,
            window=window,
            now=self.now,
            counters=_counters(metrics),
            excluded=tuple(excluded),
        )
        if cross.burst:
            _check_burst(cross)
        return cross


def _counters(metrics: list[CrossMetric] | tuple[CrossMetric, ...]) -> tuple[str, ...]:
    """The summable columns the metrics are made of, in first-use order."""
    names: list[str] = []
    for m in metrics:
        if m.rule in ("counter", "native"):
            names.append(m.name)
        else:
            std = standard_metric(m.name)
            assert std is not None
            names.extend(std.parts)
    return tuple(dict.fromkeys(names))


def _check_burst(cross: CrossQuery) -> None:
    """Peaks and percentiles need 5-minute (or finer) data for the whole window."""
    metric = next(m for m in cross.metrics if m.rule in ("peak", "p95"))
    for leg in cross.legs:
        ds = leg.bound.dataset
        fits = [
            s
            for s in ds.grains
            if s.granularity.seconds is not None
            and BURST_GRAIN_SECONDS % s.granularity.seconds == 0
        ]
        usable = [
            s for s in fits if s.retention is None or cross.window.start >= cross.now - s.retention
        ]
        if usable:
            continue
        kept = max(fits, key=lambda s: s.retention or 0)
        days = (kept.retention or 0) / DAY
        earliest = format_ts(cross.now - (kept.retention or 0))
        raise LimitError(
            "E402",
            f"{metric.name} needs 5-minute (or finer) data, but {leg.display} keeps "
            f"{kept.granularity} data for only {days:g} days and the window starts "
            f"{format_ts(cross.window.start)}",
            span=metric.span,
            hint=f"start the window at {earliest} or later, or leave {leg.display} out of FROM",
        )


def bind_query(
    query: ir.Query,
    providers: Mapping[str, Provider],
    *,
    now: int,
    params: Mapping[str, ParamValue] | None = None,
    source: SourceText | None = None,
    config: Config | None = None,
) -> BoundQuery | CrossQuery:
    """Bind ``query``: the cross-provider path when it needs one, else ``binding.bind``.

    ``config`` holds the connections and groups FROM may name (:mod:`querylang.config`).
    """
    from querylang.errors import LimitError as _Limit
    from querylang.errors import ParamError

    try:
        if not is_cross(query, providers, config):
            (account,) = accounts(query, providers, config)
            bound = bind(
                with_source(query, account), providers, now=now, params=params, source=source
            )
            return attrs.evolve(bound, account=account.name, connection=account.connection)
        return _CrossBinder(query, providers, params or {}, now, config).bind(source)
    except (BindingError, ParamError, _Limit) as exc:
        if source is not None:
            exc.with_source(source)
        raise


# ---- planning -------------------------------------------------------------------------


@frozen(kw_only=True)
class CrossPlan:
    """One plan per provider (run concurrently), and the steps that make one answer."""

    bound: CrossQuery
    legs: tuple[Plan, ...]
    leg_steps: tuple[Standardize, ...]  # one per leg, after the leg's own steps
    post_steps: tuple[Step, ...]  # on all legs' rows together

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(s.describe() for s in self.post_steps)

    @property
    def requests(self) -> tuple[NativeRequest, ...]:
        return tuple(r for leg in self.legs for r in leg.requests)

    @property
    def min_seconds(self) -> float:
        """Legs run concurrently, each within its own limits: the slowest one sets it."""
        return max((leg.min_seconds for leg in self.legs), default=0.0)


def plan_query(
    bound: BoundQuery | CrossQuery, context: Callable[[BoundQuery], ProviderContext]
) -> Plan | CrossPlan:
    """Plan a bound query; ``context(bound)`` gives the context of its provider and account."""
    from querylang.planning import plan

    if isinstance(bound, BoundQuery):
        return plan(bound, context(bound))
    fine = FIVE_MINUTES if bound.burst else bound.every
    legs = []
    for leg in bound.legs:
        leg_bound = attrs.evolve(leg.bound, every=fine) if bound.burst else leg.bound
        legs.append(plan(leg_bound, context(leg.bound)))
    marks = [step for leg in legs for step in leg.post_steps if isinstance(step, MarkState)]
    state = MarkState(
        every=bound.every,
        window=bound.window,
        now=bound.now,
        delay=max(m.delay for m in marks),
        sources=tuple(s for m in marks for s in m.sources),
        zone=bound.legs[0].bound.zone,
    )
    return CrossPlan(
        bound=bound,
        legs=tuple(legs),
        leg_steps=tuple(
            Standardize(provider=leg.label, account=leg.account, columns=leg.columns)
            for leg in bound.legs
        ),
        post_steps=(*_post_steps(bound, fine), state),
    )


def _post_steps(bound: CrossQuery, fine: Granularity | Grid | None) -> list[Step]:
    steps: list[Step] = []
    others = tuple(d for d in bound.by if d not in (PROVIDER, ACCOUNT))
    kept = tuple(d for d in (PROVIDER, ACCOUNT) if d in bound.by)
    dims = (PROVIDER, ACCOUNT, *others)
    labels = [leg.label for leg in bound.legs]
    shared = len(set(labels)) < len(labels)  # two accounts of one provider
    if ACCOUNT not in bound.by and (PROVIDER not in bound.by or shared):
        dropped = tuple(d for d in (PROVIDER, ACCOUNT) if d not in bound.by)
        steps.append(
            Combine(
                dims=(*kept, *others),
                rules={c: "sum" for c in bound.counters},
                provider=bound.source_label,
                reason="providers" if PROVIDER in dropped else "accounts",
                dropped=dropped,
            )
        )
        dims = (*kept, *others)
    if bound.burst:
        assert fine is not None
        rules = {m.rule for m in bound.metrics}
        steps.append(
            Burst(
                grain=fine,
                every=bound.every,
                window=bound.window,
                by=dims,
                sums=bound.counters,
                source="sent_bytes",
                peak="peak_bandwidth_bps" if "peak" in rules else None,
                p95="p95_bandwidth_bps" if "p95" in rules else None,
            )
        )
    for m in bound.metrics:
        std = standard_metric(m.name)
        if m.rule == "ratio" and std is not None:
            hits, misses = std.parts
            steps.append(
                Derive(
                    name=m.name,
                    numerator=((hits, 1.0),),
                    denominator=((hits, 1.0), (misses, 1.0)),
                )
            )
        elif m.rule == "rate":
            steps.append(
                MeanRate(name=m.name, source="sent_bytes", every=bound.every, window=bound.window)
            )
    steps.append(Shape(by=bound.by, outputs=tuple((m.output, m.name) for m in bound.metrics)))
    return list(dict.fromkeys(steps))
