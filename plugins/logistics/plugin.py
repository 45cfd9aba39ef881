"""Logistics solutions (物流解决方案): KPIs, documents, fees, profile, and its own lanes table.

KPIs follow what sellers pay a logistics provider for: parcels arrive on time, arrive intact,
claims are settled quickly, tracking starts promptly, and sellers are satisfied. The plugin's
own table (`logistics_lanes`) is created by its own Alembic branch (see `migrations/`).
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.plugins.logistics.models import LogisticsLane, LogisticsMode
from linkstar.plugins.logistics.profile import SPEC, LogisticsLaneType
from linkstar.schema.plugin_api import (
    Aggregation,
    AggregationKind,
    CategoryProfileSpec,
    ChargeOccasionKind,
    Direction,
    DispatchPolicy,
    DocumentRequirement,
    EnumListField,
    FeeKind,
    FeeRule,
    MetricDefinition,
    Money,
    ObservationRule,
    OnboardingPolicy,
    OrderEventKind,
    PenaltyRule,
    ProfileSchema,
    Region,
    ScoringCurve,
    ScoringPolicy,
    ServiceCategory,
    TextField,
    Tier,
    Unit,
    commission_by_tier,
    delivered_on_time,
    deposits_by_region_and_tier,
    documents,
    fees_by_region,
    hookimpl,
    seller_rating,
    standard_agreements,
)

KEY = "logistics"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

CATEGORY = ServiceCategory(
    key=KEY,
    name="Logistics solutions (物流解决方案)",
    description=(
        "Freight forwarders, express and overseas-warehouse operators that move sellers' goods "
        "from China to marketplace buyers, judged on punctuality, loss and damage, claim "
        "handling, tracking and seller satisfaction."
    ),
    position=30,
    # customs and carriage records are kept five years; the firm's papers follow them
    document_retention_days=5 * 365,
    interview_required=False,
)

METRICS = [
    MetricDefinition(
        key="on_time_delivery_rate",
        name="On-time delivery rate",
        description=(
            "One observation per shipment delivered in the month: 1 if delivered by the promised "
            "date of its lane, 0 if late. The value is the share of 1s, in percent."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("95"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("30"),
        min_sample_size=50,
        warning_band=Decimal("1"),
        curve=ScoringCurve(floor=Decimal("80"), target=Decimal("99")),
    ),
    MetricDefinition(
        key="loss_damage_rate",
        name="Loss and damage rate",
        description=(
            "One observation per shipment closed in the month: 1 if it was lost or arrived "
            "damaged (a confirmed claim), 0 if it arrived intact. Here a 1 is an incident, not a "
            "kept promise; the value is the share of 1s in percent and lower is better. Below "
            "200 shipments a single incident alone would exceed 0.5%, so no verdict is given."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("0.5"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("20"),
        min_sample_size=200,
        warning_band=Decimal("0.1"),
        curve=ScoringCurve(floor=Decimal("2"), target=Decimal("0.1")),
    ),
    MetricDefinition(
        key="claim_resolution_time",
        name="Claim resolution time",
        description=(
            "Hours from a seller filing a loss or damage claim to its resolution (compensation "
            "paid or a documented rejection). The p90 counts, so a few claims left hanging "
            "cannot hide behind a good average."
        ),
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal("72"),
        aggregation=Aggregation(AggregationKind.PERCENTILE, {"percentile": Decimal("90")}),
        weight=Decimal("15"),
        min_sample_size=10,
        warning_band=Decimal("8"),
        curve=ScoringCurve(floor=Decimal("168"), target=Decimal("24")),
    ),
    MetricDefinition(
        key="first_scan_within_24h",
        name="First tracking scan within 24 hours",
        description=(
            "One observation per shipment handed over in the month: 1 if the first carrier "
            "tracking scan was recorded within 24 hours of hand-over, 0 if later or never. The "
            "value is the share of 1s, in percent (buyers and marketplaces see the tracking)."
        ),
        unit=Unit.PERCENT,
        observed_unit=Unit.OUTCOME,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal("98"),
        aggregation=Aggregation(AggregationKind.RATIO_OF_COUNTS),
        weight=Decimal("15"),
        min_sample_size=50,
        warning_band=Decimal("0.5"),
        curve=ScoringCurve(floor=Decimal("90"), target=Decimal("99.5")),
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

DOCUMENTS = [
    documents.business_licence(),
    documents.company_registration(),
    documents.legal_representative_id(),
    documents.contact_person_id(),
    documents.team_composition(
        description=(
            "Headcount by role (operations, customs brokers, customer service, drivers) with "
            "key members' backgrounds."
        )
    ),
    documents.service_cases(
        description=(
            "At least three seller cases: lanes served, monthly volume, on-time and loss rates "
            "achieved."
        )
    ),
    documents.service_price_list(
        description="Rate card per lane and mode by weight break, with surcharges and billing unit."
    ),
    documents.platform_certifications(
        description=(
            "Marketplace logistics programme certificates, e.g. Amazon SPN freight, Shopee SLS, "
            "TikTok Shop carrier."
        )
    ),
    DocumentRequirement(
        key="freight_forwarding_licence",
        name="Freight forwarding / NVOCC filing (无船承运业务备案)",
        description=(
            "NVOCC filing with the Ministry of Transport for mainland entities, or the freight "
            "forwarder / ocean transportation intermediary licence of the registering jurisdiction."
        ),
        expires=True,
    ),
    DocumentRequirement(
        key="cargo_insurance_policy",
        name="Cargo insurance policy",
        description="Current cargo transit insurance policy: cover per shipment and per year.",
        expires=True,
    ),
    DocumentRequirement(
        key="customs_registration",
        name="Customs registration (海关备案)",
        description=(
            "Registration with China Customs as a consignor/consignee or as a customs "
            "declaration entity."
        ),
        regions=frozenset({Region.MAINLAND_CHINA}),
    ),
]

# Deposit by region (in the region's settlement currency) and tier; better tiers put up less.
# Logistics deposits are higher than agency ones: a lost container costs sellers more.
_DEPOSITS = {
    Region.MAINLAND_CHINA: (
        "CNY",
        {Tier.REGULAR: "30000.00", Tier.PREFERRED: "15000.00", Tier.STRATEGIC_PARTNER: "8000.00"},
    ),
    Region.HK_MACAU_TAIWAN: (
        "HKD",
        {Tier.REGULAR: "35000.00", Tier.PREFERRED: "18000.00", Tier.STRATEGIC_PARTNER: "9000.00"},
    ),
    Region.OVERSEAS: (
        "USD",
        {Tier.REGULAR: "4500.00", Tier.PREFERRED: "2200.00", Tier.STRATEGIC_PARTNER: "1200.00"},
    ),
}
_ANNUAL_FEES = {
    Region.MAINLAND_CHINA: Money.of("6800.00", "CNY"),
    Region.HK_MACAU_TAIWAN: Money.of("7800.00", "HKD"),
    Region.OVERSEAS: Money.of("1000.00", "USD"),
}
# Freight margins are thin, so the commission is lower than for store operations.
_COMMISSION = {Tier.REGULAR: "3", Tier.PREFERRED: "2.5", Tier.STRATEGIC_PARTNER: "2"}

FEE_RULES = (
    deposits_by_region_and_tier(
        _DEPOSITS,
        note="Refundable at exit, less any penalty deductions (e.g. unpaid loss claims).",
        # carriers handle sellers' goods: no orders before the deposit is paid; a tier change
        # to a tier with a higher deposit calls the difference; below half of it, a top-up;
        # refunded 180 days after exit (the window for late loss claims)
        charged_on=frozenset({ChargeOccasionKind.APPROVAL, ChargeOccasionKind.TIER_CHANGE}),
        before_pool=True,
        minimum_percent=Decimal(50),
        retention_days=180,
    )
    + fees_by_region(
        _ANNUAL_FEES,
        key="annual_fee",
        name="Annual platform fee",
        kind=FeeKind.ANNUAL_FEE,
        note="Tracking-data integration and listing in the logistics provider pool.",
        charged_on=frozenset({ChargeOccasionKind.APPROVAL, ChargeOccasionKind.RENEWAL}),
    )
    + commission_by_tier(
        _COMMISSION,
        key="order_commission",
        name="Platform commission on dispatched orders",
        note="Share of the freight charge of each shipment the platform dispatches.",
    )
)

# Realistic lanes: (origin, destination, mode, typical door-to-door transit days).
DEMO_LANES: list[tuple[str, str, LogisticsMode, int]] = [
    ("CN", "US", LogisticsMode.SEA_FREIGHT, 28),
    ("CN", "US", LogisticsMode.AIR_EXPRESS, 5),
    ("CN", "DE", LogisticsMode.RAIL, 18),
    ("CN", "PL", LogisticsMode.RAIL, 16),
    ("CN", "GB", LogisticsMode.AIR_FREIGHT, 7),
    ("CN", "SG", LogisticsMode.AIR_EXPRESS, 4),
    ("CN", "JP", LogisticsMode.SEA_FREIGHT, 9),
    ("CN", "AU", LogisticsMode.SEA_FREIGHT, 21),
    ("CN", "MX", LogisticsMode.AIR_FREIGHT, 8),
    ("CN", "MY", LogisticsMode.TRUCK, 6),
    ("CN", "VN", LogisticsMode.TRUCK, 3),
]


@hookimpl
def linkstar_service_categories() -> list[ServiceCategory]:
    return [CATEGORY]


@hookimpl
def linkstar_metric_definitions(category: ServiceCategory) -> list[MetricDefinition] | None:
    return METRICS if category.key == KEY else None


@hookimpl
def linkstar_required_documents(category: ServiceCategory) -> list[DocumentRequirement] | None:
    return DOCUMENTS if category.key == KEY else None


# Restricted intake for lost or late parcels costs part of the month's order revenue.
PENALTY_RULES = [
    PenaltyRule(
        key="restricted_intake_penalty",
        name="Restricted-intake deduction",
        on="RESTRICTED_INTAKE",
        revenue_percent=Decimal("3"),
        caps=(Money.of("3500.00", "CNY"), Money.of("4000.00", "HKD"), Money.of("500.00", "USD")),
        note="3 % of the month's order revenue, at most CNY 3,500 (HKD 4,000, USD 500).",
    )
]


@hookimpl
def linkstar_penalty_rules(category: ServiceCategory) -> list[PenaltyRule] | None:
    return PENALTY_RULES if category.key == KEY else None


@hookimpl
def linkstar_fee_rules(category: ServiceCategory) -> list[FeeRule] | None:
    return FEE_RULES if category.key == KEY else None


@hookimpl
def linkstar_category_profile(category: ServiceCategory) -> CategoryProfileSpec | None:
    return SPEC if category.key == KEY else None


@hookimpl
def linkstar_graphql_types() -> list[type]:
    return [LogisticsLaneType]


@hookimpl
def linkstar_migration_locations() -> list[str]:
    return [str(MIGRATIONS)]


@hookimpl
async def linkstar_demo_data(
    category: ServiceCategory,
    session: AsyncSession,
    provider_ids: list[int],
    rng: random.Random,
) -> None:
    """2–4 distinct lanes per provider, drawn from DEMO_LANES."""
    if category.key != KEY:
        return None
    session.add_all(
        LogisticsLane(
            provider_id=provider_id,
            origin_country=origin,
            destination_country=destination,
            mode=mode,
            typical_transit_days=days,
        )
        for provider_id in provider_ids
        for origin, destination, mode, days in rng.sample(DEMO_LANES, rng.randrange(2, 5))
    )
    return None


@hookimpl
async def linkstar_demo_request(
    category: ServiceCategory,
    session: AsyncSession,
    provider_id: int,
    rng: random.Random,
) -> dict | None:
    """A shipment on one of the provider's lanes, so `covers_lane` matches it."""
    if category.key != KEY:
        return None
    lanes = (
        await session.execute(
            select(
                LogisticsLane.origin_country, LogisticsLane.destination_country, LogisticsLane.mode
            )
            .where(LogisticsLane.provider_id == provider_id)
            .order_by(LogisticsLane.id)
        )
    ).all()
    if not lanes:
        return None
    origin, destination, mode = rng.choice(lanes)
    return {
        "origin_country": origin,
        "destination_country": destination,
        "modes": [LogisticsMode(mode).value],
    }


