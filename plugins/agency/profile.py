"""The agency profile: what a store-operations provider tells sellers about itself."""

from __future__ import annotations

import enum
import random
from typing import Any

import strawberry

from linkstar.schema.plugin_api import (
    CategoryProfile,
    CategoryProfileSpec,
    EnumListField,
    IntField,
    MoneyField,
    ProfileRecord,
    ProfileSchema,
    Region,
    TextField,
    TextListField,
    money_of,
    profile_fields,
)
from linkstar.schema.plugin_api import (
    MoneyType as Money,
)


@strawberry.enum(description="What an agency does for a seller's store.")
class AgencyServiceModel(enum.StrEnum):
    FULL_STORE_OPERATION = "FULL_STORE_OPERATION"
    ADVERTISING = "ADVERTISING"
    LISTING_OPTIMISATION = "LISTING_OPTIMISATION"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    CONTENT_AND_LIVESTREAM = "CONTENT_AND_LIVESTREAM"
    REVIEW_AND_REPUTATION = "REVIEW_AND_REPUTATION"


SCHEMA = ProfileSchema(
    "agency",
    IntField("team_size", minimum=1, maximum=100_000),
    IntField("operators_count", minimum=1, maximum=100_000),
    IntField("stores_managed", minimum=0, maximum=1_000_000),
    EnumListField("service_models", choices=AgencyServiceModel),
    TextListField("product_categories", max_items=30, max_length=80),
    TextListField("languages", max_items=20, max_length=40),
    MoneyField("minimum_monthly_retainer", optional=True),
    TextField("saas_tool", optional=True, max_length=200),
)


@strawberry.type(description="Store-operations (代运营) profile of a provider.")
class AgencyProfile(CategoryProfile):
    team_size: int
    operators_count: int = strawberry.field(description="Staff who operate stores hands-on.")
    stores_managed: int = strawberry.field(description="Stores under management today.")
    service_models: list[AgencyServiceModel]
    product_categories: list[str]
    languages: list[str]
    minimum_monthly_retainer: Money | None
    saas_tool: str | None = strawberry.field(description="The provider's own SaaS tool, if any.")


def build(record: ProfileRecord) -> AgencyProfile:
    data = record.data
    retainer = money_of(data.get("minimum_monthly_retainer"))
    return AgencyProfile(
        **profile_fields(record),
        team_size=data["team_size"],
        operators_count=data["operators_count"],
        stores_managed=data["stores_managed"],
        service_models=[AgencyServiceModel(v) for v in data["service_models"]],
        product_categories=list(data["product_categories"]),
        languages=list(data["languages"]),
        minimum_monthly_retainer=Money.of(retainer),
        saas_tool=data.get("saas_tool"),
    )


_CURRENCY = {Region.MAINLAND_CHINA: "CNY", Region.HK_MACAU_TAIWAN: "HKD", Region.OVERSEAS: "USD"}


def demo(rng: random.Random, region: Region) -> dict[str, Any]:
    team = rng.randrange(8, 120)
    return {
        "team_size": team,
        "operators_count": max(1, team * 2 // 3),
        "stores_managed": rng.randrange(5, 260),
        "service_models": rng.sample([m.value for m in AgencyServiceModel], rng.randrange(1, 4)),
        "product_categories": rng.sample(
            [
                "Home & Kitchen",
                "Consumer Electronics",
                "Beauty",
                "Apparel",
                "Toys",
                "Pet Supplies",
                "Outdoor",
            ],
            rng.randrange(1, 4),
        ),
        "languages": ["Chinese", "English"] + (["Bahasa Indonesia"] if rng.random() < 0.3 else []),
        "minimum_monthly_retainer": {
            "amount": f"{rng.randrange(3, 30) * 1000}.00",
            "currency": _CURRENCY[region],
        },
        **({"saas_tool": "StorePilot operations console"} if rng.random() < 0.4 else {}),
    }


SPEC = CategoryProfileSpec(
    graphql_type=AgencyProfile, validate=SCHEMA.validate, build=build, demo=demo
)
