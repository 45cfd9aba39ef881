"""The plugin contract: documented, tested, and enforced at start-up with the plugin's name."""

from __future__ import annotations

import inspect
import re
from decimal import Decimal
from pathlib import Path

import pytest
import strawberry
from strawberry import relay

from linkstar.core.contract import hookspecs
from linkstar.core.contract.hookspecs import hookimpl
from linkstar.core.contract.registry import PluginInfo, build_registry, discover, load_registry
from linkstar.core.fees.rules import FeeKind, FeeOption, FeeRule
from linkstar.core.kernel.errors import PluginContractError
from linkstar.core.kernel.money import Money
from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.metrics import Aggregation, Direction, MetricDefinition
from linkstar.core.kpi.units import Unit
from linkstar.core.onboarding.documents import DocumentRequirement
from linkstar.core.providers.categories import (
    CategoryProfileSpec,
    FieldContribution,
    ServiceCategory,
)
from linkstar.schema.compose import compose_schema
from linkstar.schema.plugin_api import CategoryProfile, ProviderType, contribute_field

HOOKS = sorted(
    n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("linkstar_")
)


def metric(key: str = "speed", **overrides: object) -> MetricDefinition:
    values: dict[str, object] = dict(
        key=key,
        name="Speed",
        description="How fast.",
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("24"),
        aggregation=Aggregation(AggregationKind.MEAN),
        weight=Decimal("100"),
        min_sample_size=5,
    )
    values.update(overrides)
    return MetricDefinition(**values)  # type: ignore[arg-type]


def make_plugin(key: str = "widgets", **hooks: object) -> object:
    """A plugin object declaring category `key`; `hooks` override or add hook answers."""
    category = ServiceCategory(key=key, name=key.title(), description="Test category.")
    answers: dict[str, object] = {
        "linkstar_service_categories": lambda: [category],
        "linkstar_metric_definitions": lambda category: [metric()] if category.key == key else None,
    }
    answers.update(hooks)
    namespace = {name: staticmethod(hookimpl(answer)) for name, answer in answers.items()}
    return type(f"Plugin_{key}", (), namespace)


def registry_of(*plugins: tuple[str, object]):
    return build_registry([PluginInfo(name, module) for name, module in plugins])


def refused(*plugins: tuple[str, object], compose: bool = False) -> PluginContractError:
    with pytest.raises(PluginContractError) as caught:
        registry = registry_of(*plugins)
        if compose:
            compose_schema(registry)
    return caught.value


# --- the contract is documented and tested -------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Called" in doc, f"{hook} must say when it is called"
    assert "Return" in doc or "return" in doc, f"{hook} must say what it returns"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook: str) -> None:
    root = Path(__file__).resolve().parent.parent
    tests = "".join(
        p.read_text()
        for p in [*root.glob("tests/test_*.py"), *root.glob("plugins/*/tests/test_*.py")]
    )
    assert re.search(rf"\b{hook}\b", tests), f"no test uses {hook}"


def test_no_hook_is_firstresult() -> None:
    for hook in HOOKS:
        assert not getattr(hookspecs, hook).linkstar_spec["firstresult"], hook


# --- start-up validation --------------------------------------------------------------------


def test_a_valid_plugin_loads_with_its_category() -> None:
    registry = registry_of(("widgets", make_plugin()))
    assert list(registry.categories) == ["widgets"]
    assert registry.categories["widgets"].owner == "widgets"


def test_misspelled_hook_names_the_plugin() -> None:
    plugin = make_plugin(linkstar_metric_definition=lambda category: None)
    error = refused(("typo", plugin))
    assert error.plugin == "typo"
    assert "linkstar_metric_definition" in str(error)


def test_duplicate_category_key_names_both_plugins() -> None:
    error = refused(("alpha", make_plugin("widgets")), ("beta", make_plugin("widgets")))
    assert error.plugin == "beta"
    assert "already declared by plugin 'alpha'" in str(error)


def test_duplicate_metric_key_is_refused() -> None:
    plugin = make_plugin(
        linkstar_metric_definitions=lambda category: [
            metric(weight=Decimal(50)),
            metric(weight=Decimal(50)),
        ]
    )
    assert "duplicate metric key 'speed'" in str(refused(("p", plugin)))


