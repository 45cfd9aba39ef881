"""A fixture category plugin for the core's own tests, registered by the test harness.

Its numbers are small and round so that a test's expectation can be checked by hand, and they
belong to no built-in category: the core's tests stay true whatever the agency, logistics, ERP
or training plugins decide. It goes through the public plugin API like any plugin.

Category `sample` (position 900, after every built-in):
- `on_time_rate`: share of OUTCOME observations equal to 1, in percent; ≥ 90 passes (warning
  band 5: 90–94.99 is a WARNING); at least 4 observations; weight 50; 0 points at 50 %,
  the pass mark (60) at 90 %, 100 points at 100 %.
- `response_hours`: the largest of the month's HOURS observations; ≤ 24 passes; at least 1;
  weight 30; 100 points at 12 h, the pass mark at 24 h, 0 points at 72 h.
- `satisfaction`: the MEAN of RATING observations (1–5 stars); ≥ 4 passes; at least 5;
  weight 20; the default curve. Tests that do not report it see INSUFFICIENT_DATA.
- documents: a business licence (mainland China only) and a price list (optional);
- fees: a deposit of CNY 1000.00 for a regular provider (500.00 preferred, 200.00 strategic;
  HKD and USD the same numbers) and a 10 % commission (8 %, 5 %);
- penalties: CNY 100.00 when a sanction restricts intake;
- money (its own block below): an annual fee of 100.00 charged at approval and at each
  anniversary, and an exam fee of 20.00 per candidate, charged when staff record the
  candidates (CNY, HKD or USD by region);
- onboarding: the standard agreements, 30 days of probation, no interview.

Category `spare` (position 901): one metric, `rating`, the MEAN of RATING observations, ≥ 4
passes, weight 100; no document; it accepts a provider's not-attributable claims at once on up
to 10 % of a month's records. It exists so a test can name a category a provider does not hold,
and for that auto-accept limit.

Further below, in their own block: category `extra` (position 902, one `rating` metric like
`spare`'s, an interview, no document), so a test can hold `sample` and `spare` and still name a
category the provider never held, and walk an application through its interview; and the
`sample` profile (`SampleProfile`: team size, languages).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import strawberry

from linkstar.schema.plugin_api import (
    Aggregation,
    AggregationKind,
    CategoryProfile,
    CategoryProfileSpec,
    ChargeOccasionKind,
    Direction,
    DocumentRequirement,
    FeeKind,
    FeeRule,
    IntField,
    MetricDefinition,
    Money,
    OnboardingPolicy,
    PenaltyRule,
    ProfileRecord,
    ProfileSchema,
    Region,
    ScoringCurve,
    ScoringPolicy,
    ServiceCategory,
    TextListField,
    Tier,
    Unit,
    commission_by_tier,
    deposits_by_region_and_tier,
    documents,
    fees_by_region,
    hookimpl,
    profile_fields,
    standard_agreements,
)

KEY = "sample"
SPARE = "spare"
CATEGORIES = [
    ServiceCategory(
        key=KEY,
        name="Sample service",
        description="A fixture category of the test suite, with numbers checkable by hand.",
        position=900,
    ),
    ServiceCategory(
        key=SPARE,
        name="Spare service",
        description="A second fixture category, which the sample providers do not hold.",
        position=901,
    ),
]

ON_TIME = MetricDefinition(
    key="on_time_rate",
    name="On-time rate",
    description="Jobs done by their deadline / jobs due in the month (1 = on time).",
    unit=Unit.PERCENT,
    observed_unit=Unit.OUTCOME,
    direction=Direction.HIGHER_IS_BETTER,
    threshold=Decimal("90"),
    aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
    weight=Decimal("50"),
    min_sample_size=4,
    warning_band=Decimal("5"),
    curve=ScoringCurve(floor=Decimal("50"), target=Decimal("100")),
)
RESPONSE = MetricDefinition(
    key="response_hours",
    name="Response time",
    description="Hours to the first answer to a seller; the slowest answer of the month counts.",
    unit=Unit.HOURS,
    observed_unit=Unit.HOURS,
    direction=Direction.LOWER_IS_BETTER,
    threshold=Decimal("24"),
    aggregation=Aggregation(AggregationKind.MAXIMUM),
    weight=Decimal("30"),
    min_sample_size=1,
    curve=ScoringCurve(floor=Decimal("72"), target=Decimal("12")),
)
SATISFACTION = MetricDefinition(
    key="satisfaction",
    name="Satisfaction",
    description="Mean of the sellers' star ratings in the month.",
    unit=Unit.RATING,
    observed_unit=Unit.RATING,
    direction=Direction.HIGHER_IS_BETTER,
    threshold=Decimal("4"),
    aggregation=Aggregation(AggregationKind.MEAN),
    weight=Decimal("20"),
    min_sample_size=5,
)
METRICS = {
    KEY: [ON_TIME, RESPONSE, SATISFACTION],
    SPARE: [
        MetricDefinition(
            key="rating",
            name="Rating",
            description="Mean of the sellers' star ratings in the month.",
            unit=Unit.RATING,
            observed_unit=Unit.RATING,
            direction=Direction.HIGHER_IS_BETTER,
            threshold=Decimal("4"),
            aggregation=Aggregation(AggregationKind.MEAN),
            weight=Decimal("100"),
            min_sample_size=1,
        )
    ],
}

DOCUMENTS: list[DocumentRequirement] = [
    documents.business_licence(),
    documents.service_price_list(mandatory=False),
]

_DEPOSIT = {Tier.REGULAR: "1000.00", Tier.PREFERRED: "500.00", Tier.STRATEGIC_PARTNER: "200.00"}
FEE_RULES: list[FeeRule] = deposits_by_region_and_tier(
    {
        Region.MAINLAND_CHINA: ("CNY", _DEPOSIT),
        Region.HK_MACAU_TAIWAN: ("HKD", _DEPOSIT),
        Region.OVERSEAS: ("USD", _DEPOSIT),
    },
    note="Refundable at exit.",
) + commission_by_tier(
    {Tier.REGULAR: "10", Tier.PREFERRED: "8", Tier.STRATEGIC_PARTNER: "5"},
    key="order_commission",
    name="Commission on dispatched orders",
    note="Share of each dispatched order's service fee.",
)

# --- money (issue #11): an annual fee (at approval and each renewal: the money sweep's work) and
# a per-unit exam fee (charged when staff count candidates).
_CURRENCY = {Region.MAINLAND_CHINA: "CNY", Region.HK_MACAU_TAIWAN: "HKD", Region.OVERSEAS: "USD"}
FEE_RULES += fees_by_region(
    {region: Money.of("100.00", currency) for region, currency in _CURRENCY.items()},
    key="annual_fee",
    name="Annual fee",
    kind=FeeKind.ANNUAL_FEE,
    note="Charged at approval and at each anniversary of it.",
    charged_on=frozenset({ChargeOccasionKind.APPROVAL, ChargeOccasionKind.RENEWAL}),
)
FEE_RULES += [
    FeeRule(
        key="exam_fee",
        name="Certification exam fee",
        kind=FeeKind.PER_UNIT_FEE,
        amount=Money.of("20.00", currency),
        regions=frozenset({region}),
        unit="candidate",
        note="Per candidate sitting the certification exam.",
    )
    for region, currency in _CURRENCY.items()
]
# --- end of the money block

PENALTY_RULES = [
    PenaltyRule(
        key="restricted_intake_penalty",
        name="Restricted-intake deduction",
        on="RESTRICTED_INTAKE",
        amount=Money.of("100.00", "CNY"),
        note="A fixed deduction when intake is restricted.",
    )
]
ONBOARDING = OnboardingPolicy(agreements=standard_agreements("Sample service"), probation_days=30)
SPARE_SCORING = ScoringPolicy(auto_accept_claims_percent=Decimal("10"))


@hookimpl
def linkstar_service_categories() -> list[ServiceCategory]:
    return CATEGORIES


@hookimpl
def linkstar_metric_definitions(category: ServiceCategory) -> list[MetricDefinition] | None:
    return METRICS.get(category.key)


@hookimpl
def linkstar_required_documents(category: ServiceCategory) -> list[DocumentRequirement] | None:
    return DOCUMENTS if category.key == KEY else None


@hookimpl
def linkstar_fee_rules(category: ServiceCategory) -> list[FeeRule] | None:
    return FEE_RULES if category.key == KEY else None


@hookimpl
def linkstar_penalty_rules(category: ServiceCategory) -> list[PenaltyRule] | None:
    return PENALTY_RULES if category.key == KEY else None


@hookimpl
def linkstar_onboarding_policy(category: ServiceCategory) -> OnboardingPolicy | None:
    return ONBOARDING if category.key == KEY else None


@hookimpl
def linkstar_scoring_policy(category: ServiceCategory) -> ScoringPolicy | None:
    return SPARE_SCORING if category.key == SPARE else None


# ---- issue #8 (layout): a third category, and a profile for `sample` ------------------------
# A category no sample provider ever holds, beside `spare`, and the profile the core's graph
# tests read (instead of a built-in category's profile).

EXTRA = "extra"
CATEGORIES.append(
    ServiceCategory(
        key=EXTRA,
        name="Extra service",
        description="A third fixture category, which no fixture provider holds.",
        position=902,
        interview_required=True,
    )
)
METRICS[EXTRA] = [
    MetricDefinition(
        key="rating",
        name="Rating",
        description="Mean of the sellers' star ratings in the month.",
        unit=Unit.RATING,
        observed_unit=Unit.RATING,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("4"),
        aggregation=Aggregation(AggregationKind.MEAN),
        weight=Decimal("100"),
        min_sample_size=1,
    )
]

PROFILE = ProfileSchema(
    KEY,
    IntField("team_size", minimum=1, maximum=1000),
    TextListField("languages", max_items=5, max_length=40),
)
PROFILE_DATA = {"team_size": 12, "languages": ["Chinese", "English"]}


@strawberry.type(description="Profile of a provider of the fixture category `sample`.")
class SampleProfile(CategoryProfile):
    team_size: int
    languages: list[str]


def _build_profile(record: ProfileRecord) -> SampleProfile:
    return SampleProfile(
        **profile_fields(record),
        team_size=record.data["team_size"],
        languages=list(record.data["languages"]),
    )


def _demo_profile(rng: random.Random, region: Region) -> dict[str, Any]:
    return {"team_size": rng.randrange(1, 50), "languages": ["Chinese"]}


PROFILE_SPEC = CategoryProfileSpec(
    graphql_type=SampleProfile, validate=PROFILE.validate, build=_build_profile, demo=_demo_profile
)


@hookimpl
def linkstar_category_profile(category: ServiceCategory) -> CategoryProfileSpec | None:
    return PROFILE_SPEC if category.key == KEY else None
