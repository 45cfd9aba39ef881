"""The LinkStar plugin contract: every hook a plugin may implement.

Conventions (tested in tests/test_plugin_contract.py):
- A plugin module implements any subset of these hooks with `@hookimpl`.
- Hooks are called once per plugin, in plugin order (entry-point name, alphabetical), and the
  answer is attributed to that plugin, so a bad contribution is reported with its name.
- Category-scoped hooks receive a `ServiceCategory` and must answer only for categories the
  plugin itself declared (return None otherwise); contributing to another plugin's category
  refuses start-up.
- Declaration hooks (categories, metrics, documents, fees, profile, GraphQL, migrations) run
  once at start-up and answer synchronously. Runtime hooks (demo data, and the event hooks to
  come) are async by convention: they may return a value or an awaitable; the caller awaits.
- No hook is `firstresult`: exactly-one answers are checked by the core, which names every
  plugin involved when two answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import random

    from sqlalchemy.ext.asyncio import AsyncSession

    from linkstar.core.fees.rules import FeeRule, PenaltyRule
    from linkstar.core.kpi.aggregations import CustomAggregation
    from linkstar.core.kpi.metrics import MetricDefinition
    from linkstar.core.kpi.scoring import ScoringPolicy
    from linkstar.core.marketplace.policy import DispatchPolicy
    from linkstar.core.marketplace.signals import ObservationRule
    from linkstar.core.onboarding.documents import DocumentRequirement
    from linkstar.core.onboarding.policy import OnboardingPolicy
    from linkstar.core.providers.categories import (
        CategoryProfileSpec,
        FieldContribution,
        ServiceCategory,
    )
    from linkstar.core.providers.profiles import ProfileSchema

PROJECT = "linkstar"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def linkstar_service_categories() -> list[ServiceCategory] | None:
    """Declare the service categories this plugin owns.

    Called once at start-up. Return a list of `ServiceCategory`; keys must be unique across
    all plugins (lowercase snake_case). The plugin that declares a category is its owner and
    the only one allowed to answer the category-scoped hooks below for it.
    """


@hookspec
def linkstar_metric_definitions(category: ServiceCategory) -> list[MetricDefinition] | None:
    """Declare the KPI metrics of `category`.

    Called once per category at start-up. Return None for a category you do not own. Metric
    keys must be unique within the category, thresholds inside their unit's range, and the
    weights of one category must add up to exactly 100. A metric may declare its scoring
    curve (`curve=ScoringCurve(floor=…, target=…)`: 0 points at the floor, the category's pass
    mark at the threshold, 100 at the target); without one it gets the default for its unit
    and direction (`default_curve()`), and a curve on the wrong side of the threshold refuses
    start-up.
    """


@hookspec
def linkstar_required_documents(category: ServiceCategory) -> list[DocumentRequirement] | None:
    """Declare the documents an applicant for `category` must or may provide.

    Called once per category at start-up. Return None for a category you do not own. Each
    `DocumentRequirement` states the regions it applies to, accepted media types, size limit
    and whether it expires. `linkstar.core.onboarding.documents` has builders for common materials.
    """


@hookspec
def linkstar_fee_rules(category: ServiceCategory) -> list[FeeRule] | None:
    """Declare the fee and commission rules of `category`.

    Called once per category at start-up. Return None for a category you do not own. Rules
    may be limited to regions and tiers and grouped into options; two rules with one key must
    never apply to the same region, tier and option, and each option group needs one default.
    """


@hookspec
def linkstar_penalty_rules(category: ServiceCategory) -> list[PenaltyRule] | None:
    """Declare the penalties `category` deducts from a provider's payable.

    Called once per category at start-up. Return None for a category you do not own; a
    category without rules deducts nothing. Each `PenaltyRule` names the consequence it
    follows (`on`: a sanction kind such as "RESTRICTED_INTAKE") and is a fixed amount or a
    share of the provider's order revenue in that period, optionally capped.
    """


@hookspec
def linkstar_category_profile(category: ServiceCategory) -> CategoryProfileSpec | None:
    """Declare the category-specific profile a provider fills in for `category`.

    Called once per category at start-up. Return None for a category you do not own. The
    spec's GraphQL type must implement the core `CategoryProfile` interface; that is how the
    profile is reachable from `Provider.categoryProfiles` in the unified graph.
    """


@hookspec
def linkstar_aggregations() -> list[CustomAggregation] | None:
    """Add aggregation kinds that metrics (of any plugin) may name in `Aggregation(kind=…)`.

    Called once at start-up. Return a list of `CustomAggregation`: an UPPER_SNAKE_CASE kind that
    is not built in and unique across plugins, a description, the units it accepts and yields,
    its parameters, and an async `compute` that must be set-based SQL over all providers. The
    built-in aggregations arrive through this same hook, from the core's default plugin
    (`linkstar.core.contract.defaults`).
    """


@hookspec
def linkstar_onboarding_policy(category: ServiceCategory) -> OnboardingPolicy | None:
    """Declare how applicants for `category` are onboarded.

    Called once per category at start-up. Return an `OnboardingPolicy` (agreement templates
    with versions, probation length, pilot-order quota, probation extension, cool-down after a
    rejection), or None for a category you do not own — the owner returning None takes the
    platform default (`linkstar.core.onboarding.policy.default_policy`). Whether an interview is
    required is `ServiceCategory.interview_required`.
    """


@hookspec
def linkstar_scoring_policy(category: ServiceCategory) -> ScoringPolicy | None:
    """Declare how `category` turns metric results into standings.

    Called once per category at start-up. Return a `ScoringPolicy` (standing bands covering
    0–100 without gaps or overlaps, the history window for the decayed history score, the
    `pass_mark` a metric earns at its threshold (the lower bound of a band), and the
    `reporting_grace_days` after a period's end before it is evaluated), or None for a category
    you do not own — the owner returning None takes the platform default.
    """


@hookspec
def linkstar_graphql_types() -> list[type] | None:
    """Contribute extra GraphQL types (strawberry types, enums, interfaces' implementations).

    Called once at start-up. Return a list of strawberry-decorated classes. Profile types
    need not be listed here (the profile spec brings
    its own). Names must not clash with core types or other plugins' types.
    """


@hookspec
def linkstar_graphql_fields() -> list[FieldContribution] | None:
    """Add fields to existing GraphQL types, strictly additively.

    Called once at start-up. Return a list of `FieldContribution` (make them with
    `linkstar.schema.plugin_api.contribute_field`); each names a target type (core or plugin,
    e.g. "Provider" or "Query") and a strawberry field. A field that would shadow an existing
    field, or a target that does not exist, refuses start-up.
    """


@hookspec
def linkstar_migration_locations() -> list[str] | None:
    """Return directories of Alembic revisions for this plugin's own tables.

    Called by `linkstar db upgrade`. The plugin's first revision sets `branch_labels` to its
    name and `depends_on` to the core's base revision; the core's migrations never mention it.
    Tables go on `linkstar.core.kernel.db.Base.metadata` so foreign keys to core tables resolve.
    """


@hookspec
def linkstar_demo_data(
    category: ServiceCategory,
    session: AsyncSession,
    provider_ids: list[int],
    rng: random.Random,
) -> Any:
    """Add category-specific demo rows for `linkstar demo` (may be async).

    Called once per category after the core has created demo providers holding `category`.
    Return None (or an awaitable of None); do nothing for a category you do not own.
    Write through `session`; do not commit.
    """


@hookspec
def linkstar_demo_request(
    category: ServiceCategory,
    session: AsyncSession,
    provider_id: int,
    rng: random.Random,
) -> Any:
    """Suggest the `requirements` of a demo service request that `provider_id` can serve.

    Called by `linkstar demo` (may be async) before each demo request in `category`, with a
    demo provider the request is meant for (sent to it directly, or dispatched in the open).
    Return a dict that your request schema accepts and your dispatch `match` rule lets this
    provider serve (e.g. one of its lanes), or None — for a category you do not own, or when
    requirements generated from the schema's fields will do.
    """


@hookspec
def linkstar_request_requirements(category: ServiceCategory) -> ProfileSchema | None:
    """Declare what a seller's service request in `category` must say.

    Called once per category at start-up. Return a `ProfileSchema` (the same declarative fields
    as profiles; its category must be `category.key`); `createServiceRequest` validates the
    request's `requirements` against it and answers PROFILE_INVALID with every problem. Return
    None for a category you do not own — the owner returning None takes the platform default
    (`linkstar.core.marketplace.policy.default_requirements`: an optional note).
    """


@hookspec
def linkstar_dispatch_policy(category: ServiceCategory) -> DispatchPolicy | None:
    """Declare how requests in `category` are dispatched to providers.

    Called once per category at start-up. Return a `DispatchPolicy`: the offer's response
    deadline, the most open orders a provider may hold in the category, the ranking weights
    (KPI composite, tier, current load), the exploration share and, optionally, a `match`
    rule — a function of (request requirements, provider-id column) returning an SQL condition
    (e.g. "has a lane covering the requested route") that joins the set-based eligibility
    query. Return None for a category you do not own — the owner returning None takes the
    platform default `DispatchPolicy()`.
    """


@hookspec
def linkstar_order_observations(category: ServiceCategory) -> list[ObservationRule] | None:
    """Declare which order events feed which of `category`'s metrics with platform data.

    Called once per category at start-up. Return a list of `ObservationRule(event, metric,
    value)`: on an order event (`OrderEventKind`: offer answered, milestone delivered, order
    completed or cancelled, re-order, extension, a seller ticket's first answer, a negative
    review resolved, a managed store's monthly sales) the core calls `value(OrderFacts)` and
    stores a non-None result as a PLATFORM observation of `metric` (idempotent on the event,
    with lineage to the order, ticket or store). Helpers: `response_hours`,
    `delivered_on_time`, `seller_rating`, `task_failed`, `renewed`, `complaint`, `store_sales`.
    Return None for a category you do not own; a category without rules gets no platform data
    from orders.
    """