def test_threshold_outside_unit_range_is_refused() -> None:
    plugin = make_plugin(
        linkstar_metric_definitions=lambda category: [
            metric(unit=Unit.PERCENT, observed_unit=Unit.PERCENT, threshold=Decimal("120"))
        ]
    )
    error = refused(("p", plugin))
    assert "threshold 120 is outside the range of unit PERCENT (0..100)" in str(error)


def test_weights_must_sum_to_100() -> None:
    plugin = make_plugin(
        linkstar_metric_definitions=lambda category: [metric(weight=Decimal("90"))]
    )
    assert "weights add up to 90, not 100" in str(refused(("p", plugin)))


def test_aggregation_must_fit_the_units() -> None:
    plugin = make_plugin(
        linkstar_metric_definitions=lambda category: [
            metric(aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS))
        ]
    )
    assert "RATIO_OF_COUNTS yields PERCENT, not HOURS" in str(refused(("p", plugin)))


def test_contributing_to_another_plugins_category_is_refused() -> None:
    intruder = make_plugin(
        "gadgets",
        linkstar_required_documents=lambda category: [
            DocumentRequirement(key="licence", name="Licence", description="x")
        ],
    )
    error = refused(("alpha", make_plugin("widgets")), ("beta", intruder))
    assert error.plugin == "beta"
    assert "belongs to plugin 'alpha'" in str(error)


def test_duplicate_document_key_is_refused() -> None:
    doc = DocumentRequirement(key="licence", name="Licence", description="x")
    plugin = make_plugin(linkstar_required_documents=lambda category: [doc, doc])
    assert "duplicate document key 'licence'" in str(refused(("p", plugin)))


def test_malformed_fee_rule_is_refused() -> None:
    rule = FeeRule(
        key="commission", name="Commission", kind=FeeKind.COMMISSION, rate_percent=Decimal("140")
    )
    plugin = make_plugin(linkstar_fee_rules=lambda category: [rule])
    error = refused(("p", plugin))
    assert "malformed fee rule" in str(error) and "rate_percent 140" in str(error)


def test_overlapping_fee_rules_are_refused() -> None:
    rules = [
        FeeRule(
            key="deposit", name="Deposit", kind=FeeKind.DEPOSIT, amount=Money.of("100.00", "CNY")
        ),
        FeeRule(
            key="deposit", name="Deposit", kind=FeeKind.DEPOSIT, amount=Money.of("50.00", "CNY")
        ),
    ]
    plugin = make_plugin(linkstar_fee_rules=lambda category: rules)
    assert "overlap" in str(refused(("p", plugin)))


def test_option_group_without_default_is_refused() -> None:
    rules = [
        FeeRule(
            key="integration",
            name="Integration",
            kind=FeeKind.ONE_OFF_FEE,
            amount=Money.of("100.00", "CNY"),
            option=FeeOption("complexity", "BASIC"),
        )
    ]
    plugin = make_plugin(linkstar_fee_rules=lambda category: rules)
    assert "needs exactly one default" in str(refused(("p", plugin)))


def test_declaration_hooks_must_not_be_async() -> None:
    async def categories() -> list[ServiceCategory]:
        return []

    plugin = make_plugin(linkstar_service_categories=categories)
    assert "must answer synchronously" in str(refused(("p", plugin)))


def test_hook_that_raises_is_reported_with_the_plugin_name() -> None:
    def broken(category: ServiceCategory) -> list[FeeRule]:
        raise KeyError("region table")

    error = refused(("p", make_plugin(linkstar_fee_rules=broken)))
    assert error.plugin == "p" and "KeyError" in str(error)


@strawberry.type(name="Provider")
class FakeProvider:
    name: str


def test_graphql_type_name_clash_with_core_is_refused() -> None:
    plugin = make_plugin(linkstar_graphql_types=lambda: [FakeProvider])
    error = refused(("clash", plugin), compose=True)
    assert error.plugin == "clash"
    assert "'Provider' is already defined by 'linkstar.core'" in str(error)


@strawberry.type(name="WidgetThing")
class WidgetThing:
    size: int


def test_graphql_type_name_clash_between_plugins_is_refused() -> None:
    @strawberry.type(name="WidgetThing")
    class Other:
        colour: str

    first = make_plugin("widgets", linkstar_graphql_types=lambda: [WidgetThing])
    second = make_plugin("gadgets", linkstar_graphql_types=lambda: [Other])
    error = refused(("a", first), ("b", second), compose=True)
    assert error.plugin == "b" and "already defined by 'a'" in str(error)


