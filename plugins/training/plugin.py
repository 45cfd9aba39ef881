"""Training institutions (培训): KPIs, documents and fees for providers who teach sellers.

KPIs follow the article's standard where it names one (satisfaction >= 85%, response time
<= 24 h) and add what a training platform must watch: course completion, certification exam
pass rate and classes delivered as scheduled.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from linkstar.plugins.training.profile import SPEC, TrainingDeliveryFormat
from linkstar.schema.plugin_api import (
    MAX_DOCUMENT_BYTES,
    Aggregation,
    AggregationKind,
    CategoryProfileSpec,
    Direction,
    DispatchPolicy,
    DocumentRequirement,
    EnumField,
    EvaluationWindow,
    FeeKind,
    FeeRule,
    IntField,
    MetricDefinition,
    Money,
    ObservationRule,
    OnboardingPolicy,
    OrderEventKind,
    PeriodKind,
    ProfileSchema,
    Region,
    ServiceCategory,
    TextListField,
    Tier,
    Unit,
    commission_by_tier,
    delivered_on_time,
    deposits_by_region_and_tier,
    documents,
    fees_by_region,
    hookimpl,
    response_hours,
    seller_rating,
    standard_agreements,
    task_failed,
)

KEY = "training"
CATEGORY = ServiceCategory(
    key=KEY,
    name="Training institutions (培训)",
    description=(
        "Institutions that teach sellers and their staff to run cross-border stores, judged on "
        "course completion, learner satisfaction, certification results, responsiveness to "
        "learners' questions and classes held as scheduled."
    ),
    position=40,
    # certificates and course records: three years
    document_retention_days=3 * 365,
    # Teaching quality cannot be read off a syllabus or a certificate: the interview is a
    # trial lesson (试讲) given by one of the applicant's instructors.
    interview_required=True,
)

METRICS = [
    MetricDefinition(
        key="course_completion_rate",
        name="Course completion rate",
        description=(
            "Per enrolled learner whose course ended in the month: 1 if the learner finished "
            "every required module and assessment, else 0; the share of 1s counts."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("80"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("25"),
        min_sample_size=20,
        warning_band=Decimal("5"),
    ),
    MetricDefinition(
        key="learner_satisfaction",
        name="Learner satisfaction",
        description="Share of end-of-course learner ratings of 4 or 5 stars (of 5) in the month.",
        unit=Unit.PERCENT,
        observed_unit=Unit.RATING,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("85"),
        aggregation=Aggregation(AggregationKind.SHARE_AT_OR_ABOVE, {"cutoff": Decimal("4")}),
        weight=Decimal("25"),
        min_sample_size=15,
        warning_band=Decimal("3"),
    ),
    MetricDefinition(
        key="certification_exam_pass_rate",
        name="Certification exam pass rate",
        description=(
            "Per candidate who sat a certification exam in the quarter: 1 if passed at the "
            "first attempt, else 0; the share of 1s counts. Quarterly, because exams are "
            "held per cohort and a month is often too few sittings."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("70"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("20"),
        min_sample_size=10,
        window=EvaluationWindow(period=PeriodKind.QUARTER),
        warning_band=Decimal("5"),
    ),
    MetricDefinition(
        key="learner_question_response_time",
        name="Learner question response time",
        description=(
            "Hours from a learner's question (course forum, chat or ticket) to an instructor's "
            "first answer; the p90 of the month's questions counts."
        ),
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("24"),
        aggregation=Aggregation(AggregationKind.PERCENTILE, {"percentile": Decimal("90")}),
        weight=Decimal("15"),
        min_sample_size=20,
        warning_band=Decimal("4"),
    ),
    MetricDefinition(
        key="sessions_delivered_as_scheduled",
        name="Sessions delivered as scheduled",
        description=(
            "Per class session scheduled in the month: 1 if held at its published time (start "
            "within 10 minutes) with the announced instructor, else 0 (cancelled, moved or "
            "late); the share of 1s counts."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("95"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("15"),
        min_sample_size=10,
        warning_band=Decimal("2"),
    ),
]

DOCUMENTS = [
    documents.business_licence(),
    documents.company_registration(),
    documents.legal_representative_id(),
    documents.contact_person_id(),
    documents.team_composition(
        description=(
            "Instructors and teaching-support staff by role, with each instructor's years of "
            "hands-on marketplace operation, teaching history and certificates held."
        )
    ),
    documents.service_cases(
        description=(
            "At least three past cohorts: course, marketplace, number of learners, completion "
            "and certification pass rates, and sample learner feedback."
        )
    ),
    documents.service_price_list(
        description="Every course with its fee, duration, delivery format and refund policy."
    ),
    documents.platform_certifications(
        description=(
            "Marketplace training-partner or lecturer certificates, e.g. Amazon Service "
            "Provider Network (SPN) listing or a marketplace's authorised-lecturer certificate."
        )
    ),
    DocumentRequirement(
        key="curriculum_outline",
        name="Curriculum outline (课程大纲)",
        description=(
            "Syllabus of every course offered: modules, teaching hours, learning outcomes, "
            "assessment method and the instructor of each module."
        ),
        media_types=frozenset({"application/pdf"}),
        max_bytes=MAX_DOCUMENT_BYTES,
    ),
    DocumentRequirement(
        key="instructor_credentials",
        name="Instructor credentials",
        description=(
            "Certificates and proof of marketplace experience of each instructor named in the "
            "curriculum outline, in one file."
        ),
        media_types=documents.PDF_OR_IMAGE,
        max_bytes=MAX_DOCUMENT_BYTES,
        # One bundle for many instructors has no single expiry date to record.
        expires=False,
    ),
    DocumentRequirement(
        key="education_permit",
        name="Private school operating permit (办学许可证)",
        description=(
            "Operating permit for a private training school issued by the education or human "
            "resources authority; required when the institution runs as a licensed school or "
            "issues vocational qualification certificates."
        ),
        # Company-run online skills training needs no permit on the mainland; only
        # institutions registered as schools hold one, so it cannot be asked of everyone.
        mandatory=False,
        regions=frozenset({Region.MAINLAND_CHINA}),
        expires=True,
    ),
]

# Deposit by region (in the region's settlement currency) and tier; better tiers put up less.
# It backs refunds owed to learners if a course is cancelled, so it is paid by every tier.
_DEPOSITS = {
    Region.MAINLAND_CHINA: (
        "CNY",
        {Tier.REGULAR: "10000.00", Tier.PREFERRED: "6000.00", Tier.STRATEGIC_PARTNER: "3000.00"},
    ),
    Region.HK_MACAU_TAIWAN: (
        "HKD",
        {Tier.REGULAR: "12000.00", Tier.PREFERRED: "7000.00", Tier.STRATEGIC_PARTNER: "3500.00"},
    ),
    Region.OVERSEAS: (
        "USD",
        {Tier.REGULAR: "1500.00", Tier.PREFERRED: "900.00", Tier.STRATEGIC_PARTNER: "450.00"},
    ),
}
_ANNUAL_FEES = {
    Region.MAINLAND_CHINA: Money.of("3000.00", "CNY"),
    Region.HK_MACAU_TAIWAN: Money.of("3500.00", "HKD"),
    Region.OVERSEAS: Money.of("450.00", "USD"),
}
_COMMISSION = {Tier.REGULAR: "15", Tier.PREFERRED: "12", Tier.STRATEGIC_PARTNER: "10"}
# Per-candidate exam fee: (regular tier, preferred and strategic partners).
_EXAM_FEES = {
    Region.MAINLAND_CHINA: ("CNY", "180.00", "150.00"),
    Region.HK_MACAU_TAIWAN: ("HKD", "198.00", "165.00"),
    Region.OVERSEAS: ("USD", "26.50", "19.80"),
}
_BETTER_TIERS = frozenset({Tier.PREFERRED, Tier.STRATEGIC_PARTNER})

FEE_RULES = (
    deposits_by_region_and_tier(
        _DEPOSITS,
        name="Learner-protection deposit",
        note="Refundable at exit, less learner refunds and penalty deductions paid from it.",
    )
    + fees_by_region(
        _ANNUAL_FEES,
        key="annual_listing_fee",
        name="Annual course-catalogue listing fee",
        kind=FeeKind.ANNUAL_FEE,
        note="Lists the institution's courses in the seller-facing catalogue for one year.",
    )
    + [
        FeeRule(
            key="certification_exam_fee",
            name="Platform certification exam fee",
            kind=FeeKind.PER_UNIT_FEE,
            amount=Money.of(amount, currency),
            regions=frozenset({region}),
            tiers=tiers,
            unit="candidate",
            note="Per candidate sitting the platform's certification exam.",
        )
        for region, (currency, regular, better) in _EXAM_FEES.items()
        for tiers, amount in ((frozenset({Tier.REGULAR}), regular), (_BETTER_TIERS, better))
    ]
    + commission_by_tier(
        _COMMISSION,
        key="course_sales_commission",
        name="Platform commission on course sales",
        note="Share of the price of each course sold through the platform.",
    )
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


# A course runs for weeks: a quarter with two pilot cohorts; a longer cool-down.
ONBOARDING = OnboardingPolicy(
    agreements=standard_agreements(CATEGORY.name),
    probation_days=90,
    pilot_order_quota=2,
    probation_extension_days=45,
    reapply_cooldown_days=180,
)


@hookimpl
def linkstar_onboarding_policy(category: ServiceCategory) -> OnboardingPolicy | None:
    return ONBOARDING if category.key == KEY else None


# --- marketplace: what a seller's request for training says ----------------------------------

REQUEST_REQUIREMENTS = ProfileSchema(
    KEY,
    TextListField("topics", max_items=20),
    IntField("seats", minimum=1, maximum=10_000),
    EnumField("delivery_format", optional=True, choices=TrainingDeliveryFormat),
)


@hookimpl
def linkstar_request_requirements(category: ServiceCategory) -> ProfileSchema | None:
    return REQUEST_REQUIREMENTS if category.key == KEY else None


@hookimpl
def linkstar_dispatch_policy(category: ServiceCategory) -> DispatchPolicy | None:
    # New institutions need a chance to prove themselves: explore more than the default.
    return (
        DispatchPolicy(response_deadline=timedelta(hours=48), exploration_share=Decimal("0.3"))
        if category.key == KEY
        else None
    )


# Which order events give this category's metrics platform-sourced data.
ORDER_OBSERVATIONS = [
    ObservationRule(
        OrderEventKind.MILESTONE_DELIVERED, "sessions_delivered_as_scheduled", delivered_on_time
    ),
    ObservationRule(OrderEventKind.ORDER_CANCELLED, "course_completion_rate", task_failed),
    ObservationRule(OrderEventKind.ORDER_COMPLETED, "learner_satisfaction", seller_rating),
    # a seller's question to the institution (a ticket): hours to the first answer
    ObservationRule(
        OrderEventKind.TICKET_FIRST_RESPONSE, "learner_question_response_time", response_hours
    ),
]


@hookimpl
def linkstar_order_observations(category: ServiceCategory) -> list[ObservationRule] | None:
    return ORDER_OBSERVATIONS if category.key == KEY else None
