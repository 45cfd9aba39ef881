"""GraphQL forms of the kernel's vocabulary and values: enums and `Money`."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from linkstar.core.fees.rules import FeeKind
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    DocumentStatus,
    Marketplace,
    ObservationSource,
    Region,
    Tier,
)
from linkstar.core.kpi.metrics import Direction, PeriodKind
from linkstar.core.kpi.units import Unit

RegionEnum = strawberry.enum(Region, description="Region of the provider's legal entity.")
TierEnum = strawberry.enum(Tier, description="Cooperation tier, lowest first.")
MarketplaceEnum = strawberry.enum(Marketplace, description="A marketplace sellers sell on.")
ApplicationStatusEnum = strawberry.enum(
    ApplicationStatus, description="Where an application stands."
)
DocumentStatusEnum = strawberry.enum(
    DocumentStatus, description="A reviewer's verdict on a document."
)
ObservationSourceEnum = strawberry.enum(
    ObservationSource, description="Who produced an observation."
)
UnitEnum = strawberry.enum(Unit, description="What a number means and which values it may take.")
DirectionEnum = strawberry.enum(Direction, description="Which way is better for a metric.")
PeriodKindEnum = strawberry.enum(PeriodKind, description="Length of an evaluation period.")
FeeKindEnum = strawberry.enum(FeeKind, description="Billing basis of a fee rule.")


@strawberry.type(description="An exact amount of money: a decimal string and an ISO 4217 currency.")
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, value: MoneyValue | None) -> Money | None:
        return None if value is None else cls(amount=value.amount, currency=value.currency)
