"""Fee and commission rules a category declares, and the itemised quote built from them.

A rule applies to a set of regions and tiers (None: all). Rules may belong to an option group
(e.g. an integration's technical complexity); the caller picks one option per group, or the
group's default applies. Every quote line names the rule that produced it.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import KEY_PATTERN, Region, Tier

OPTION_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,62}$")
MAX_QUANTITY = 1_000_000


class FeeKind(enum.StrEnum):
    """The billing basis of a rule."""

    DEPOSIT = "DEPOSIT"  # one-off, refundable at exit
    ANNUAL_FEE = "ANNUAL_FEE"  # per year of cooperation
    ONE_OFF_FEE = "ONE_OFF_FEE"  # once, e.g. API integration set-up
    PER_UNIT_FEE = "PER_UNIT_FEE"  # unit price x quantity, e.g. per exam candidate
    COMMISSION = "COMMISSION"  # percent of order value, deducted at settlement


class ChargeOccasionKind(enum.StrEnum):
    """When a rule's amount is charged to a provider."""

    APPROVAL = "APPROVAL"  # the application is approved
    RENEWAL = "RENEWAL"  # each anniversary of the approval while the provider stays
    TIER_CHANGE = "TIER_CHANGE"  # the provider moves to another tier (a deposit: the difference)


UPFRONT_KINDS = frozenset(
    {FeeKind.DEPOSIT, FeeKind.ANNUAL_FEE, FeeKind.ONE_OFF_FEE, FeeKind.PER_UNIT_FEE}
)


@dataclass(frozen=True, slots=True)
class FeeOption:
    """A choice within an option group, e.g. group "integration_complexity", value "ADVANCED"."""

    group: str
    value: str
    default: bool = False


@dataclass(frozen=True, slots=True)
class FeeRule:
    """One fee or commission line a category charges under stated conditions."""

    key: str
    name: str
    kind: FeeKind
    amount: Money | None = None  # for every kind but COMMISSION; unit price for PER_UNIT_FEE
    rate_percent: Decimal | None = None  # for COMMISSION only
    regions: frozenset[Region] | None = None
    tiers: frozenset[Tier] | None = None
    option: FeeOption | None = None
    unit: str | None = None  # PER_UNIT_FEE only, e.g. "candidate"
    note: str = ""
    # When the amount is charged (every kind but COMMISSION); approval only by default.
    charged_on: frozenset[ChargeOccasionKind] = frozenset({ChargeOccasionKind.APPROVAL})
    # DEPOSIT only: the provider enters the dispatch pool only once it is paid; a top-up is
    # charged when deductions take what is held below `minimum`; at exit it is refunded, less
    # what is owed, `retention_days` after the provider left.
    before_pool: bool = False
    minimum: Money | None = None
    retention_days: int = 90

    def applies(self, region: Region, tier: Tier) -> bool:
        """Whether the rule's region and tier conditions hold."""
        return (self.regions is None or region in self.regions) and (
            self.tiers is None or tier in self.tiers
        )

    def scope(self) -> str:
        """The rule's conditions in words, printed on each quote line."""
        regions = "all regions" if self.regions is None else ", ".join(sorted(self.regions))
        tiers = "all tiers" if self.tiers is None else ", ".join(sorted(self.tiers))
        option = f"; {self.option.group} = {self.option.value}" if self.option else ""
        return f"{regions}; {tiers}{option}"


def rule_problems(rules: Sequence[FeeRule]) -> list[str]:
    """Everything wrong with a category's rules, as sentences; empty when they are valid."""
    problems: list[str] = []
    for rule in rules:
        problems.extend(_single_rule_problems(rule))
    if problems:
        return problems
    problems.extend(_ambiguities(rules))
    problems.extend(_option_group_problems(rules))
    return problems


