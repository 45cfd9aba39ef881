"""GraphQL types of fees: rules and itemised quotes."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from linkstar.core.fees.rules import FeeKind
from linkstar.core.fees.rules import FeeQuote as FeeQuoteValue
from linkstar.core.fees.rules import FeeRule as FeeRuleSpec
from linkstar.core.kernel.vocabulary import (
    Region,
    Tier,
)
from linkstar.schema.vocabulary import Money


@strawberry.type(description="A choice within a fee option group.")
class FeeOption:
    group: str
    value: str
    default: bool


@strawberry.type(name="FeeRule", description="A fee or commission a category charges, and when.")
class FeeRuleType:
    key: str
    name: str
    kind: FeeKind
    amount: Money | None = strawberry.field(description="Amount, or unit price for PER_UNIT_FEE.")
    rate_percent: Decimal | None = strawberry.field(description="Commission share of order value.")
    regions: list[Region]
    tiers: list[Tier]
    option: FeeOption | None
    unit: str | None
    note: str
    scope: str = strawberry.field(description="The rule's conditions in words.")

    @classmethod
    def of(cls, category: str, spec: FeeRuleSpec) -> FeeRuleType:
        return cls(
            key=f"{category}.{spec.key}",
            name=spec.name,
            kind=spec.kind,
            amount=Money.of(spec.amount),
            rate_percent=spec.rate_percent,
            regions=[r for r in Region if spec.regions is None or r in spec.regions],
            tiers=[t for t in Tier if spec.tiers is None or t in spec.tiers],
            option=FeeOption(
                group=spec.option.group, value=spec.option.value, default=spec.option.default
            )
            if spec.option
            else None,
            unit=spec.unit,
            note=spec.note,
            scope=spec.scope(),
        )


@strawberry.type(description="One line of a fee quote, naming the rule that produced it.")
class FeeQuoteLine:
    rule_key: str
    name: str
    kind: FeeKind
    scope: str
    unit_price: Money | None
    quantity: int | None
    unit: str | None
    amount: Money | None
    rate_percent: Decimal | None
    note: str


@strawberry.type(description="The option chosen (or defaulted) for an option group.")
class FeeOptionChoice:
    group: str
    value: str


@strawberry.type(name="FeeQuote", description="An itemised quote for a category, region and tier.")
class FeeQuoteType:
    category: str
    region: Region
    tier: Tier
    options: list[FeeOptionChoice]
    lines: list[FeeQuoteLine]
    upfront_totals: list[Money] = strawberry.field(description="Payable at signing, per currency.")
    commission_percent: Decimal = strawberry.field(description="Total commission on order value.")

    @classmethod
    def of(cls, value: FeeQuoteValue) -> FeeQuoteType:
        return cls(
            category=value.category,
            region=value.region,
            tier=value.tier,
            options=[FeeOptionChoice(group=g, value=v) for g, v in sorted(value.options.items())],
            lines=[
                FeeQuoteLine(
                    rule_key=line.rule_key,
                    name=line.name,
                    kind=line.kind,
                    scope=line.scope,
                    unit_price=Money.of(line.unit_price),
                    quantity=line.quantity,
                    unit=line.unit,
                    amount=Money.of(line.amount),
                    rate_percent=line.rate_percent,
                    note=line.note,
                )
                for line in value.lines
            ],
            upfront_totals=[m for m in (Money.of(t) for t in value.upfront_totals()) if m],
            commission_percent=value.commission_percent(),
        )
