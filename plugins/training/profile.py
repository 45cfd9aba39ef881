"""The training profile: what a training institution tells sellers about its courses."""

from __future__ import annotations

import enum
import random
from typing import Any

import strawberry

from linkstar.schema.plugin_api import (
    BoolField,
    CategoryProfile,
    CategoryProfileSpec,
    EnumListField,
    IntField,
    Marketplace,
    MoneyField,
    ProfileRecord,
    ProfileSchema,
    Region,
    TextListField,
    money_of,
    profile_fields,
)
from linkstar.schema.plugin_api import (
    MoneyType as Money,
)


@strawberry.enum(description="How a training institution delivers its courses.")
class TrainingDeliveryFormat(enum.StrEnum):
    LIVE_ONLINE = "LIVE_ONLINE"
    RECORDED = "RECORDED"
    IN_PERSON = "IN_PERSON"
    BOOTCAMP = "BOOTCAMP"


SCHEMA = ProfileSchema(
    "training",
    EnumListField("delivery_formats", choices=TrainingDeliveryFormat),
    TextListField("course_topics", max_items=30, max_length=80),
    IntField("instructors_count", minimum=1, maximum=10_000),
    IntField("learners_trained_total", minimum=0, maximum=100_000_000),
    # The platform's own marketplace vocabulary rather than free text, so "Amazon", "amazon"
    # and "亚马逊" cannot become three marketplaces and sellers can filter on it.
    EnumListField("marketplaces_taught", choices=Marketplace),
    BoolField("certification_offered"),
    MoneyField("course_fee_from", optional=True),
)


@strawberry.type(description="Training-institution (培训) profile of a provider.")
class TrainingProfile(CategoryProfile):
    delivery_formats: list[TrainingDeliveryFormat]
    course_topics: list[str] = strawberry.field(
        description="Subjects taught, e.g. PPC advertising."
    )
    instructors_count: int = strawberry.field(description="Instructors teaching today.")
    learners_trained_total: int = strawberry.field(description="Learners trained to date.")
    marketplaces_taught: list[Marketplace] = strawberry.field(
        description="Marketplaces whose operation the courses teach."
    )
    certification_offered: bool = strawberry.field(
        description="Whether courses end in a certification exam."
    )
    course_fee_from: Money | None = strawberry.field(description="Price of the cheapest course.")


def build(record: ProfileRecord) -> TrainingProfile:
    data = record.data
    return TrainingProfile(
        **profile_fields(record),
        delivery_formats=[TrainingDeliveryFormat(v) for v in data["delivery_formats"]],
        course_topics=list(data["course_topics"]),
        instructors_count=data["instructors_count"],
        learners_trained_total=data["learners_trained_total"],
        marketplaces_taught=[Marketplace(v) for v in data["marketplaces_taught"]],
        certification_offered=data["certification_offered"],
        course_fee_from=Money.of(money_of(data.get("course_fee_from"))),
    )


_CURRENCY = {Region.MAINLAND_CHINA: "CNY", Region.HK_MACAU_TAIWAN: "HKD", Region.OVERSEAS: "USD"}
_TOPICS = [
    "Amazon PPC advertising",
    "Listing optimisation",
    "TikTok Shop livestream selling",
    "Cross-border logistics and FBA",
    "Product research",
    "Brand registry and IP protection",
    "Shopee store operations",
    "Customer service English",
]
_MARKETPLACES = [
    Marketplace.AMAZON,
    Marketplace.SHOPEE,
    Marketplace.TIKTOK_SHOP,
    Marketplace.LAZADA,
    Marketplace.TEMU,
    Marketplace.SHOPIFY,
]


def demo(rng: random.Random, region: Region) -> dict[str, Any]:
    instructors = rng.randrange(2, 40)
    return {
        "delivery_formats": rng.sample(
            [f.value for f in TrainingDeliveryFormat], rng.randrange(1, 4)
        ),
        "course_topics": rng.sample(_TOPICS, rng.randrange(2, 5)),
        "instructors_count": instructors,
        "learners_trained_total": instructors * rng.randrange(50, 400),
        "marketplaces_taught": [m.value for m in rng.sample(_MARKETPLACES, rng.randrange(1, 4))],
        "certification_offered": rng.random() < 0.6,
        **(
            {
                "course_fee_from": {
                    "amount": f"{rng.randrange(3, 50) * 100}.00",
                    "currency": _CURRENCY[region],
                }
            }
            if rng.random() < 0.8
            else {}
        ),
    }


SPEC = CategoryProfileSpec(
    graphql_type=TrainingProfile, validate=SCHEMA.validate, build=build, demo=demo
)
