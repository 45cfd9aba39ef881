"""Typed registration details of a provider (what registerProvider stored, normalised)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import strawberry

from linkstar.schema.vocabulary import Money


@strawberry.type(description="A person named at registration (legal representative, contact).")
class RegisteredPerson:
    name: str
    id_type: str = strawberry.field(
        description="MAINLAND_RESIDENT_ID, PASSPORT or HK_MACAU_TAIWAN_PERMIT."
    )
    id_number: str
    phone: str | None
    email: str | None

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> RegisteredPerson | None:
        if not raw:
            return None
        return cls(
            name=raw.get("name", ""),
            id_type=raw.get("id_type", ""),
            id_number=raw.get("id_number", ""),
            phone=raw.get("phone"),
            email=raw.get("email"),
        )


@strawberry.type(description="A role in the provider's team and how many people hold it.")
class TeamRole:
    role: str
    headcount: int


@strawberry.type(description="The provider's team: roles with headcounts, and its background.")
class RegisteredTeam:
    roles: list[TeamRole]
    background: str | None


@strawberry.type(description="A past service case: the client, its product categories, results.")
class ServiceCase:
    client: str
    product_categories: list[str]
    results: str


@strawberry.type(description="A service the provider offers and its price.")
class OfferedService:
    name: str
    price: Money | None
    billing_basis: str


@strawberry.type(
    description="Registration details: legal representative, contact, team, cases, services."
)
class RegistrationDetails:
    legal_representative: RegisteredPerson | None
    contact_person: RegisteredPerson | None
    business_description: str | None
    team: RegisteredTeam
    service_cases: list[ServiceCase]
    services: list[OfferedService]
    saas_tool: str | None
    certifications: list[str]

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> RegistrationDetails:
        team = raw.get("team") or {}
        return cls(
            legal_representative=RegisteredPerson.of(raw.get("legal_representative")),
            contact_person=RegisteredPerson.of(raw.get("contact_person")),
            business_description=raw.get("business_description"),
            team=RegisteredTeam(
                roles=[
                    TeamRole(role=r.get("role") or "", headcount=int(r.get("headcount") or 0))
                    for r in team.get("roles") or []
                ],
                background=team.get("background"),
            ),
            service_cases=[
                ServiceCase(
                    client=c.get("client") or "",
                    product_categories=list(c.get("product_categories") or []),
                    results=c.get("results") or "",
                )
                for c in raw.get("service_cases") or []
            ],
            services=[
                OfferedService(
                    name=s.get("name") or "",
                    price=(
                        Money(
                            amount=Decimal(s["price"]["amount"]),
                            currency=s["price"]["currency"],
                        )
                        if s.get("price")
                        else None
                    ),
                    billing_basis=s.get("billing_basis") or "",
                )
                for s in raw.get("services") or []
            ],
            saas_tool=raw.get("saas_tool"),
            certifications=[c for c in raw.get("certifications") or [] if c],
        )
