"""The logistics profile and lanes in GraphQL: what a logistics provider tells sellers."""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from linkstar.plugins.logistics.models import LogisticsLane, LogisticsMode
from linkstar.schema.plugin_api import (
    BoolField,
    CategoryProfile,
    CategoryProfileSpec,
    Connection,
    Ctx,
    DecimalField,
    EnumListField,
    FieldError,
    IntField,
    MoneyField,
    PageArgs,
    ProfileInvalid,
    ProfileRecord,
    ProfileSchema,
    Region,
    TextListField,
    build_connection,
    ctx,
    loaders,
    money_of,
    profile_fields,
)
from linkstar.schema.plugin_api import (
    MoneyType as Money,
)

KEY = "logistics"

strawberry.enum(LogisticsMode, description="How goods travel on a logistics lane.")


@strawberry.enum(
    description="A stage of the cross-border shipping chain a logistics provider covers."
)
class LogisticsServiceType(enum.StrEnum):
    FIRST_MILE = (
        "FIRST_MILE"  # pick-up from the seller's factory or warehouse in the origin country
    )
    LINE_HAUL = "LINE_HAUL"  # the international leg
    CUSTOMS_CLEARANCE = "CUSTOMS_CLEARANCE"  # export and import declarations
    OVERSEAS_WAREHOUSE = "OVERSEAS_WAREHOUSE"  # storage and fulfilment in the destination country
    LAST_MILE = "LAST_MILE"  # delivery to the buyer
    RETURNS = "RETURNS"  # reverse logistics


_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class CountryListField(TextListField):
    """A list of ISO 3166-1 alpha-2 country codes ("US", "DE"), no repeats."""

    max_length: int = 2

    def check(self, value: Any) -> list[str]:
        codes = super().check(value)
        wrong = [c for c in codes if not _COUNTRY_CODE.match(c)]
        if wrong:
            raise FieldError(
                f"{wrong} are not ISO 3166-1 alpha-2 codes (two capital letters, e.g. US)"
            )
        return codes


SCHEMA = ProfileSchema(
    KEY,
    EnumListField("service_types", choices=LogisticsServiceType),
    IntField("warehouses_count", minimum=0, maximum=10_000),
    CountryListField("warehouse_countries", optional=True, max_items=100),
    BoolField("own_fleet"),
    DecimalField("max_parcel_weight_kg", minimum=Decimal("0.1"), maximum=Decimal("100000")),
    MoneyField("insurance_cover", optional=True),
)


def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """SCHEMA's field checks, then the one rule across fields: warehouses have countries.

    `warehouse_countries` is required when `warehouses_count` > 0, absent when it is 0, and
    cannot name more countries than there are warehouses.
    """
    result = SCHEMA.validate(data)
    count, countries = result["warehouses_count"], result.get("warehouse_countries")
    if count == 0 and countries:
        raise ProfileInvalid(
            KEY, {"warehouse_countries": "must be empty when warehouses_count is 0"}
        )
    if count > 0 and not countries:
        raise ProfileInvalid(KEY, {"warehouse_countries": "is required when warehouses_count > 0"})
    if countries and len(countries) > count:
        raise ProfileInvalid(
            KEY,
            {"warehouse_countries": f"names {len(countries)} countries for {count} warehouses"},
        )
    return result


@strawberry.type(
    name="LogisticsLane", description="An origin → destination lane a provider ships on."
)
class LogisticsLaneType(relay.Node):
    id: relay.NodeID[int]
    origin_country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. CN.")
    destination_country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. US.")
    mode: LogisticsMode
    typical_transit_days: int = strawberry.field(
        description="Usual door-to-door days on this lane."
    )
    # The owner: the core's policy layer shows a lane only to its provider and to staff.
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: LogisticsLane) -> LogisticsLaneType:
        return cls(
            id=row.id,
            provider_id=row.provider_id,
            origin_country=row.origin_country,
            destination_country=row.destination_country,
            mode=row.mode,
            typical_transit_days=row.typical_transit_days,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[LogisticsLaneType | None]:
        ids = [int(i) if i.isdecimal() else None for i in node_ids]
        rows = await loaders.by_id(ctx(info), LogisticsLane).load_many(
            [i for i in ids if i is not None]
        )
        found = {row.id: row for row in rows if row is not None}
        return [cls.of(found[i]) if i in found else None for i in ids]


@strawberry.type(description="Logistics solutions (物流解决方案) profile of a provider.")
class LogisticsProfile(CategoryProfile):
    service_types: list[LogisticsServiceType]
    warehouses_count: int = strawberry.field(description="Warehouses the provider operates.")
    warehouse_countries: list[str] = strawberry.field(
        description="ISO codes of warehouse countries."
    )
    own_fleet: bool = strawberry.field(
        description="Runs its own trucks or vans (vs. subcontracted)."
    )
    max_parcel_weight_kg: Decimal = strawberry.field(
        description="Heaviest single piece accepted, kg."
    )
    insurance_cover: Money | None = strawberry.field(
        description="Cargo insurance cover per shipment."
    )

    @strawberry.field(description="Lanes the provider ships on, oldest first.")
    async def lanes(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LogisticsLaneType]:
        context = ctx(info)
        args = PageArgs.parse(first, after, last, before)
        rows = await loaders.child_pages(context, LogisticsLane, "provider_id").load(
            (self.provider_id, args)
        )

        async def count() -> int:
            return await loaders.child_counts(context, LogisticsLane, "provider_id").load(
                self.provider_id
            )

        return build_connection(rows, args, lambda r: r.id, LogisticsLaneType.of, count)


def build(record: ProfileRecord) -> LogisticsProfile:
    data = record.data
    return LogisticsProfile(
        **profile_fields(record),
        service_types=[LogisticsServiceType(v) for v in data["service_types"]],
        warehouses_count=data["warehouses_count"],
        warehouse_countries=list(data.get("warehouse_countries") or []),
        own_fleet=data["own_fleet"],
        max_parcel_weight_kg=Decimal(data["max_parcel_weight_kg"]),
        insurance_cover=Money.of(money_of(data.get("insurance_cover"))),
    )


_CURRENCY = {Region.MAINLAND_CHINA: "CNY", Region.HK_MACAU_TAIWAN: "HKD", Region.OVERSEAS: "USD"}
_WAREHOUSE_COUNTRIES = ["US", "DE", "GB", "JP", "AU", "MY", "TH", "MX"]


def demo(rng: random.Random, region: Region) -> dict[str, Any]:
    warehouses = rng.choice([0, 0, 1, 2, 3, 5, 8])
    services = rng.sample([s.value for s in LogisticsServiceType], rng.randrange(2, 5))
    if warehouses and LogisticsServiceType.OVERSEAS_WAREHOUSE.value not in services:
        services.append(LogisticsServiceType.OVERSEAS_WAREHOUSE.value)
    data: dict[str, Any] = {
        "service_types": services,
        "warehouses_count": warehouses,
        "own_fleet": rng.random() < 0.4,
        "max_parcel_weight_kg": rng.choice(["30", "68", "300", "1000"]),
    }
    if warehouses:
        data["warehouse_countries"] = rng.sample(
            _WAREHOUSE_COUNTRIES, min(warehouses, rng.randrange(1, 4))
        )
    if rng.random() < 0.7:
        data["insurance_cover"] = {
            "amount": f"{rng.randrange(5, 50) * 1000}.00",
            "currency": _CURRENCY[region],
        }
    return data


SPEC = CategoryProfileSpec(
    graphql_type=LogisticsProfile, validate=validate, build=build, demo=demo, schema=SCHEMA
)
