"""Fields billing adds to ServiceCategory."""

from __future__ import annotations

import strawberry

from linkstar.core.kernel.periods import PeriodKind


@strawberry.type
class BillingCategoryFields:
    @strawberry.field(description="How often providers in this category are settled and paid.")
    def settlement_cycle(self) -> PeriodKind:
        return self.contribution.category.settlement_cycle
