"""Fields billing adds to ServiceCategory."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from linkstar.core.fees.rules import PenaltyRule
from linkstar.core.kernel.periods import PeriodKind
from linkstar.schema.vocabulary import Money


@strawberry.type(
    name="PenaltyRule",
    description=(
        "A deduction from a provider's payable when a consequence befalls it: a fixed amount, "
        "or a share of the period's order revenue capped per currency."
    ),
)
class PenaltyRuleType:
    key: str
    name: str
    on: str = strawberry.field(description="The consequence it follows, e.g. RESTRICTED_INTAKE.")
    amount: Money | None
    revenue_percent: Decimal | None
    caps: list[Money]
    note: str

    @classmethod
    def of(cls, category: str, rule: PenaltyRule) -> PenaltyRuleType:
        return cls(
            key=f"{category}.{rule.key}",
            name=rule.name,
            on=rule.on,
            amount=Money.of(rule.amount),
            revenue_percent=rule.revenue_percent,
            caps=[Money.of(c) for c in rule.caps],  # type: ignore[misc]
            note=rule.note,
        )


@strawberry.type
class BillingCategoryFields:
    @strawberry.field(description="How often providers in this category are settled and paid.")
    def settlement_cycle(self) -> PeriodKind:
        return self.contribution.category.settlement_cycle

    @strawberry.field(description="Penalties this category deducts, and what triggers them.")
    def penalty_rules(self) -> list[PenaltyRuleType]:
        return [PenaltyRuleType.of(self.key, r) for r in self.contribution.penalty_rules]
