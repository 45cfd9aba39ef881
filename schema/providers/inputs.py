"""Inputs of provider registration."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import strawberry

from linkstar.core.kernel.vocabulary import (
    Marketplace,
    Region,
)


@strawberry.enum(description="Kinds of identity document.")
class IdType(enum.StrEnum):
    MAINLAND_RESIDENT_ID = "MAINLAND_RESIDENT_ID"
    PASSPORT = "PASSPORT"
    HK_MACAU_TAIWAN_PERMIT = "HK_MACAU_TAIWAN_PERMIT"


@strawberry.input(description="A person: name and identity document.")
class PersonInput:
    name: str
    id_type: IdType
    id_number: str
    phone: str | None = None
    email: str | None = None


@strawberry.input
class TeamRoleInput:
    role: str
    headcount: int


@strawberry.input(description="Team composition and professional background.")
class TeamInput:
    roles: list[TeamRoleInput]
    background: str


@strawberry.input(description="A past service case with its results.")
class ServiceCaseInput:
    client: str
    product_categories: list[str]
    results: str


@strawberry.input
class MoneyInput:
    amount: Decimal
    currency: str


@strawberry.input(description="A service offered and its price.")
class ServiceInput:
    name: str
    price: MoneyInput
    billing_basis: str


@strawberry.input(description="Everything a provider registers about itself.")
class RegistrationDetailsInput:
    legal_representative: PersonInput
    contact_person: PersonInput
    business_description: str
    team: TeamInput
    service_cases: list[ServiceCaseInput]
    services: list[ServiceInput]
    saas_tool: str | None = None
    certifications: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ProviderInput:
    legal_name: str
    region: Region
    registration_number: str = strawberry.field(description="USCC for mainland entities (checked).")
    marketplaces: list[Marketplace]
    details: RegistrationDetailsInput


@strawberry.input
class AccountInput:
    email: str
    password: str
    display_name: str


def as_dict(value: Any) -> Any:
    """Strawberry input objects → plain data for core validation."""
    if isinstance(value, list):
        return [as_dict(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "__dataclass_fields__"):
        return {k: as_dict(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, Decimal):
        return str(value)
    return value
