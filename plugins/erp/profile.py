"""The ERP profile: what an ERP vendor tells sellers about its system and integrations."""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
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
    ProfileInvalid,
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


@strawberry.enum(description="How an ERP is deployed for a seller.")
class ErpDeploymentModel(enum.StrEnum):
    SAAS = "SAAS"
    PRIVATE_CLOUD = "PRIVATE_CLOUD"
    ON_PREMISE = "ON_PREMISE"


SCHEMA = ProfileSchema(
    "erp",
    TextField("product_name", max_length=120),
    EnumListField("deployment_models", choices=ErpDeploymentModel),
    # The platform's marketplace vocabulary rather than free text, so sellers can filter on it.
    EnumListField("marketplace_integrations", choices=Marketplace),
    # Many ERPs connect nothing beyond the marketplaces, so an empty list is a true answer.
    TextListField("other_integrations", optional=True, min_items=0, max_items=50, max_length=80),
    BoolField("open_api"),
    IntField("customers_count", minimum=0, maximum=10_000_000),
    IntField("typical_go_live_days", minimum=1, maximum=365),
    MoneyField("saas_monthly_price", optional=True),
    TextField("data_residency", max_length=200),
)


def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """The schema's checks plus one across fields: a SaaS price needs a SaaS offer."""
    try:
        result = SCHEMA.validate(data)
        errors: dict[str, str] = {}
    except ProfileInvalid as exc:
        result, errors = {}, dict(exc.errors)
    if "$" not in errors and not {"deployment_models", "saas_monthly_price"} & set(errors):
        offers_saas = ErpDeploymentModel.SAAS.value in data["deployment_models"]
        if data.get("saas_monthly_price") is not None and not offers_saas:
            errors["saas_monthly_price"] = "is only given when deployment_models includes SAAS"
    if errors:
        raise ProfileInvalid("erp", errors)
    return result


@strawberry.type(description="ERP system and integrations (ERP对接) profile of a provider.")
class ErpProfile(CategoryProfile):
    product_name: str = strawberry.field(description="Name of the ERP product sellers buy.")
    deployment_models: list[ErpDeploymentModel]
    marketplace_integrations: list[Marketplace] = strawberry.field(
        description="Marketplaces the ERP synchronises orders and stock with."
    )
    other_integrations: list[str] = strawberry.field(
        description="Other connected systems, e.g. warehouses, carriers, accounting software."
    )
    open_api: bool = strawberry.field(description="Whether sellers get a documented open API.")
    customers_count: int = strawberry.field(description="Sellers using the ERP today.")
    typical_go_live_days: int = strawberry.field(
        description="Usual days from contract to a seller's first synchronised order."
    )
    saas_monthly_price: Money | None = strawberry.field(
        description="Entry price per month of the SaaS plan, if one is offered."
    )
    data_residency: str = strawberry.field(description="Where sellers' data is stored.")


def build(record: ProfileRecord) -> ErpProfile:
    data = record.data
    return ErpProfile(
        **profile_fields(record),
        product_name=data["product_name"],
        deployment_models=[ErpDeploymentModel(v) for v in data["deployment_models"]],
        marketplace_integrations=[Marketplace(v) for v in data["marketplace_integrations"]],
        other_integrations=list(data.get("other_integrations") or []),
        open_api=data["open_api"],
        customers_count=data["customers_count"],
        typical_go_live_days=data["typical_go_live_days"],
        saas_monthly_price=Money.of(money_of(data.get("saas_monthly_price"))),
        data_residency=data["data_residency"],
    )


_CURRENCY = {Region.MAINLAND_CHINA: "CNY", Region.HK_MACAU_TAIWAN: "HKD", Region.OVERSEAS: "USD"}
# Entry SaaS price per month, in units of the region's currency: (lowest, highest).
_SAAS_PRICE_RANGE = {
    Region.MAINLAND_CHINA: (300, 3000),
    Region.HK_MACAU_TAIWAN: (350, 3300),
    Region.OVERSEAS: (49, 450),
}
_RESIDENCY = {
    Region.MAINLAND_CHINA: "Alibaba Cloud, Hangzhou (mainland China)",
    Region.HK_MACAU_TAIWAN: "AWS ap-east-1, Hong Kong",
    Region.OVERSEAS: "AWS eu-central-1, Frankfurt, or us-east-1 at the seller's choice",
}
_PRODUCTS = ["OrderBridge ERP", "StockLink Cloud", "SkuFlow", "CrossPort ERP", "HaiNa ERP"]
_OTHER_SYSTEMS = ["4PX warehouse", "Cainiao", "Kingdee", "QuickBooks Online", "Xero", "ShipStation"]


def demo(rng: random.Random, region: Region) -> dict[str, Any]:
    deployments = rng.sample([m.value for m in ErpDeploymentModel], rng.randrange(1, 3))
    data: dict[str, Any] = {
        "product_name": rng.choice(_PRODUCTS),
        "deployment_models": deployments,
        "marketplace_integrations": rng.sample([m.value for m in Marketplace], rng.randrange(3, 8)),
        "other_integrations": rng.sample(_OTHER_SYSTEMS, rng.randrange(1, 4)),
        "open_api": rng.random() < 0.7,
        "customers_count": rng.randrange(20, 5000),
        "typical_go_live_days": rng.randrange(3, 60),
        "data_residency": _RESIDENCY[region],
    }
    if ErpDeploymentModel.SAAS.value in deployments:
        low, high = _SAAS_PRICE_RANGE[region]
        data["saas_monthly_price"] = {
            "amount": f"{rng.randrange(low, high)}.00",
            "currency": _CURRENCY[region],
        }
    return data


SPEC = CategoryProfileSpec(
    graphql_type=ErpProfile, validate=validate, build=build, demo=demo, schema=SCHEMA
)
