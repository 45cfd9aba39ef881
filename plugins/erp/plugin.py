"""ERP systems and integrations (ERP对接): KPIs, documents and fees for ERP vendors.

An ERP vendor sits between a seller's marketplace stores and its back office: when its
integration stops, orders stop. So besides the article's satisfaction (>= 85%) and
responsiveness KPIs, the platform scores what only an ERP can break: integration uptime,
orders synchronised correctly, and how fast a critical bug is fixed.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from linkstar.plugins.erp.profile import SPEC
from linkstar.schema.plugin_api import (
    MAX_DOCUMENT_BYTES,
    Aggregation,
    AggregationKind,
    AgreementTemplate,
    CategoryProfileSpec,
    Direction,
    DispatchPolicy,
    DocumentRequirement,
    EnumListField,
    FeeKind,
    FeeOption,
    FeeRule,
    IntField,
    Marketplace,
    MetricDefinition,
    Money,
    ObservationRule,
    OnboardingPolicy,
    OrderEventKind,
    ProfileSchema,
    Region,
    ScoringCurve,
    ServiceCategory,
    Tier,
    Unit,
    commission_by_tier,
    deposits_by_region_and_tier,
    documents,
    fees_by_region,
    hookimpl,
    response_hours,
    seller_rating,
    standard_agreements,
)

KEY = "erp"
CATEGORY = ServiceCategory(
    key=KEY,
    name="ERP systems and integrations (ERP对接)",
    description=(
        "Vendors of ERP systems that connect sellers' marketplace stores to orders, stock, "
        "purchasing, logistics and finance, judged on support responsiveness, integration "
        "uptime, order-sync accuracy, critical-bug resolution and seller satisfaction."
    ),
    position=20,
    # integration contracts and service records: three years, as transaction records
    document_retention_days=3 * 365,
    # A feature list proves nothing about an integration: the interview is technical, a
    # live order sync against a marketplace sandbox and a review of the architecture.
    interview_required=True,
)

METRICS = [
    MetricDefinition(
        key="ticket_first_response_time",
        name="Support ticket first-response time",
        description=(
            "Hours from a seller opening a support ticket (any channel the ERP offers) to the "
            "vendor's first human reply; automatic acknowledgements do not count. The p90 of "
            "the month's tickets counts."
        ),
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("4"),
        aggregation=Aggregation(AggregationKind.PERCENTILE, {"percentile": Decimal("90")}),
        weight=Decimal("20"),
        min_sample_size=20,
        warning_band=Decimal("1"),
        curve=ScoringCurve(floor=Decimal("12"), target=Decimal("1")),
    ),
    MetricDefinition(
        key="integration_uptime",
        name="Integration uptime",
        description=(
            "One observation per calendar day (Asia/Shanghai): the percentage of the day's "
            "one-minute health probes of the vendor's marketplace integration endpoints that "
            "succeeded. The mean of the month's days counts; days are equally long, so the "
            "mean is the month's uptime, and one bad day cannot be hidden by a good last day."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.PERCENT,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("99.5"),
        aggregation=Aggregation(AggregationKind.MEAN),
        weight=Decimal("20"),
        # Two-thirds of a month of probes before uptime is judged.
        min_sample_size=20,
        warning_band=Decimal("0.3"),
        curve=ScoringCurve(floor=Decimal("98"), target=Decimal("99.9")),
    ),
    MetricDefinition(
        key="order_sync_success_rate",
        name="Order-sync success rate",
        description=(
            "Per marketplace order placed in the month in a store connected through the ERP: "
            "1 if it reached the ERP complete and correct (lines, quantities, amounts, address) "
            "within 15 minutes without manual re-import, else 0; the share of 1s counts."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("99"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("25"),
        # At 99% one failure in a hundred orders already decides; fewer orders say nothing.
        min_sample_size=200,
        warning_band=Decimal("0.5"),
        curve=ScoringCurve(floor=Decimal("95"), target=Decimal("99.8")),
    ),
    MetricDefinition(
        key="critical_bug_resolution_time",
        name="Critical-bug resolution time",
        description=(
            "Hours from the report of a critical bug (order sync stopped, data lost or wrong "
            "stock pushed to a marketplace) to the fix running in production and confirmed by "
            "the reporting seller. The worst bug of the month counts: a single two-day outage "
            "is enough to lose a seller's store rating."
        ),
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("48"),
        aggregation=Aggregation(AggregationKind.MAXIMUM),
        weight=Decimal("15"),
        # One critical bug is enough for a verdict; a month without any has none.
        min_sample_size=1,
        warning_band=Decimal("12"),
        curve=ScoringCurve(floor=Decimal("120"), target=Decimal("24")),
    ),
    MetricDefinition(
        key="seller_satisfaction",
        name="Seller satisfaction",
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
]

PDF = frozenset({"application/pdf"})
_MAINLAND = frozenset({Region.MAINLAND_CHINA})
_OUTSIDE_MAINLAND = frozenset({Region.HK_MACAU_TAIWAN, Region.OVERSEAS})

DOCUMENTS = [
    documents.business_licence(),
    documents.company_registration(),
    documents.legal_representative_id(),
    documents.contact_person_id(),
    documents.team_composition(
        description=(
            "Headcount of developers, implementation consultants and support staff, with the "
            "on-call arrangement that answers tickets and critical bugs."
        )
    ),
    documents.service_cases(
        description=(
            "At least three sellers running the ERP in production: marketplaces connected, "
            "monthly order volume synchronised and go-live date."
        )
    ),
    documents.service_price_list(
        description=(
            "Subscription plans, implementation and customisation fees, and their billing basis."
        )
    ),
    documents.platform_certifications(
        name="Marketplace API authorisations",
        description=(
            "Proof that the ERP is an authorised developer application of each marketplace it "
            "connects, e.g. Amazon SP-API developer registration, Shopee Open Platform or "
            "TikTok Shop Partner Center app approval."
        ),
        # Without the marketplace's authorisation an integration may be cut off at any time.
        mandatory=True,
    ),
    DocumentRequirement(
        key="api_integration_spec",
        name="API documentation and integration architecture",
        description=(
            "The ERP's open API reference and a diagram of how it connects to marketplaces: "
            "endpoints, authentication, rate limits, retry and idempotency of order import."
        ),
        media_types=PDF,
        max_bytes=MAX_DOCUMENT_BYTES,
    ),
    DocumentRequirement(
        key="data_processing_agreement",
        name="Data processing agreement",
        description=(
            "The vendor's standard agreement with sellers on buyer personal data taken from "
            "marketplaces: purposes, storage location, retention and deletion."
        ),
        media_types=PDF,
    ),
    DocumentRequirement(
        key="data_security_certification",
        name="Data security certificate (等保 / ISO 27001)",
        description=(
            "Multi-Level Protection Scheme (网络安全等级保护, 等保) level 2 or higher "
            "assessment certificate of the ERP system, or an ISO/IEC 27001 certificate "
            "covering it."
        ),
        regions=_MAINLAND,
        expires=True,
    ),
    DocumentRequirement(
        key="international_security_certification",
        name="Information security certification",
        description=(
            "ISO/IEC 27001 certificate or SOC 2 Type II report covering the ERP system; "
            "recommended, weighed in review."
        ),
        mandatory=False,
        regions=_OUTSIDE_MAINLAND,
        expires=True,
    ),
    DocumentRequirement(
        key="software_copyright",
        name="Software copyright registration (软件著作权登记证书)",
        description=(
            "Computer software copyright registration certificate of the ERP, showing that "
            "the applicant owns the software it sells."
        ),
        regions=_MAINLAND,
    ),
]

# Deposit by region (in the region's settlement currency) and tier; better tiers put up less.
# An ERP holds sellers' order data, so the deposit is higher than a store agency's.
_DEPOSITS = {
    Region.MAINLAND_CHINA: (
        "CNY",
        {Tier.REGULAR: "30000.00", Tier.PREFERRED: "15000.00", Tier.STRATEGIC_PARTNER: "8000.00"},
    ),
    Region.HK_MACAU_TAIWAN: (
        "HKD",
        {Tier.REGULAR: "33000.00", Tier.PREFERRED: "16500.00", Tier.STRATEGIC_PARTNER: "9000.00"},
    ),
    Region.OVERSEAS: (
        "USD",
        {Tier.REGULAR: "4200.00", Tier.PREFERRED: "2100.00", Tier.STRATEGIC_PARTNER: "1100.00"},
    ),
}
_ANNUAL_FEES = {
    Region.MAINLAND_CHINA: Money.of("10000.00", "CNY"),
    Region.HK_MACAU_TAIWAN: Money.of("11000.00", "HKD"),
    Region.OVERSEAS: Money.of("1400.00", "USD"),
}
_COMMISSION = {Tier.REGULAR: "10", Tier.PREFERRED: "8", Tier.STRATEGIC_PARTNER: "6"}
# The platform's own work to certify an integration: sandbox, test orders, review, go-live.
_INTEGRATION = {
    Region.MAINLAND_CHINA: (
        "CNY",
        {"BASIC": "5000.00", "STANDARD": "15000.00", "ADVANCED": "40000.00"},
    ),
    Region.HK_MACAU_TAIWAN: (
        "HKD",
        {"BASIC": "5500.00", "STANDARD": "16500.00", "ADVANCED": "44000.00"},
    ),
    Region.OVERSEAS: ("USD", {"BASIC": "700.00", "STANDARD": "2100.00", "ADVANCED": "5600.00"}),
}
_DEFAULT_COMPLEXITY = "STANDARD"
_COMPLEXITY_NOTES = {
    "BASIC": "Order and stock sync with one marketplace through its standard API.",
    "STANDARD": "Orders, stock, listings and tracking numbers with up to five marketplaces.",
    "ADVANCED": (
        "Bidirectional sync including settlement and finance data, webhooks, more than five "
        "marketplaces, and a load test before go-live."
    ),
}

FEE_RULES = (
    deposits_by_region_and_tier(_DEPOSITS, note="Refundable at exit, less any penalty deductions.")
    + fees_by_region(
        _ANNUAL_FEES,
        key="annual_fee",
        name="Platform listing fee",
        kind=FeeKind.ANNUAL_FEE,
        note="Listing in the ERP directory sellers search, per year of cooperation.",
    )
    + commission_by_tier(
        _COMMISSION,
        key="order_commission",
        name="Platform commission on dispatched orders",
        note=(
            "Share of the subscription and implementation fees of each seller the platform refers."
        ),
    )
    + [
        FeeRule(
            key="api_integration",
            name="API integration certification",
            kind=FeeKind.ONE_OFF_FEE,
            amount=Money.of(amount, currency),
            regions=frozenset({region}),
            option=FeeOption(
                group="integration_complexity",
                value=complexity,
                default=complexity == _DEFAULT_COMPLEXITY,
            ),
            note=_COMPLEXITY_NOTES[complexity],
        )
        for region, (currency, by_complexity) in _INTEGRATION.items()
        for complexity, amount in by_complexity.items()
    ]
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


@hookimpl
def linkstar_category_profile(category: ServiceCategory) -> CategoryProfileSpec | None:
    return SPEC if category.key == KEY else None


# Integrations prove themselves quickly; three pilot sellers live on the integration.
ONBOARDING = OnboardingPolicy(
    agreements=(
        *standard_agreements(CATEGORY.name),
        AgreementTemplate(
            "data_processing_agreement",
            "Data processing agreement",
            "2026.1",
            "LinkStar Data Processing Agreement\n\n"
            "1. The ERP provider processes seller order, product and customer data only to run "
            "the integration the seller enabled.\n"
            "2. Personal data stays in the region the seller chose and is deleted within 30 "
            "days after the integration ends.\n"
            "3. Security incidents are reported to the platform and the seller within 24 hours.\n",
        ),
    ),
    probation_days=60,
    pilot_order_quota=3,
    probation_extension_days=30,
    reapply_cooldown_days=60,
)


@hookimpl
def linkstar_onboarding_policy(category: ServiceCategory) -> OnboardingPolicy | None:
    return ONBOARDING if category.key == KEY else None


# --- marketplace: what a seller's request for an ERP integration says ------------------------

REQUEST_REQUIREMENTS = ProfileSchema(
    KEY,
    EnumListField("integrate_marketplaces", choices=Marketplace),
    IntField("monthly_orders", optional=True, minimum=1, maximum=100_000_000),
)


@hookimpl
def linkstar_request_requirements(category: ServiceCategory) -> ProfileSchema | None:
    return REQUEST_REQUIREMENTS if category.key == KEY else None


@hookimpl
def linkstar_dispatch_policy(category: ServiceCategory) -> DispatchPolicy | None:
    # Integration projects are short and many run in parallel; answers are expected quickly.
    return (
        DispatchPolicy(response_deadline=timedelta(hours=12), max_open_orders=20)
        if category.key == KEY
        else None
    )


# Which order events give this category's metrics platform-sourced data.
ORDER_OBSERVATIONS = [
    # a seller's ticket to the vendor: hours to its first answer
    ObservationRule(
        OrderEventKind.TICKET_FIRST_RESPONSE, "ticket_first_response_time", response_hours
    ),
    ObservationRule(OrderEventKind.ORDER_COMPLETED, "seller_satisfaction", seller_rating),
]


@hookimpl
def linkstar_order_observations(category: ServiceCategory) -> list[ObservationRule] | None:
    return ORDER_OBSERVATIONS if category.key == KEY else None