# Logistics is judged per shipment: 60 days and twenty pilot shipments give a sample.
ONBOARDING = OnboardingPolicy(
    agreements=standard_agreements(CATEGORY.name),
    probation_days=60,
    pilot_order_quota=20,
    probation_extension_days=30,
    reapply_cooldown_days=60,
)


@hookimpl
def linkstar_onboarding_policy(category: ServiceCategory) -> OnboardingPolicy | None:
    return ONBOARDING if category.key == KEY else None


# Carrier strikes and customs holds are routinely not the forwarder's fault: its own
# not-attributable claims and corrections of up to 1% of a month's records count at once;
# beyond that a reviewer decides.
SCORING = ScoringPolicy(auto_accept_claims_percent=Decimal("1"))


@hookimpl
def linkstar_scoring_policy(category: ServiceCategory) -> ScoringPolicy | None:
    return SCORING if category.key == KEY else None


# --- marketplace: what a seller's shipping request says, and who can carry it ----------------

REQUEST_REQUIREMENTS = ProfileSchema(
    KEY,
    TextField("origin_country", max_length=2),
    TextField("destination_country", max_length=2),
    EnumListField("modes", optional=True, choices=LogisticsMode),
)


def covers_lane(requirements: dict, provider_id: object) -> object:
    """Set-based match rule: the provider has a lane on the requested route (and mode)."""
    lane = LogisticsLane
    conditions = [
        lane.provider_id == provider_id,
        lane.origin_country == requirements["origin_country"].upper(),
        lane.destination_country == requirements["destination_country"].upper(),
    ]
    if requirements.get("modes"):
        conditions.append(lane.mode.in_(requirements["modes"]))
    return exists().where(*conditions)


@hookimpl
def linkstar_request_requirements(category: ServiceCategory) -> ProfileSchema | None:
    return REQUEST_REQUIREMENTS if category.key == KEY else None


@hookimpl
def linkstar_dispatch_policy(category: ServiceCategory) -> DispatchPolicy | None:
    # Shipments move fast: an offer waits 4 hours, and only carriers on the lane are asked.
    return (
        DispatchPolicy(response_deadline=timedelta(hours=4), max_open_orders=50, match=covers_lane)
        if category.key == KEY
        else None
    )


# Which order events give this category's metrics platform-sourced data.
ORDER_OBSERVATIONS = [
    ObservationRule(OrderEventKind.MILESTONE_DELIVERED, "on_time_delivery_rate", delivered_on_time),
    ObservationRule(OrderEventKind.ORDER_COMPLETED, "seller_satisfaction", seller_rating),
]


@hookimpl
def linkstar_order_observations(category: ServiceCategory) -> list[ObservationRule] | None:
    return ORDER_OBSERVATIONS if category.key == KEY else None