def _single_rule_problems(rule: FeeRule) -> list[str]:
    problems = []
    if not KEY_PATTERN.match(rule.key):
        problems.append(f"fee rule key {rule.key!r} must be lowercase snake_case")
    if not isinstance(rule.kind, FeeKind):
        problems.append(f"fee rule {rule.key!r}: kind must be a FeeKind")
        return problems
    if rule.kind is FeeKind.COMMISSION:
        if rule.amount is not None or rule.rate_percent is None:
            problems.append(f"fee rule {rule.key!r}: a COMMISSION has a rate_percent and no amount")
        elif not (isinstance(rule.rate_percent, Decimal) and 0 < rule.rate_percent <= 100):
            problems.append(
                f"fee rule {rule.key!r}: rate_percent {rule.rate_percent} "
                "must be a Decimal in (0, 100]"
            )
    else:
        if rule.amount is None or rule.rate_percent is not None:
            problems.append(f"fee rule {rule.key!r}: a {rule.kind.value} has an amount and no rate")
        elif not isinstance(rule.amount, Money) or rule.amount.amount < 0:
            problems.append(f"fee rule {rule.key!r}: amount must be non-negative Money")
    if not rule.charged_on or not all(isinstance(o, ChargeOccasionKind) for o in rule.charged_on):
        problems.append(f"fee rule {rule.key!r}: charged_on must name ChargeOccasionKinds")
    deposit_only = rule.before_pool or rule.minimum is not None or rule.retention_days != 90
    if deposit_only and rule.kind is not FeeKind.DEPOSIT:
        problems.append(
            f"fee rule {rule.key!r}: before_pool, minimum and retention_days are for deposits"
        )
    if rule.minimum is not None and (
        not isinstance(rule.minimum, Money)
        or rule.amount is None
        or rule.minimum.currency != rule.amount.currency
        or not 0 < rule.minimum.amount <= rule.amount.amount
    ):
        problems.append(
            f"fee rule {rule.key!r}: a deposit's minimum is positive, in its currency, "
            "and at most its amount"
        )
    if not 0 <= rule.retention_days <= 3650:
        problems.append(f"fee rule {rule.key!r}: retention_days must be 0 to 3650")
    if (rule.kind is FeeKind.PER_UNIT_FEE) != bool(rule.unit):
        problems.append(
            f"fee rule {rule.key!r}: a unit is required for PER_UNIT_FEE and only there"
        )
    for label, scope in (("regions", rule.regions), ("tiers", rule.tiers)):
        if scope is not None and not scope:
            problems.append(f"fee rule {rule.key!r}: {label} is empty (use None for all)")
    if rule.option is not None and (
        not KEY_PATTERN.match(rule.option.group) or not OPTION_PATTERN.match(rule.option.value)
    ):
        problems.append(
            f"fee rule {rule.key!r}: option group must be snake_case and value UPPER_CASE"
        )
    return problems


def _combinations() -> Iterable[tuple[Region, Tier]]:
    return itertools.product(Region, Tier)


def _ambiguities(rules: Sequence[FeeRule]) -> list[str]:
    """Two rules with one key must never both apply to one (region, tier, option)."""
    problems = []
    for region, tier in _combinations():
        seen: dict[tuple[str, str | None, str | None], FeeRule] = {}
        for rule in rules:
            if not rule.applies(region, tier):
                continue
            slot = (
                rule.key,
                rule.option.group if rule.option else None,
                rule.option.value if rule.option else None,
            )
            if slot in seen:
                problems.append(
                    f"fee rules {rule.key!r} overlap for region {region.value}, tier {tier.value}: "
                    "two rules with one key apply at once"
                )
            seen[slot] = rule
    return sorted(set(problems))


def _option_group_problems(rules: Sequence[FeeRule]) -> list[str]:
    """Where a group has options for a (region, tier), exactly one of them is the default."""
    problems = []
    groups = sorted({r.option.group for r in rules if r.option})
    for group in groups:
        for region, tier in _combinations():
            applicable = [
                r for r in rules if r.option and r.option.group == group and r.applies(region, tier)
            ]
            if not applicable:
                continue
            defaults = {r.option.value for r in applicable if r.option and r.option.default}
            if len(defaults) != 1:
                problems.append(
                    f"option group {group!r} needs exactly one default option for region "
                    f"{region.value}, tier {tier.value} (found {sorted(defaults) or 'none'})"
                )
    return sorted(set(problems))


