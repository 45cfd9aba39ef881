"""Money, the evaluation primitive and fee quotes: exact, hand-checkable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from linkstar.core.fees.rules import FeeKind, FeeOption, FeeRule, quote, rule_problems
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.metrics import (
    Aggregation,
    Direction,
    MetricDefinition,
    ResultStatus,
    evaluate,
    metric_problems,
)
from linkstar.core.kpi.units import Unit

# --- money -------------------------------------------------------------------------------


def test_money_refuses_floats_and_extra_decimals() -> None:
    with pytest.raises(TypeError):
        Money.of(0.1, "CNY")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="more decimals"):
        Money.of("1.005", "USD")
    with pytest.raises(ValueError, match="unknown currency"):
        Money.of("1.00", "RMB")


def test_money_adds_only_one_currency_and_rounds_half_even() -> None:
    assert Money.of("0.10", "CNY") + Money.of("0.20", "CNY") == Money.of("0.30", "CNY")
    with pytest.raises(ValueError, match="cannot combine"):
        Money.of("1", "CNY") + Money.of("1", "USD")
    assert Money.of("0.25", "USD").times(Decimal("0.5")) == Money.of("0.12", "USD")  # 0.125 → 0.12
    assert Money.of("0.35", "USD").times(Decimal("0.5")) == Money.of("0.18", "USD")  # 0.175 → 0.18


# --- evaluation ----------------------------------------------------------------------------


def satisfaction(**overrides: object) -> MetricDefinition:
    values: dict[str, object] = dict(
        key="satisfaction",
        name="Satisfaction",
        description="Share of ratings >= 4.",
        unit=Unit.PERCENT,
        observed_unit=Unit.RATING,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("85"),
        aggregation=Aggregation(AggregationKind.SHARE_AT_OR_ABOVE, {"cutoff": Decimal("4")}),
        weight=Decimal("100"),
        min_sample_size=10,
        warning_band=Decimal("3"),
    )
    values.update(overrides)
    return MetricDefinition(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "sample", "status", "margin"),
    [
        ("90", 10, ResultStatus.PASS, "5"),
        ("88", 10, ResultStatus.PASS, "3"),  # exactly the band's edge: no longer a warning
        ("87.5", 10, ResultStatus.WARNING, "2.5"),
        ("85", 10, ResultStatus.WARNING, "0"),  # ">= 85" is inclusive
        ("84.9", 10, ResultStatus.FAIL, "-0.1"),
        ("100", 9, ResultStatus.INSUFFICIENT_DATA, None),  # below the minimum sample
    ],
)
def test_higher_is_better(
    value: str, sample: int, status: ResultStatus, margin: str | None
) -> None:
    result = evaluate(satisfaction(), Decimal(value), sample)
    assert result.status is status
    assert result.margin == (Decimal(margin) if margin else None)


def test_lower_is_better_margin_is_headroom_below_threshold() -> None:
    response = MetricDefinition(
        key="response",
        name="Response",
        description="p90 hours.",
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("24"),
        aggregation=Aggregation(AggregationKind.PERCENTILE, {"percentile": Decimal("90")}),
        weight=Decimal("100"),
        min_sample_size=1,
    )
    assert evaluate(response, Decimal("20"), 5).margin == Decimal("4")
    assert evaluate(response, Decimal("24"), 5).status is ResultStatus.PASS
    assert evaluate(response, Decimal("24.01"), 5).status is ResultStatus.FAIL


def test_no_value_is_insufficient_data_never_a_fail() -> None:
    assert evaluate(satisfaction(), None, 50).status is ResultStatus.INSUFFICIENT_DATA


def test_metric_problems_name_every_issue() -> None:
    bad = satisfaction(
        key="Bad Key", threshold=Decimal("101"), min_sample_size=0, weight=Decimal("0")
    )
    problems = metric_problems(bad)
    assert any("lowercase snake_case" in p for p in problems)
    assert any("threshold 101 is outside the range of unit PERCENT" in p for p in problems)
    assert any("min_sample_size" in p for p in problems)
    assert any("weight 0" in p for p in problems)


def test_percentile_and_cutoff_parameters_are_checked() -> None:
    assert any(
        "cutoff 6" in p
        for p in metric_problems(
            satisfaction(
                aggregation=Aggregation(AggregationKind.SHARE_AT_OR_ABOVE, {"cutoff": Decimal("6")})
            )
        )
    )
    assert any(
        "takes parameters ['cutoff'], got none" in p
        for p in metric_problems(
            satisfaction(aggregation=Aggregation(AggregationKind.SHARE_AT_OR_ABOVE))
        )
    )


def test_fingerprint_changes_with_the_threshold_only_when_it_changes() -> None:
    assert satisfaction().fingerprint() == satisfaction().fingerprint()
    assert satisfaction().fingerprint() != satisfaction(threshold=Decimal("80")).fingerprint()


# --- fees ----------------------------------------------------------------------------------

RULES = [
    FeeRule(
        "deposit",
        "Deposit",
        FeeKind.DEPOSIT,
        amount=Money.of("10000.00", "CNY"),
        regions=frozenset({Region.MAINLAND_CHINA}),
    ),
    FeeRule(
        "deposit",
        "Deposit",
        FeeKind.DEPOSIT,
        amount=Money.of("1500.00", "USD"),
        regions=frozenset({Region.OVERSEAS, Region.HK_MACAU_TAIWAN}),
    ),
    FeeRule(
        "commission",
        "Commission",
        FeeKind.COMMISSION,
        rate_percent=Decimal("6.5"),
        tiers=frozenset({Tier.REGULAR}),
    ),
    FeeRule(
        "commission",
        "Commission",
        FeeKind.COMMISSION,
        rate_percent=Decimal("5"),
        tiers=frozenset({Tier.PREFERRED, Tier.STRATEGIC_PARTNER}),
    ),
    FeeRule(
        "integration",
        "API integration",
        FeeKind.ONE_OFF_FEE,
        amount=Money.of("3000.00", "CNY"),
        option=FeeOption("complexity", "BASIC", default=True),
    ),
    FeeRule(
        "integration",
        "API integration",
        FeeKind.ONE_OFF_FEE,
        amount=Money.of("9000.00", "CNY"),
        option=FeeOption("complexity", "ADVANCED"),
    ),
    FeeRule(
        "exam", "Exam fee", FeeKind.PER_UNIT_FEE, amount=Money.of("250.00", "CNY"), unit="candidate"
    ),
]


def test_rules_are_well_formed() -> None:
    assert rule_problems(RULES) == []


def test_quote_itemises_lines_with_the_rule_that_produced_each() -> None:
    q = quote("cat", RULES, Region.MAINLAND_CHINA, Tier.REGULAR, quantities={"candidate": 4})
    assert [(line.rule_key, line.amount, line.rate_percent) for line in q.lines] == [
        ("cat.deposit", Money.of("10000.00", "CNY"), None),
        ("cat.commission", None, Decimal("6.5")),
        ("cat.integration", Money.of("3000.00", "CNY"), None),
        ("cat.exam", Money.of("1000.00", "CNY"), None),
    ]
    assert q.options == {"complexity": "BASIC"}
    assert q.upfront_totals() == [Money.of("14000.00", "CNY")]
    assert q.lines[0].scope == "MAINLAND_CHINA; all tiers"


def test_quote_with_chosen_option_and_two_currencies() -> None:
    q = quote("cat", RULES, Region.OVERSEAS, Tier.PREFERRED, options={"complexity": "ADVANCED"})
    assert q.upfront_totals() == [Money.of("9000.00", "CNY"), Money.of("1500.00", "USD")]
    exam = next(line for line in q.lines if line.rule_key == "cat.exam")
    assert (exam.unit_price, exam.quantity, exam.amount) == (Money.of("250.00", "CNY"), None, None)
    assert q.commission_percent() == Decimal("5")


def test_quote_rejects_unknown_options_and_units_with_the_choices() -> None:
    with pytest.raises(InvalidInput, match="choose one of \\['ADVANCED', 'BASIC'\\]"):
        quote("cat", RULES, Region.OVERSEAS, Tier.REGULAR, options={"complexity": "EXTREME"})
    with pytest.raises(InvalidInput, match="units priced here: \\['candidate'\\]"):
        quote("cat", RULES, Region.OVERSEAS, Tier.REGULAR, quantities={"seat": 2})
    with pytest.raises(InvalidInput, match="between 0 and"):
        quote("cat", RULES, Region.OVERSEAS, Tier.REGULAR, quantities={"candidate": -1})