def _badge(root: strawberry.Parent[ProviderType]) -> str:
    return "x"


def test_field_shadowing_a_core_field_is_refused() -> None:
    plugin = make_plugin(
        linkstar_graphql_fields=lambda: [
            contribute_field("Provider", "legal_name", _badge, description="x")
        ]
    )
    error = refused(("shadow", plugin), compose=True)
    assert error.plugin == "shadow"
    assert "Provider.legalName would shadow an existing field" in str(error)


def test_field_on_a_missing_type_is_refused() -> None:
    plugin = make_plugin(
        linkstar_graphql_fields=lambda: [
            contribute_field("Seller", "badge", _badge, description="x")
        ]
    )
    assert "extends GraphQL type 'Seller', which does not exist" in str(
        refused(("p", plugin), compose=True)
    )


def test_field_contribution_must_be_a_strawberry_field() -> None:
    plugin = make_plugin(
        linkstar_graphql_fields=lambda: [FieldContribution("Provider", "badge", field=_badge)]
    )
    assert "is not a strawberry field" in str(refused(("p", plugin), compose=True))


def test_additive_field_appears_on_the_target() -> None:
    plugin = make_plugin(
        linkstar_graphql_fields=lambda: [
            contribute_field(
                "Provider", "widget_badge", _badge, description="A badge.", public=True
            )
        ]
    )
    schema = compose_schema(registry_of(("p", plugin)))
    assert "widgetBadge: String!" in schema.as_str()


def test_profile_type_must_implement_category_profile() -> None:
    spec = CategoryProfileSpec(
        graphql_type=WidgetThing, validate=dict, build=lambda r: None, demo=lambda rng, region: {}
    )
    plugin = make_plugin(
        linkstar_category_profile=lambda category: spec if category.key == "widgets" else None
    )
    error = refused(("p", plugin), compose=True)
    assert "must be a strawberry type implementing the core CategoryProfile interface" in str(error)


def test_profile_type_implementing_the_interface_is_accepted() -> None:
    @strawberry.type(name="WidgetProfile")
    class WidgetProfile(CategoryProfile):
        size: int

    spec = CategoryProfileSpec(
        graphql_type=WidgetProfile, validate=dict, build=lambda r: None, demo=lambda rng, region: {}
    )
    plugin = make_plugin(
        linkstar_category_profile=lambda category: spec if category.key == "widgets" else None
    )
    sdl = compose_schema(registry_of(("p", plugin))).as_str()
    assert "type WidgetProfile implements CategoryProfile & Node" in sdl


def test_migration_locations_are_collected_per_plugin() -> None:
    plugin = make_plugin(linkstar_migration_locations=lambda: ["/srv/widgets/migrations"])
    assert registry_of(("p", plugin)).migration_locations == (("p", "/srv/widgets/migrations"),)


def test_runtime_hooks_may_be_async() -> None:
    import asyncio
    import random

    calls: list[tuple[str, list[int]]] = []

    async def demo(
        category: ServiceCategory, session: object, provider_ids: list[int], rng: object
    ) -> None:
        calls.append((category.key, provider_ids))

    registry = registry_of(("p", make_plugin(linkstar_demo_data=demo)))
    category = registry.categories["widgets"].category
    asyncio.run(
        registry.call_each(
            "linkstar_demo_data",
            category=category,
            session=None,
            provider_ids=[1, 2],
            rng=random.Random(1),
        )
    )
    assert calls == [("widgets", [1, 2])]


def test_a_demo_request_hook_suggests_requirements_for_its_own_category_only() -> None:
    import asyncio
    import random

    async def suggest(
        category: ServiceCategory, session: object, provider_id: int, rng: object
    ) -> dict | None:
        return {"notes": f"for provider {provider_id}"} if category.key == "widgets" else None

    registry = registry_of(
        ("p", make_plugin(linkstar_demo_request=suggest)), ("q", make_plugin("gadgets"))
    )
    answers = {
        key: asyncio.run(
            registry.call_each(
                "linkstar_demo_request",
                category=registry.categories[key].category,
                session=None,
                provider_id=7,
                rng=random.Random(1),
            )
        )
        for key in ("widgets", "gadgets")
    }
    assert answers["widgets"] == [("p", {"notes": "for provider 7"})]
    assert answers["gadgets"] == [("p", None)]