@dataclass(frozen=True, slots=True)
class FeeQuoteLine:
    """One line of a quote and the rule behind it."""

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
    rule: FeeRule | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FeeQuote:
    """An itemised quote for one category, region and tier."""

    category: str
    region: Region
    tier: Tier
    options: Mapping[str, str]
    lines: tuple[FeeQuoteLine, ...]

    def upfront_totals(self) -> list[Money]:
        """Sum of everything payable at signing, one Money per currency, sorted by currency."""
        totals: dict[str, Money] = {}
        for line in self.lines:
            if line.kind in UPFRONT_KINDS and line.amount is not None:
                current = totals.get(line.amount.currency)
                totals[line.amount.currency] = (
                    line.amount if current is None else current + line.amount
                )
        return [totals[c] for c in sorted(totals)]

    def commission_percent(self) -> Decimal:
        """Total commission share on order value, in percent."""
        return sum((line.rate_percent or Decimal(0) for line in self.lines), Decimal(0))


def quote(
    category: str,
    rules: Sequence[FeeRule],
    region: Region,
    tier: Tier,
    options: Mapping[str, str] | None = None,
    quantities: Mapping[str, int] | None = None,
) -> FeeQuote:
    """Build the itemised quote; unknown option groups/values or units are an InvalidInput."""
    options = dict(options or {})
    quantities = dict(quantities or {})
    applicable = [r for r in rules if r.applies(region, tier)]
    available: dict[str, list[FeeRule]] = {}
    for rule in applicable:
        if rule.option:
            available.setdefault(rule.option.group, []).append(rule)
    for group, value in options.items():
        if group not in available:
            raise InvalidInput(
                f"category {category!r} has no fee option group {group!r} "
                f"for {region.value}/{tier.value}",
                suggestion=f"option groups here: {sorted(available) or 'none'}",
            )
        values = sorted({r.option.value for r in available[group] if r.option})
        if value not in values:
            raise InvalidInput(
                f"{value!r} is not an option of {group!r}",
                suggestion=f"choose one of {values}",
            )
    chosen = {
        group: options.get(group)
        or next(r.option.value for r in group_rules if r.option and r.option.default)
        for group, group_rules in available.items()
    }
    selected = [r for r in applicable if not r.option or chosen[r.option.group] == r.option.value]
    units = {r.unit for r in selected if r.unit}
    for unit, quantity in quantities.items():
        if unit not in units:
            raise InvalidInput(
                f"no per-unit fee counts {unit!r} here",
                suggestion=f"units priced here: {sorted(units) or 'none'}",
            )
        if not 0 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(f"quantity of {unit!r} must be between 0 and {MAX_QUANTITY}")
    lines = []
    for rule in selected:
        # A per-unit fee without a quantity shows its unit price only: nothing is due until
        # units (e.g. exam candidates) are counted.
        quantity = quantities.get(rule.unit) if rule.unit else None
        if rule.unit:
            amount = rule.amount.times(quantity) if rule.amount and quantity is not None else None
        else:
            amount = rule.amount
        lines.append(
            FeeQuoteLine(
                rule_key=f"{category}.{rule.key}",
                name=rule.name,
                kind=rule.kind,
                scope=rule.scope(),
                unit_price=rule.amount if rule.unit else None,
                quantity=quantity,
                unit=rule.unit,
                amount=amount,
                rate_percent=rule.rate_percent,
                note=rule.note,
                rule=rule,
            )
        )
    return FeeQuote(category, region, tier, chosen, tuple(lines))


def deposits_by_region_and_tier(
    amounts: Mapping[Region, tuple[str, Mapping[Tier, str]]],
    *,
    note: str,
    key: str = "deposit",
    name: str = "Performance deposit",
    charged_on: frozenset[ChargeOccasionKind] = frozenset({ChargeOccasionKind.APPROVAL}),
    before_pool: bool = False,
    minimum_percent: Decimal | None = None,
    retention_days: int = 90,
) -> list[FeeRule]:
    """One DEPOSIT rule per region and tier: {region: (currency, {tier: "amount"})}; with
    `minimum_percent`, a top-up is due when what is held falls below that share of it."""
    return [
        FeeRule(
            key=key,
            name=name,
            kind=FeeKind.DEPOSIT,
            amount=Money.of(amount, currency),
            regions=frozenset({region}),
            tiers=frozenset({tier}),
            note=note,
            charged_on=charged_on,
            before_pool=before_pool,
            minimum=None
            if minimum_percent is None
            else Money.of(amount, currency).times(minimum_percent / Decimal(100)),
            retention_days=retention_days,
        )
        for region, (currency, by_tier) in amounts.items()
        for tier, amount in by_tier.items()
    ]


