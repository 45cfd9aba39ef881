"""Loading plugins and validating everything they contribute, before anything is served.

Plugins come from the `linkstar.plugins` entry-point group (built-in ones too), are registered
in alphabetical order of entry-point name, and may be disabled by configuration. Every
contribution is validated here; the first problem found stops start-up with a
`PluginContractError` naming the plugin.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from linkstar.core.contract import hookspecs
from linkstar.core.contract.defaults import DEFAULT_PLUGINS
from linkstar.core.fees.rules import FeeRule, PenaltyRule, penalty_problems, rule_problems
from linkstar.core.kernel.errors import NotFound, PluginContractError
from linkstar.core.kpi.aggregations import CustomAggregation, custom_aggregation_problems
from linkstar.core.kpi.metrics import KEY_PATTERN, MetricDefinition, metric_problems
from linkstar.core.kpi.scoring import ScoringPolicy, scoring_problems
from linkstar.core.marketplace.policy import (
    DispatchPolicy,
    default_requirements,
    dispatch_policy_problems,
)
from linkstar.core.marketplace.signals import ObservationRule
from linkstar.core.marketplace.signals import rule_problems as observation_rule_problems
from linkstar.core.onboarding.documents import DocumentRequirement, requirement_problems
from linkstar.core.onboarding.policy import OnboardingPolicy, default_policy, policy_problems
from linkstar.core.providers.categories import (
    CategoryProfileSpec,
    FieldContribution,
    ServiceCategory,
)
from linkstar.core.providers.profiles import ProfileSchema

ENTRY_POINT_GROUP = "linkstar.plugins"
CORE = "linkstar.core"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A loaded plugin: its entry-point name, the module, and its distribution's version."""

    name: str
    module: Any
    distribution: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class CategoryContribution:
    """Everything known about one category, with the plugin that owns it."""

    category: ServiceCategory
    owner: str
    metrics: tuple[MetricDefinition, ...]
    documents: tuple[DocumentRequirement, ...]
    fee_rules: tuple[FeeRule, ...]
    penalty_rules: tuple[PenaltyRule, ...]
    profile: CategoryProfileSpec | None
    onboarding: OnboardingPolicy
    scoring: ScoringPolicy
    requirements: ProfileSchema | None = None  # what a service request must say
    dispatch: DispatchPolicy = field(default_factory=DispatchPolicy)
    order_observations: tuple[ObservationRule, ...] = ()  # order events → platform data

    def metric(self, key: str) -> MetricDefinition:
        """The metric with `key`, or NotFound."""
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise NotFound(
            f"category {self.category.key!r} has no metric {key!r}",
            suggestion=f"metrics: {[m.key for m in self.metrics]}",
        )


