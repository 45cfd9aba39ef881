"""GraphQL types of providers: the Provider node (its own fields), categories and profiles."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from linkstar.core.contract.registry import CategoryContribution
from linkstar.core.identity.policy import can_read_private
from linkstar.core.kernel.vocabulary import (
    Marketplace,
    Region,
)
from linkstar.core.providers.categories import ProfileRecord
from linkstar.core.providers.models import CategoryProfileRow, Provider
from linkstar.schema import loaders
from linkstar.schema.context import Context
from linkstar.schema.nodes import Ctx, ctx, rows_for_nodes, rows_resolver
from linkstar.schema.providers.registration_types import RegistrationDetails


@strawberry.enum(description="The type of a category profile field's value.")
class ProfileFieldKind(enum.Enum):
    INT = "INT"
    DECIMAL = "DECIMAL"
    BOOLEAN = "BOOLEAN"
    TEXT = "TEXT"
    TEXT_LIST = "TEXT_LIST"
    ENUM = "ENUM"
    ENUM_LIST = "ENUM_LIST"
    MONEY = "MONEY"


@strawberry.type(name="ProfileField", description="One field of a category profile.")
class ProfileFieldType:
    key: str = strawberry.field(description="The key to use in saveCategoryProfile's `data`.")
    type: ProfileFieldKind
    required: bool
    description: str = strawberry.field(description="What a valid value looks like.")
    choices: list[str] | None = strawberry.field(
        description="The allowed values of an ENUM or ENUM_LIST field."
    )

    @classmethod
    def of(cls, field: Any) -> ProfileFieldType:
        said = getattr(field, "description", "")
        rule = field.constraint()
        return cls(
            key=field.name,
            type=ProfileFieldKind(field.kind),
            required=not field.optional,
            description=f"{said} ({rule})" if said and rule else said or rule,
            choices=field.choice_values(),
        )


@strawberry.type(name="ServiceCategory", description="A cooperation type providers apply for.")
class ServiceCategoryType(relay.Node):
    linkstar_public = True
    node_key: relay.NodeID[str]
    key: str
    name: str
    description: str
    position: int
    interview_required: bool
    plugin: str = strawberry.field(description="Entry-point name of the plugin that owns it.")
    contribution: strawberry.Private[CategoryContribution]

    @classmethod
    def of(cls, contribution: CategoryContribution) -> ServiceCategoryType:
        category = contribution.category
        return cls(
            node_key=category.key,
            key=category.key,
            name=category.name,
            description=category.description,
            position=category.position,
            interview_required=category.interview_required,
            plugin=contribution.owner,
            contribution=contribution,
        )

    @strawberry.field(
        description="The fields of this category's profile (the keys of "
        "saveCategoryProfile's `data`), with their types; empty when the category has none."
    )
    def profile_fields(self) -> list[ProfileFieldType]:
        spec = self.contribution.profile
        schema = spec.profile_schema() if spec is not None else None
        if schema is None:
            return []
        return [ProfileFieldType.of(field) for field in schema.fields.values()]

    @classmethod
    def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[ServiceCategoryType | None]:
        categories = ctx(info).registry.categories
        return [cls.of(categories[i]) if i in categories else None for i in node_ids]


def category_node(info: Ctx, key: str) -> ServiceCategoryType:
    """The GraphQL category for `key`; a category whose plugin was disabled is NotFound."""
    return ServiceCategoryType.of(ctx(info).registry.category(key))


@strawberry.interface(
    description="Category-specific data a provider fills in; each category plugin implements it."
)
class CategoryProfile(relay.Node):
    id: relay.NodeID[int]
    updated_at: datetime
    category_key: strawberry.Private[str]
    provider_id: strawberry.Private[int]

    @strawberry.field(description="The category this profile belongs to.")
    def category(self, info: Ctx) -> ServiceCategoryType:
        return category_node(info, self.category_key)

    @strawberry.field(description="The provider this profile describes.")
    async def provider(self, info: Ctx) -> ProviderType:
        row = await loaders.by_id(ctx(info), Provider).load(self.provider_id)
        return ProviderType.of(row)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[CategoryProfile | None]:
        context = ctx(info)
        rows = await rows_for_nodes(info, CategoryProfileRow, node_ids)
        return [profile_node(context, row, expected=cls) if row else None for row in rows]


def profile_fields(record: ProfileRecord) -> dict[str, Any]:
    """The `CategoryProfile` interface fields, for a plugin's `build` to spread into its type."""
    return {
        "id": record.id,
        "updated_at": record.updated_at,
        "category_key": record.category,
        "provider_id": record.provider_id,
    }