def fees_by_region(
    amounts: Mapping[Region, Money],
    *,
    key: str,
    name: str,
    kind: FeeKind,
    note: str,
    charged_on: frozenset[ChargeOccasionKind] = frozenset({ChargeOccasionKind.APPROVAL}),
) -> list[FeeRule]:
    """One rule of `kind` per region, e.g. an annual fee in each region's currency."""
    return [
        FeeRule(
            key=key,
            name=name,
            kind=kind,
            amount=amount,
            regions=frozenset({region}),
            note=note,
            charged_on=charged_on,
        )
        for region, amount in amounts.items()
    ]


def commission_by_tier(
    rates_percent: Mapping[Tier, str], *, key: str, name: str, note: str
) -> list[FeeRule]:
    """One COMMISSION rule per tier: {tier: "rate in percent"}."""
    return [
        FeeRule(
            key=key,
            name=name,
            kind=FeeKind.COMMISSION,
            rate_percent=Decimal(rate),
            tiers=frozenset({tier}),
            note=note,
        )
        for tier, rate in rates_percent.items()
    ]


@dataclass(frozen=True, slots=True)
class PenaltyRule:
    """A deduction a category takes from a provider's payable when a consequence befalls it.

    `on` names the cause: a sanction kind (e.g. "RESTRICTED_INTAKE"). The penalty is a fixed
    `amount`, or `revenue_percent` of the provider's order revenue in the cause's period,
    capped by the cap in that revenue's currency (`caps`: at most one per currency).
    """

    key: str
    name: str
    on: str
    amount: Money | None = None
    revenue_percent: Decimal | None = None
    caps: tuple[Money, ...] = ()
    note: str = ""

    def charge(self, revenue: Money | None) -> Money | None:
        """The penalty for a period with `revenue` (None: no order revenue); None when zero."""
        if self.amount is not None:
            result = self.amount
        elif revenue is None or self.revenue_percent is None:
            return None
        else:
            result = revenue.times(self.revenue_percent / Decimal(100))
        for cap in self.caps:
            if cap.currency == result.currency and cap.amount < result.amount:
                result = cap
        return result if result.amount > 0 else None


def penalty_problems(rules: Sequence[PenaltyRule]) -> list[str]:
    """Everything wrong with a category's penalty rules, as sentences."""
    problems: list[str] = []
    seen: set[str] = set()
    for rule in rules:
        if not KEY_PATTERN.match(rule.key):
            problems.append(f"penalty rule key {rule.key!r} must be lowercase snake_case")
        if rule.key in seen:
            problems.append(f"penalty rule key {rule.key!r} is declared twice")
        seen.add(rule.key)
        if not OPTION_PATTERN.match(rule.on):
            problems.append(f"penalty rule {rule.key!r}: `on` must be UPPER_CASE (a sanction kind)")
        if (rule.amount is None) == (rule.revenue_percent is None):
            problems.append(
                f"penalty rule {rule.key!r}: give either a fixed amount or a revenue_percent"
            )
        if rule.amount is not None and (
            not isinstance(rule.amount, Money) or rule.amount.amount <= 0
        ):
            problems.append(f"penalty rule {rule.key!r}: amount must be positive Money")
        if rule.revenue_percent is not None and not (
            isinstance(rule.revenue_percent, Decimal) and 0 < rule.revenue_percent <= 100
        ):
            problems.append(
                f"penalty rule {rule.key!r}: revenue_percent must be a Decimal in (0, 100]"
            )
        if not all(isinstance(c, Money) and c.amount > 0 for c in rule.caps):
            problems.append(f"penalty rule {rule.key!r}: every cap must be positive Money")
        elif len({c.currency for c in rule.caps}) != len(rule.caps):
            problems.append(f"penalty rule {rule.key!r}: at most one cap per currency")
    return problems
