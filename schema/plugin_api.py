"""The public plugin API: everything a category plugin imports, from one module.

    from linkstar.schema.plugin_api import hookimpl, ServiceCategory, MetricDefinition, ...

A plugin imports nothing else from LinkStar (an import-linter contract checks the built-in
plugins). Names here are kept stable; the modules behind them may move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from linkstar.core.contract.hookspecs import hookimpl
from linkstar.core.fees.rules import (
    ChargeOccasionKind,
    FeeKind,
    FeeOption,
    FeeRule,
    PenaltyRule,
    commission_by_tier,
    deposits_by_region_and_tier,
    fees_by_region,
)
from linkstar.core.kernel.db import Base, IdType, ScaledDecimal, UTCDateTime, utcnow
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.periods import PeriodKind
from linkstar.core.kernel.vocabulary import Marketplace, Region, Tier
from linkstar.core.kpi.aggregations import AggregationKind, CustomAggregation
from linkstar.core.kpi.metrics import (
    Aggregation,
    Direction,
    EvaluationWindow,
    MetricDefinition,
    ScoringCurve,
)
from linkstar.core.kpi.scoring import ScoringPolicy
from linkstar.core.kpi.units import Unit
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.signals import (
    ObservationRule,
    OrderEventKind,
    OrderFacts,
    complaint,
    delivered_on_time,
    renewed,
    response_hours,
    seller_rating,
    store_sales,
    task_failed,
)
from linkstar.core.onboarding import documents
from linkstar.core.onboarding.documents import MAX_DOCUMENT_BYTES, DocumentRequirement
from linkstar.core.onboarding.policy import AgreementTemplate, OnboardingPolicy, standard_agreements
from linkstar.core.providers.categories import (
    CategoryProfileSpec,
    FieldContribution,
    ProfileInvalid,
    ProfileRecord,
    ServiceCategory,
)
from linkstar.core.providers.profiles import (
    BoolField,
    DecimalField,
    EnumField,
    EnumListField,
    FieldError,
    IntField,
    MoneyField,
    ProfileSchema,
    TextField,
    TextListField,
    money_of,
)
from linkstar.schema import loaders
from linkstar.schema.context import Context
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.pagination import Connection, PageArgs, build_connection
from linkstar.schema.providers.types import CategoryProfile, ProviderType, profile_fields
from linkstar.schema.vocabulary import Money as MoneyType

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "Aggregation",
    "AggregationKind",
    "AgreementTemplate",
    "Base",
    "BoolField",
    "CategoryProfile",
    "CategoryProfileSpec",
    "ChargeOccasionKind",
    "Connection",
    "Context",
    "Ctx",
    "CustomAggregation",
    "DecimalField",
    "Direction",
    "DispatchPolicy",
    "DocumentRequirement",
    "EnumField",
    "EnumListField",
    "EvaluationWindow",
    "FeeKind",
    "FeeOption",
    "FeeRule",
    "FieldContribution",
    "FieldError",
    "IdType",
    "IntField",
    "Marketplace",
    "MetricDefinition",
    "Money",
    "MoneyField",
    "MoneyType",
    "ObservationRule",
    "OnboardingPolicy",
    "OrderEventKind",
    "OrderFacts",
    "PageArgs",
    "PenaltyRule",
    "PeriodKind",
    "ProfileInvalid",
    "ProfileRecord",
    "ProfileSchema",
    "ProviderType",
    "Region",
    "ScaledDecimal",
    "ScoringCurve",
    "ScoringPolicy",
    "ServiceCategory",
    "TextField",
    "TextListField",
    "Tier",
    "UTCDateTime",
    "Unit",
    "build_connection",
    "commission_by_tier",
    "complaint",
    "contribute_field",
    "ctx",
    "delivered_on_time",
    "deposits_by_region_and_tier",
    "documents",
    "fees_by_region",
    "fields_of",
    "hookimpl",
    "loaders",
    "money_of",
    "profile_fields",
    "renewed",
    "response_hours",
    "seller_rating",
    "standard_agreements",
    "store_sales",
    "task_failed",
    "utcnow",
]


def contribute_field(
    target: str, name: str, resolver: Callable[..., Any], *, description: str, public: bool = False
) -> FieldContribution:
    """A field for `linkstar_graphql_fields`: `name` (snake_case) added to GraphQL type `target`.

    The resolver receives the parent object as a parameter annotated `strawberry.Parent[...]`
    and the request's `info`; use `ctx(info).loader(...)` to batch database access. Leave
    `public` False for anything not meant for everyone: the core then guards the field.
    """
    return FieldContribution(
        target=target,
        name=name,
        field=strawberry.field(resolver=resolver, description=description),
        public=public,
    )


def fields_of(target: str, group: type, *, public: bool = True) -> list[FieldContribution]:
    """Every field of the strawberry type `group`, contributed to GraphQL type `target`.

    For a domain or plugin with several fields for one type: write them as methods of one
    `@strawberry.type` class (`self` is then the parent object) and contribute them together.
    `public=True` means the resolvers apply the policy themselves; leave it for a plugin's
    private fields to be guarded by the core instead.
    """
    definition: StrawberryObjectDefinition = group.__strawberry_definition__  # type: ignore[attr-defined]
    contributions = []
    for field in definition.fields:
        assert isinstance(field, StrawberryField)
        contributions.append(
            FieldContribution(target=target, name=field.python_name, field=field, public=public)
        )
    return contributions
