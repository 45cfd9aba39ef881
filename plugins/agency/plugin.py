"""Agency (代运营, store operations): the article's KPIs, documents and fees.

KPIs use the article's numbers exactly: customer satisfaction >= 85%, on-time task completion
>= 90%, store monthly GMV growth >= 15%, negative-review response time <= 24 h; plus customer
renewal rate and the complaint rate the article names (<= 3% of orders drew a complaint).
"""

from __future__ import annotations

from decimal import Decimal

from linkstar.plugins.agency.profile import SPEC, AgencyServiceModel
from linkstar.schema.plugin_api import (
    Aggregation,
    AggregationKind,
    CategoryProfileSpec,
    Direction,
    DispatchPolicy,
    DocumentRequirement,
    EnumListField,
    EvaluationWindow,
    FeeRule,
    IntField,
    MetricDefinition,
    Money,
    ObservationRule,
    OnboardingPolicy,
    OrderEventKind,
    PenaltyRule,
    PeriodKind,
    ProfileSchema,
    Region,
    ScoringCurve,
    ServiceCategory,
    TextListField,
    Tier,
    Unit,
    commission_by_tier,
    complaint,
    delivered_on_time,
    deposits_by_region_and_tier,
    documents,
    hookimpl,
    renewed,
    response_hours,
    seller_rating,
    standard_agreements,
    store_sales,
    task_failed,
)

KEY = "agency"
CATEGORY = ServiceCategory(
    key=KEY,
    name="Store operations (代运营)",
    description=(
        "Agencies that run sellers' marketplace stores: listings, advertising, customer "
        "service and growth, judged on satisfaction, punctuality, GMV growth and responsiveness."
    ),
    position=10,
    # the E-commerce Law keeps transaction records three years; contracts and cases follow
    document_retention_days=3 * 365,
    interview_required=True,
)