def test_categories_are_ordered_by_declared_position_not_load_order() -> None:
    late = make_plugin(
        "zeta",
        linkstar_service_categories=lambda: [ServiceCategory("zeta", "Zeta", "z", position=1)],
    )
    early = make_plugin(
        "alpha",
        linkstar_service_categories=lambda: [ServiceCategory("alpha", "Alpha", "a", position=9)],
    )
    for order in ([("a", early), ("z", late)], [("z", late), ("a", early)]):
        assert list(registry_of(*order).categories) == ["zeta", "alpha"]


def test_built_in_plugins_come_through_entry_points_in_alphabetical_order() -> None:
    names = [p.name for p in discover()]
    assert names == sorted(names)
    assert {"agency", "erp", "logistics", "training"} <= set(names)
    assert all(p.distribution == "linkstar" for p in discover() if p.name in {"agency", "erp"})


def test_plugins_can_be_disabled_by_configuration() -> None:
    registry = load_registry(disabled=["erp", "training"])
    built_in = [k for k, c in registry.categories.items() if c.owner in {"agency", "logistics"}]
    assert built_in == ["agency", "logistics"]  # other installed plugins may add their own
    assert not {"erp", "training"} & set(registry.categories)


def test_disabling_an_unknown_plugin_is_an_error() -> None:
    with pytest.raises(PluginContractError, match="no such plugin is installed"):
        load_registry(disabled=["ergonomics"])


def test_a_guarded_plugin_field_must_be_nullable_or_a_list() -> None:
    plugin = make_plugin(
        linkstar_graphql_fields=lambda: [
            contribute_field("Provider", "widget_badge", _badge, description="x")
        ]
    )
    error = refused(("p", plugin), compose=True)
    assert "guarded by the policy layer, so it must be nullable or a list" in str(error)


def test_a_plugin_node_type_must_say_who_may_see_it() -> None:
    @strawberry.type(name="WidgetSecret")
    class WidgetSecret(relay.Node):
        id: relay.NodeID[int]
        secret: str

    plugin = make_plugin(linkstar_graphql_types=lambda: [WidgetSecret])
    error = refused(("p", plugin), compose=True)
    assert "node type WidgetSecret does not say who may see it" in str(error)


def test_onboarding_policy_is_validated() -> None:
    from linkstar.core.onboarding.policy import AgreementTemplate, OnboardingPolicy

    optional_only = OnboardingPolicy(
        agreements=(AgreementTemplate("nda", "NDA", "1", "text", mandatory=False),)
    )
    plugin = make_plugin(
        linkstar_onboarding_policy=lambda category: (
            optional_only if category.key == "widgets" else None
        )
    )
    assert "at least one agreement must be mandatory" in str(refused(("p", plugin)))


def test_a_category_without_onboarding_policy_gets_the_platform_default() -> None:
    registry = registry_of(("p", make_plugin()))
    policy = registry.categories["widgets"].onboarding
    assert [a.key for a in policy.agreements] == ["cooperation_agreement", "nda"]
    assert (policy.probation_days, policy.pilot_order_quota, policy.reapply_cooldown_days) == (
        90,
        5,
        90,
    )


def test_scoring_policy_bands_are_validated() -> None:
    from linkstar.core.kpi.scoring import ScoringPolicy, StandingBand

    overlapping = ScoringPolicy(
        bands=(
            StandingBand("LOW", Decimal(0), Decimal(70)),
            StandingBand("HIGH", Decimal(60), Decimal(100)),
        )
    )
    plugin = make_plugin(
        linkstar_scoring_policy=lambda category: overlapping if category.key == "widgets" else None
    )
    assert "scoring policy: standing bands LOW and HIGH leave a gap or overlap" in str(
        refused(("p", plugin))
    )


def test_document_retention_is_declared_by_the_category_and_validated() -> None:
    # a category that says nothing keeps documents three years after the provider leaves
    assert registry_of(("p", make_plugin())).categories["widgets"].category == ServiceCategory(
        key="widgets", name="Widgets", description="Test category.", document_retention_days=1095
    )
    for days in (0, -1, 36501, 1.5, True):
        category = ServiceCategory(
            key="widgets", name="W", description="x", document_retention_days=days
        )
        plugin = make_plugin(linkstar_service_categories=lambda category=category: [category])
        error = refused(("p", plugin))
        assert error.plugin == "p" and "document_retention_days" in str(error), days