def profile_node(
    context: Context, row: CategoryProfileRow, expected: type | None = None
) -> CategoryProfile | None:
    """Build the plugin's GraphQL object for a stored profile (None if its plugin is off)."""
    contribution = context.registry.categories.get(row.category_key)
    if contribution is None or contribution.profile is None:
        return None
    spec = contribution.profile
    if (
        expected is not None
        and expected is not CategoryProfile
        and spec.graphql_type is not expected
    ):
        return None
    record = ProfileRecord(
        id=row.id,
        provider_id=row.provider_id,
        category=row.category_key,
        data=row.data,
        updated_at=row.updated_at,
    )
    return spec.build(record)


@strawberry.type(name="Provider", description="A service-provider organisation (服务商).")
class ProviderType(relay.Node):
    linkstar_directory = True
    id: relay.NodeID[int]
    legal_name: str
    region: Region
    created_at: datetime
    updated_at: datetime
    reg_number: strawberry.Private[str]

    @classmethod
    def of(cls, row: Provider) -> ProviderType:
        return cls(
            id=row.id,
            legal_name=row.legal_name,
            region=row.region,
            reg_number=row.registration_number,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _private(self, info: Ctx) -> bool:
        return can_read_private(ctx(info).viewer, self.id)

    @strawberry.field(
        description="Registration number (USCC on the mainland); the provider and staff only."
    )
    def registration_number(self, info: Ctx) -> str | None:
        return self.reg_number if self._private(info) else None

    @strawberry.field(description="Marketplaces the provider serves sellers on.")
    async def marketplaces(self, info: Ctx) -> list[Marketplace]:
        return await loaders.marketplaces(ctx(info)).load(self.id)

    @strawberry.field(
        description="Category-specific profiles (one per category; bounded by the category count)."
    )
    async def category_profiles(self, info: Ctx) -> list[CategoryProfile]:
        context = ctx(info)
        if not self._private(info):
            return []
        rows = await loaders.profiles(context).load(self.id)
        nodes = [profile_node(context, row) for row in rows]
        order = list(context.registry.categories)
        present = [n for n in nodes if n is not None]
        return sorted(present, key=lambda n: order.index(n.category_key))

    @strawberry.field(description="The provider's profile for one category, if it has one.")
    async def category_profile(self, info: Ctx, category: str) -> CategoryProfile | None:
        context = ctx(info)
        context.registry.category(category)
        if not self._private(info):
            return None
        for row in await loaders.profiles(context).load(self.id):
            if row.category_key == category:
                return profile_node(context, row)
        return None

    @strawberry.field(
        description="Registration details (legal representative, contact, team, cases, services).",
        deprecation_reason="untyped; use registration",
    )
    async def registration_details(self, info: Ctx) -> JSON | None:
        if not self._private(info):
            return None
        row = await loaders.by_id(ctx(info), Provider).load(self.id)
        return row.details if row else None

    @strawberry.field(
        description="Registration details, typed; the provider and staff only (else null)."
    )
    async def registration(self, info: Ctx) -> RegistrationDetails | None:
        if not self._private(info):
            return None
        row = await loaders.by_id(ctx(info), Provider).load(self.id)
        return RegistrationDetails.of(row.details or {}) if row else None

    resolve_nodes = rows_resolver(Provider)