METRICS = [
    MetricDefinition(
        key="customer_satisfaction",
        name="Customer satisfaction",
        description="Share of seller ratings of 4 or 5 stars (of 5) in the month.",
        unit=Unit.PERCENT,
        observed_unit=Unit.RATING,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("85"),
        aggregation=Aggregation(AggregationKind.SHARE_AT_OR_ABOVE, {"cutoff": Decimal("4")}),
        weight=Decimal("20"),
        min_sample_size=10,
        warning_band=Decimal("3"),
        curve=ScoringCurve(floor=Decimal("60"), target=Decimal("95")),
    ),
    MetricDefinition(
        key="on_time_task_completion",
        name="On-time task completion",
        description="Tasks completed by their agreed deadline / tasks due in the month.",
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("90"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("20"),
        min_sample_size=20,
        warning_band=Decimal("2"),
        curve=ScoringCurve(floor=Decimal("70"), target=Decimal("98")),
    ),
    MetricDefinition(
        key="store_gmv_growth",
        name="Store monthly GMV growth",
        description="Month-over-month GMV growth of each managed store, averaged over stores.",
        unit=Unit.PERCENT_CHANGE,
        observed_unit=Unit.AMOUNT,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("15"),
        aggregation=Aggregation(AggregationKind.GROWTH),
        weight=Decimal("20"),
        min_sample_size=3,
        warning_band=Decimal("3"),
        curve=ScoringCurve(floor=Decimal("-10"), target=Decimal("30")),
    ),
    MetricDefinition(
        key="negative_review_response_time",
        name="Negative-review response time",
        description="Hours from a negative review to the agency's first response; the p90 counts.",
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("24"),
        aggregation=Aggregation(AggregationKind.PERCENTILE, {"percentile": Decimal("90")}),
        weight=Decimal("15"),
        min_sample_size=10,
        warning_band=Decimal("4"),
        curve=ScoringCurve(floor=Decimal("72"), target=Decimal("8")),
    ),
    MetricDefinition(
        key="customer_renewal_rate",
        name="Customer renewal rate",
        description="Seller contracts renewed / seller contracts that ended in the quarter.",
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("70"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("15"),
        min_sample_size=5,
        window=EvaluationWindow(period=PeriodKind.QUARTER),
        warning_band=Decimal("5"),
        curve=ScoringCurve(floor=Decimal("40"), target=Decimal("90")),
    ),
    MetricDefinition(
        key="complaint_rate",
        name="Complaint rate",
        description=(
            "One observation per seller order (task) closed in the month: 1 if the seller filed "
            "a complaint about it with the platform, 0 if not. The value is the share of 1s in "
            "percent; here a 1 is an incident, so lower is better."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("3"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("10"),
        min_sample_size=20,
        warning_band=Decimal("0.5"),
        curve=ScoringCurve(floor=Decimal("10"), target=Decimal("1")),
    ),
]

DOCUMENTS = [
    documents.business_licence(),
    documents.company_registration(),
    documents.legal_representative_id(),
    documents.contact_person_id(),
    documents.team_composition(),
    documents.service_cases(
        description=(
            "At least three store-operation cases: client, marketplace, categories, "
            "GMV before/after."
        )
    ),
    documents.service_price_list(),
    documents.platform_certifications(
        description="Marketplace partner certificates, e.g. Amazon Service Provider Network (SPN)."
    ),
]

# Deposit by region (in the region's settlement currency) and tier; better tiers put up less.
_DEPOSITS = {
    Region.MAINLAND_CHINA: (
        "CNY",
        {Tier.REGULAR: "20000.00", Tier.PREFERRED: "10000.00", Tier.STRATEGIC_PARTNER: "5000.00"},
    ),
    Region.HK_MACAU_TAIWAN: (
        "HKD",
        {Tier.REGULAR: "25000.00", Tier.PREFERRED: "12500.00", Tier.STRATEGIC_PARTNER: "6000.00"},
    ),
    Region.OVERSEAS: (
        "USD",
        {Tier.REGULAR: "3000.00", Tier.PREFERRED: "1500.00", Tier.STRATEGIC_PARTNER: "800.00"},
    ),
}
_COMMISSION = {Tier.REGULAR: "8", Tier.PREFERRED: "6", Tier.STRATEGIC_PARTNER: "5"}

FEE_RULES = deposits_by_region_and_tier(
    _DEPOSITS, note="Refundable at exit, less any penalty deductions."
) + commission_by_tier(
    _COMMISSION,
    key="order_commission",
    name="Platform commission on dispatched orders",
    note="Share of the service fee of each order the platform dispatches.",
)


@hookimpl
def linkstar_service_categories() -> list[ServiceCategory]:
    return [CATEGORY]


@hookimpl
def linkstar_metric_definitions(category: ServiceCategory) -> list[MetricDefinition] | None:
    return METRICS if category.key == KEY else None


@hookimpl
def linkstar_required_documents(category: ServiceCategory) -> list[DocumentRequirement] | None:
    return DOCUMENTS if category.key == KEY else None


@hookimpl
def linkstar_fee_rules(category: ServiceCategory) -> list[FeeRule] | None:
    return FEE_RULES if category.key == KEY else None


# The article's example of a penalty deduction: a provider whose complaints or failures put it
# under restricted intake pays part of that period's order revenue, within a cap per currency.
PENALTY_RULES = [
    PenaltyRule(
        key="restricted_intake_penalty",
        name="Restricted-intake deduction",
        on="RESTRICTED_INTAKE",
        revenue_percent=Decimal("5"),
        caps=(Money.of("5000.00", "CNY"), Money.of("5500.00", "HKD"), Money.of("700.00", "USD")),
        note="5 % of the period's order revenue, at most CNY 5,000 (HKD 5,500, USD 700).",
    ),
    PenaltyRule(
        key="downgrade_penalty",
        name="Downgrade deduction",
        on="DOWNGRADE",
        amount=Money.of("2000.00", "CNY"),
        note="A fixed deduction when the provider is downgraded for failing KPIs.",
    ),
]


@hookimpl
def linkstar_penalty_rules(category: ServiceCategory) -> list[PenaltyRule] | None:
    return PENALTY_RULES if category.key == KEY else None


@hookimpl
def linkstar_category_profile(category: ServiceCategory) -> CategoryProfileSpec | None:
    return SPEC if category.key == KEY else None


# Agencies are judged on months of store results: a full quarter with five pilot clients.
ONBOARDING = OnboardingPolicy(
    agreements=standard_agreements(CATEGORY.name),
    probation_days=90,
    pilot_order_quota=5,
    probation_extension_days=30,
    reapply_cooldown_days=90,
)


@hookimpl
def linkstar_onboarding_policy(category: ServiceCategory) -> OnboardingPolicy | None:
    return ONBOARDING if category.key == KEY else None


# --- marketplace: what a seller's request for store operations says --------------------------

REQUEST_REQUIREMENTS = ProfileSchema(
    KEY,
    EnumListField("service_models", choices=AgencyServiceModel),
    IntField("sku_count", optional=True, minimum=1, maximum=1_000_000),
    TextListField("product_categories", optional=True, max_items=20),
)


@hookimpl
def linkstar_request_requirements(category: ServiceCategory) -> ProfileSchema | None:
    return REQUEST_REQUIREMENTS if category.key == KEY else None


@hookimpl
def linkstar_dispatch_policy(category: ServiceCategory) -> DispatchPolicy | None:
    # Store operations are long engagements: a team runs a handful of stores at once.
    return DispatchPolicy(max_open_orders=8) if category.key == KEY else None


# Which order events give this category's metrics platform-sourced data.
ORDER_OBSERVATIONS = [
    ObservationRule(
        OrderEventKind.MILESTONE_DELIVERED, "on_time_task_completion", delivered_on_time
    ),
    ObservationRule(OrderEventKind.ORDER_CANCELLED, "on_time_task_completion", task_failed),
    ObservationRule(OrderEventKind.ORDER_COMPLETED, "customer_satisfaction", seller_rating),
    ObservationRule(OrderEventKind.REORDERED, "customer_renewal_rate", renewed),
    ObservationRule(OrderEventKind.ORDER_EXTENDED, "customer_renewal_rate", renewed),
    # the seller went to another agency after completing an order: a contract not renewed
    ObservationRule(OrderEventKind.CUSTOMER_LOST, "customer_renewal_rate", renewed),
    # one observation per closed order: did the seller complain (ticket or dispute)?
    ObservationRule(OrderEventKind.ORDER_COMPLETED, "complaint_rate", complaint),
    ObservationRule(OrderEventKind.ORDER_CANCELLED, "complaint_rate", complaint),
    # hours from a store's negative-review ticket to the answer that resolves it
    ObservationRule(
        OrderEventKind.NEGATIVE_REVIEW_RESOLVED, "negative_review_response_time", response_hours
    ),
    # a managed store's monthly GMV (the metric's GROWTH aggregation compares months per store)
    ObservationRule(OrderEventKind.STORE_SALES_REPORTED, "store_gmv_growth", store_sales),
]


@hookimpl
def linkstar_order_observations(category: ServiceCategory) -> list[ObservationRule] | None:
    return ORDER_OBSERVATIONS if category.key == KEY else None
