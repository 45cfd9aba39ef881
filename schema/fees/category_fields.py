"""Fields the fees domain adds to ServiceCategory."""

from __future__ import annotations

import strawberry

from linkstar.schema.fees.types import FeeRuleType


@strawberry.type
class FeesCategoryFields:
    @strawberry.field(description="Fee and commission rules of this category.")
    def fee_rules(self) -> list[FeeRuleType]:
        return [FeeRuleType.of(self.key, r) for r in self.contribution.fee_rules]
