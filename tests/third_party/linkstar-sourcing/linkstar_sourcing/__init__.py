"""Product sourcing agents: a category LinkStar's core has never heard of.

Installed with pip like any third-party plugin; contributes a category, a metric, a document,
a fee, its profile type and one extra field on the core's Provider type.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import strawberry

from linkstar.core.categories import CategoryProfileSpec, ProfileRecord, ServiceCategory
from linkstar.core.documents import DocumentRequirement
from linkstar.core.fees import FeeKind, FeeRule
from linkstar.core.hookspecs import hookimpl
from linkstar.core.metrics import Aggregation, AggregationKind, Direction, MetricDefinition, Unit
from linkstar.core.money import Money
from linkstar.core.profiles import IntField, ProfileSchema, TextListField
from linkstar.core.vocabulary import Region
from linkstar.schema.plugin_api import (
    CategoryProfile,
    ProviderType,
    contribute_field,
    profile_fields,
)

CATEGORY = ServiceCategory(
    key="sourcing",
    name="Product sourcing",
    description="Agents who find, audit and manage factories for sellers.",
    position=50,
)
SCHEMA = ProfileSchema(
    "sourcing",
    IntField("factories_audited", minimum=0),
    TextListField("sourcing_regions", max_items=10),
)


@strawberry.type(description="Profile of a product-sourcing agent.")
class SourcingProfile(CategoryProfile):
    factories_audited: int
    sourcing_regions: list[str]


def _build(record: ProfileRecord) -> SourcingProfile:
    return SourcingProfile(
        **profile_fields(record),
        factories_audited=record.data["factories_audited"],
        sourcing_regions=list(record.data["sourcing_regions"]),
    )


def _demo(rng: random.Random, region: Region) -> dict[str, Any]:
    return {
        "factories_audited": rng.randrange(5, 80),
        "sourcing_regions": ["Guangdong", "Zhejiang"],
    }


@hookimpl
def linkstar_service_categories() -> list[ServiceCategory]:
    return [CATEGORY]


@hookimpl
def linkstar_metric_definitions(category: ServiceCategory) -> list[MetricDefinition] | None:
    if category.key != "sourcing":
        return None
    return [
        MetricDefinition(
            key="sample_defect_rate",
            name="Sample defect rate",
            description="Share of delivered samples found defective on inspection.",
            unit=Unit.PERCENT,
            observed_unit=Unit.OUTCOME,
            direction=Direction.LOWER_IS_BETTER,
            threshold=Decimal("3"),
            aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
            weight=Decimal("100"),
            min_sample_size=10,
        )
    ]


@hookimpl
def linkstar_required_documents(category: ServiceCategory) -> list[DocumentRequirement] | None:
    if category.key != "sourcing":
        return None
    return [
        DocumentRequirement(
            key="factory_audit_report",
            name="Factory audit report",
            description="A recent third-party audit of a factory the agent works with.",
        )
    ]


@hookimpl
def linkstar_fee_rules(category: ServiceCategory) -> list[FeeRule] | None:
    if category.key != "sourcing":
        return None
    return [
        FeeRule(
            key="listing_fee",
            name="Listing fee",
            kind=FeeKind.ANNUAL_FEE,
            amount=Money.of("1200.00", "CNY"),
        )
    ]


@hookimpl
def linkstar_category_profile(category: ServiceCategory) -> CategoryProfileSpec | None:
    if category.key != "sourcing":
        return None
    return CategoryProfileSpec(
        graphql_type=SourcingProfile, validate=SCHEMA.validate, build=_build, demo=_demo
    )


def _sourcing_badge(root: strawberry.Parent[ProviderType]) -> str | None:
    return f"sourcing-checked:{root.reg_number[-4:]}"


@hookimpl
def linkstar_graphql_fields() -> list:
    return [
        contribute_field(
            "Provider",
            "sourcing_badge",
            _sourcing_badge,
            description="A badge the sourcing plugin adds to every provider.",
        )
    ]