@dataclass(frozen=True)
class Registry:
    """The validated, immutable result of loading all plugins. Built once per process."""

    plugins: tuple[PluginInfo, ...]
    categories: Mapping[str, CategoryContribution]
    graphql_types: tuple[tuple[str, type], ...]
    graphql_fields: tuple[tuple[str, FieldContribution], ...]
    migration_locations: tuple[tuple[str, str], ...]
    manager: pluggy.PluginManager = field(repr=False)
    aggregations: Mapping[str, CustomAggregation] = field(default_factory=dict)

    def category(self, key: str) -> CategoryContribution:
        """The category with `key`, or NotFound listing the known keys."""
        try:
            return self.categories[key]
        except KeyError:
            raise NotFound(
                f"there is no service category {key!r}",
                suggestion=f"known categories: {sorted(self.categories)}",
            ) from None

    async def call_each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a runtime hook on every plugin in plugin order, awaiting async answers."""
        answers = []
        for name, impl in _impls_in_order(self.manager, hook, [p.name for p in self.plugins]):
            answer = impl.function(**{a: kwargs[a] for a in impl.argnames})
            if inspect.isawaitable(answer):
                answer = await answer
            answers.append((name, answer))
        return answers


def discover(disabled: Iterable[str] = ()) -> list[PluginInfo]:
    """Load the plugins of the entry-point group, sorted by name, minus the disabled ones."""
    disabled = set(disabled)
    found: dict[str, metadata.EntryPoint] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        previous = found.get(entry_point.name)
        if previous is not None and previous.value != entry_point.value:
            raise PluginContractError(
                entry_point.name,
                f"two installed distributions register the plugin name {entry_point.name!r} "
                f"({previous.value} and {entry_point.value})",
                suggestion="uninstall one of them or rename its entry point",
            )
        found[entry_point.name] = entry_point
    unknown = disabled - set(found)
    if unknown:
        raise PluginContractError(
            ", ".join(sorted(unknown)),
            "is disabled in LINKSTAR_DISABLED_PLUGINS but no such plugin is installed",
            suggestion=f"installed plugins: {sorted(found)}",
        )
    plugins = []
    for name in sorted(found):
        if name in disabled:
            continue
        entry_point = found[name]
        try:
            module = entry_point.load()
        except Exception as exc:  # any import failure must name the plugin
            raise PluginContractError(
                name, f"cannot be imported from {entry_point.value}: {type(exc).__name__}: {exc}"
            ) from exc
        dist = entry_point.dist
        plugins.append(
            PluginInfo(
                name,
                module,
                dist.metadata["Name"] if dist else None,
                dist.version if dist else None,
            )
        )
    return plugins


def build_registry(plugins: Sequence[PluginInfo]) -> Registry:
    """Register `plugins` with pluggy, validate every contribution, raise at the first problem."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    defaults = [PluginInfo(name, module) for name, module in DEFAULT_PLUGINS]
    names = [p.name for p in (*defaults, *plugins)]  # the core's default plugins come first
    if len(set(names)) != len(names):
        raise PluginContractError(", ".join(names), "plugin names must be unique")
    for plugin in (*defaults, *plugins):
        try:
            manager.register(plugin.module, name=plugin.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginContractError(plugin.name, f"cannot be registered: {exc}") from exc
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginContractError(
            manager.get_name(exc.plugin) or "?",
            f"implements a hook that does not exist: {exc}",
            suggestion="check the spelling against linkstar.core.contract.hookspecs",
        ) from exc

    aggregations: dict[str, CustomAggregation] = {}
    declared_by: dict[str, str] = {}
    built_in = {p.name for p in defaults}
    for plugin, custom in _collect_list(manager, names, "linkstar_aggregations", CustomAggregation):
        problems = custom_aggregation_problems(custom)
        if declared_by.get(custom.kind) in built_in:
            problems.append(f"aggregation kind {custom.kind!r} is built in; choose another name")
        elif custom.kind in aggregations:
            problems.append(f"aggregation kind {custom.kind!r} is declared twice")
        if problems:
            raise PluginContractError(plugin, problems[0])
        aggregations[custom.kind] = custom
        declared_by[custom.kind] = plugin
    categories = _collect_categories(manager, names, aggregations)
    return Registry(
        aggregations=aggregations,
        plugins=tuple(plugins),
        categories=categories,
        graphql_types=tuple(_collect_list(manager, names, "linkstar_graphql_types", type)),
        graphql_fields=tuple(
            _collect_list(manager, names, "linkstar_graphql_fields", FieldContribution)
        ),
        migration_locations=tuple(
            _collect_list(manager, names, "linkstar_migration_locations", str)
        ),
        manager=manager,
    )


def load_registry(disabled: Iterable[str] = ()) -> Registry:
    """Discover installed plugins and build the validated registry."""
    return build_registry(discover(disabled))


BUILT_IN_DISTRIBUTION = "linkstar"


def load_built_in_registry() -> Registry:
    """The plugins shipped with LinkStar itself, whatever else is installed.

    The committed SDL (schema/schema.graphql) describes this graph, so installing a
    third-party plugin never makes the core's own schema check fail.
    """
    shipped = [p for p in discover() if p.distribution == BUILT_IN_DISTRIBUTION]
    return build_registry(shipped)


def _impls_in_order(
    manager: pluggy.PluginManager, hook: str, order: Sequence[str]
) -> list[tuple[str, Any]]:
    impls = {manager.get_name(i.plugin): i for i in getattr(manager.hook, hook).get_hookimpls()}
    return [(name, impls[name]) for name in order if name in impls]


def _call(impl: Any, plugin: str, hook: str, **kwargs: Any) -> Any:
    try:
        answer = impl.function(**{a: kwargs[a] for a in impl.argnames})
    except PluginContractError:
        raise
    except Exception as exc:
        raise PluginContractError(plugin, f"{hook} raised {type(exc).__name__}: {exc}") from exc
    if inspect.isawaitable(answer):
        if hasattr(answer, "close"):
            answer.close()
        raise PluginContractError(
            plugin,
            f"{hook} is a declaration hook and must answer synchronously, not with an awaitable",
        )
    return answer


def _collect_list(
    manager: pluggy.PluginManager, order: Sequence[str], hook: str, kind: type, **kwargs: Any
) -> list[tuple[str, Any]]:
    items = []
    for plugin, impl in _impls_in_order(manager, hook, order):
        answer = _call(impl, plugin, hook, **kwargs)
        if answer is None:
            continue
        if not isinstance(answer, list | tuple):
            raise PluginContractError(
                plugin, f"{hook} must return a list, not {type(answer).__name__}"
            )
        for item in answer:
            if kind is type and not isinstance(item, type):
                raise PluginContractError(plugin, f"{hook} returned {item!r}, which is not a class")
            if kind is not type and not isinstance(item, kind):
                raise PluginContractError(
                    plugin, f"{hook} returned a {type(item).__name__}, expected {kind.__name__}"
                )
            items.append((plugin, item))
    return items


def _collect_categories(
    manager: pluggy.PluginManager,
    order: Sequence[str],
    aggregations: Mapping[str, CustomAggregation],
) -> dict[str, CategoryContribution]:
    owners: dict[str, tuple[str, ServiceCategory]] = {}
    for plugin, category in _collect_list(
        manager, order, "linkstar_service_categories", ServiceCategory
    ):
        if not KEY_PATTERN.match(category.key):
            raise PluginContractError(
                plugin, f"category key {category.key!r} must be lowercase snake_case"
            )
        if category.key in owners:
            raise PluginContractError(
                plugin,
                f"declares category {category.key!r}, already declared by plugin "
                f"{owners[category.key][0]!r}",
                suggestion="category keys are global; choose another key",
            )
        owners[category.key] = (plugin, category)

    result = {}
    for key, (owner, category) in sorted(
        owners.items(), key=lambda item: (item[1][1].position, item[0])
    ):
        metrics = _category_list(
            manager, order, "linkstar_metric_definitions", category, owner, MetricDefinition
        )
        documents = _category_list(
            manager, order, "linkstar_required_documents", category, owner, DocumentRequirement
        )
        fee_rules = _category_list(manager, order, "linkstar_fee_rules", category, owner, FeeRule)
        penalty_rules = _category_list(
            manager, order, "linkstar_penalty_rules", category, owner, PenaltyRule
        )
        profiles = [
            answer
            for plugin, answer in _category_answers(
                manager, order, "linkstar_category_profile", category, owner
            )
        ]
        for answer in profiles:
            if not isinstance(answer, CategoryProfileSpec):
                raise PluginContractError(
                    owner,
                    f"linkstar_category_profile must return a CategoryProfileSpec for {key!r}",
                )
        policies = [
            answer
            for _, answer in _category_answers(
                manager, order, "linkstar_onboarding_policy", category, owner
            )
        ]
        if policies and not isinstance(policies[0], OnboardingPolicy):
            raise PluginContractError(
                owner, f"linkstar_onboarding_policy must return an OnboardingPolicy for {key!r}"
            )
        onboarding = policies[0] if policies else default_policy(category.name)
        problems = policy_problems(onboarding)
        if problems:
            raise PluginContractError(owner, f"category {key!r}: onboarding policy: {problems[0]}")
        scorings = [
            answer
            for _, answer in _category_answers(
                manager, order, "linkstar_scoring_policy", category, owner
            )
        ]
        if scorings and not isinstance(scorings[0], ScoringPolicy):
            raise PluginContractError(
                owner, f"linkstar_scoring_policy must return a ScoringPolicy for {key!r}"
            )
        scoring = scorings[0] if scorings else ScoringPolicy()
        problems = scoring_problems(scoring)
        if problems:
            raise PluginContractError(owner, f"category {key!r}: scoring policy: {problems[0]}")
        _validate_metrics(owner, key, metrics, aggregations)
        _validate_documents(owner, key, documents)
        problems = rule_problems(fee_rules)
        if problems:
            raise PluginContractError(owner, f"category {key!r}: malformed fee rule: {problems[0]}")
        problems = penalty_problems(penalty_rules)
        if problems:
            raise PluginContractError(owner, f"category {key!r}: penalty rule: {problems[0]}")
        requirements, dispatch = _marketplace(manager, order, category, owner)
        rules = _category_list(
            manager, order, "linkstar_order_observations", category, owner, ObservationRule
        )
        problems = observation_rule_problems(rules, {m.key for m in metrics})
        if problems:
            raise PluginContractError(owner, f"category {key!r}: order observations: {problems[0]}")
        result[key] = CategoryContribution(
            category=category,
            owner=owner,
            metrics=tuple(metrics),
            documents=tuple(documents),
            fee_rules=tuple(fee_rules),
            penalty_rules=tuple(penalty_rules),
            profile=profiles[0] if profiles else None,
            onboarding=onboarding,
            scoring=scoring,
            requirements=requirements,
            dispatch=dispatch,
            order_observations=tuple(rules),
        )
    return result


def _marketplace(
    manager: pluggy.PluginManager, order: Sequence[str], category: ServiceCategory, owner: str
) -> tuple[ProfileSchema, DispatchPolicy]:
    """The category's request requirements and dispatch policy, or the platform defaults."""
    key = category.key
    answers = [
        a
        for _, a in _category_answers(
            manager, order, "linkstar_request_requirements", category, owner
        )
    ]
    if answers and not (isinstance(answers[0], ProfileSchema) and answers[0].category == key):
        raise PluginContractError(
            owner,
            f"linkstar_request_requirements must return a ProfileSchema for {key!r}",
            suggestion=f'ProfileSchema("{key}", ...fields)',
        )
    requirements = answers[0] if answers else default_requirements(key)
    answers = [
        a for _, a in _category_answers(manager, order, "linkstar_dispatch_policy", category, owner)
    ]
    if answers and not isinstance(answers[0], DispatchPolicy):
        raise PluginContractError(
            owner, f"linkstar_dispatch_policy must return a DispatchPolicy for {key!r}"
        )
    dispatch = answers[0] if answers else DispatchPolicy()
    problems = dispatch_policy_problems(dispatch)
    if problems:
        raise PluginContractError(owner, f"category {key!r}: dispatch policy: {problems[0]}")
    return requirements, dispatch


def _category_answers(
    manager: pluggy.PluginManager,
    order: Sequence[str],
    hook: str,
    category: ServiceCategory,
    owner: str,
) -> list[tuple[str, Any]]:
    answers = []
    for plugin, impl in _impls_in_order(manager, hook, order):
        answer = _call(impl, plugin, hook, category=category)
        if answer is None:
            continue
        if plugin != owner:
            raise PluginContractError(
                plugin,
                f"{hook} answered for category {category.key!r}, which belongs to plugin {owner!r}",
                suggestion="return None for categories your plugin does not declare",
            )
        answers.append((plugin, answer))
    return answers


def _category_list(
    manager: pluggy.PluginManager,
    order: Sequence[str],
    hook: str,
    category: ServiceCategory,
    owner: str,
    kind: type,
) -> list[Any]:
    items = []
    for plugin, answer in _category_answers(manager, order, hook, category, owner):
        if not isinstance(answer, list | tuple):
            raise PluginContractError(plugin, f"{hook} must return a list for {category.key!r}")
        for item in answer:
            if not isinstance(item, kind):
                raise PluginContractError(
                    plugin, f"{hook} returned a {type(item).__name__}, expected {kind.__name__}"
                )
            items.append(item)
    return items


def _validate_metrics(
    owner: str,
    category: str,
    metrics: Sequence[MetricDefinition],
    aggregations: Mapping[str, CustomAggregation],
) -> None:
    if not metrics:
        raise PluginContractError(
            owner,
            f"category {category!r} declares no KPI metric",
            suggestion="every category is scored; declare at least one",
        )
    seen: set[str] = set()
    for metric in metrics:
        if metric.key in seen:
            raise PluginContractError(
                owner, f"category {category!r}: duplicate metric key {metric.key!r}"
            )
        seen.add(metric.key)
        problems = metric_problems(metric, aggregations)
        if problems:
            raise PluginContractError(owner, f"category {category!r}: {problems[0]}")
    total = sum((m.weight for m in metrics), Decimal(0))
    if total != 100:
        raise PluginContractError(
            owner,
            f"category {category!r}: metric weights add up to {total}, not 100",
            suggestion="weights are percentages of the composite score",
        )


def _validate_documents(
    owner: str, category: str, documents: Sequence[DocumentRequirement]
) -> None:
    seen: set[str] = set()
    for doc in documents:
        if doc.key in seen:
            raise PluginContractError(
                owner, f"category {category!r}: duplicate document key {doc.key!r}"
            )
        seen.add(doc.key)
        problems = requirement_problems(doc)
        if problems:
            raise PluginContractError(owner, f"category {category!r}: {problems[0]}")


def plugin_from_module(name: str, module: ModuleType | object) -> PluginInfo:
    """Wrap an in-process module/object as a plugin (used by tests of the contract)."""
    return PluginInfo(name, module)
