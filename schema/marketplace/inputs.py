"""Inputs of the marketplace."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.scalars import JSON

from linkstar.core.kernel.vocabulary import Marketplace, Region
from linkstar.schema.providers.inputs import MoneyInput


@strawberry.input(description="What a seller asks for.")
class ServiceRequestInput:
    category: str
    title: str
    scope: str
    budget: MoneyInput
    desired_start: date
    requirements: JSON = strawberry.field(
        description="The category's request fields (serviceCategory.requestRequirements)."
    )
    stores: list[strawberry.ID] = strawberry.field(default_factory=list)
    marketplaces: list[Marketplace] = strawberry.field(default_factory=list)
    regions: list[Region] = strawberry.field(
        default_factory=list, description="Regions of providers accepted; empty: any."
    )
    exclude_providers: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Providers the seller does not want."
    )
    provider: strawberry.ID | None = strawberry.field(
        default=None, description="Send the request directly to this provider."
    )
