"""`linkstar demo`: a realistic, reproducible data set so a new user sees a populated graph.

Providers in every loaded category and all three regions, with category profiles from each
plugin and six months of KPI observations generated from each metric's own definition.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import NormalDist
from typing import Any

from rich.progress import Progress
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc

from linkstar.core.contract.registry import Registry
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    Marketplace,
    ObservationSource,
    Region,
    Tier,
)
from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.evaluation import PeriodNotClosed
from linkstar.core.kpi.metrics import MetricDefinition
from linkstar.core.kpi.units import UNIT_RANGES, Unit
from linkstar.core.marketplace.signals import OrderEventKind
from linkstar.core.runtime import tables as models
from linkstar.core.runtime.demo_marketplace import create_sellers, load_marketplace_demo, play_month
from linkstar.core.standing.verdicts import evaluate_period

MONTHS = 6
PLAYED_MONTHS = MONTHS  # the closed months whose order-fed KPI data comes from orders: all
_CITIES = ["Shenzhen", "Hangzhou", "Guangzhou", "Xiamen", "Ningbo", "Yiwu", "Shanghai", "Fuzhou"]
_HKMT = ["Hong Kong", "Kowloon", "Macau", "Taipei"]
_OVERSEAS = ["Singapore", "Kuala Lumpur", "Jakarta", "Los Angeles", "London", "Ho Chi Minh City"]
_WORDS = [
    "Haixing",
    "Yuntu",
    "Xinghe",
    "Lianchuang",
    "Boyuan",
    "Tianqiao",
    "Jinfeng",
    "Ruida",
    "Hongtu",
    "Qiming",
]
_STATUSES = [ApplicationStatus.ACTIVE] * 6 + [
    ApplicationStatus.PROBATION,
    ApplicationStatus.IN_REVIEW,
]
_TIERS = [Tier.REGULAR] * 4 + [Tier.PREFERRED] * 2 + [Tier.STRATEGIC_PARTNER]


def mainland_uscc(rng: random.Random) -> str:
    """A unified social credit code with a correct GB 32100-2015 check character."""
    body = (
        "9144"
        + "".join(rng.choice("0123456789") for _ in range(4))
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    return body + uscc.calc_check_digit(body)


def _identity(
    rng: random.Random, region: Region, category_name: str, index: int
) -> tuple[str, str]:
    word = _WORDS[index % len(_WORDS)]
    if region is Region.MAINLAND_CHINA:
        city = rng.choice(_CITIES)
        return f"{city} {word} {category_name} Co., Ltd.", mainland_uscc(rng)
    if region is Region.HK_MACAU_TAIWAN:
        city = rng.choice(_HKMT)
        return f"{word} {category_name} ({city}) Limited", f"BR{rng.randrange(10**7, 10**8)}"
    city = rng.choice(_OVERSEAS)
    return f"{word} {category_name} {city} Pte. Ltd.", f"REG-{rng.randrange(10**8, 10**9)}"


def _month_starts(now: datetime) -> list[datetime]:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    for _ in range(MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return list(reversed(months))


def _aim(metric: MetricDefinition, skill: float) -> float:
    """Where a provider of `skill` (0..1) lands on the metric's scoring curve: 0.35 short of the
    threshold, 0.5 a little past it, 1.0 beyond the target (so the demo spreads like a pool)."""
    curve = metric.scoring_curve()
    threshold, target, floor = (float(v) for v in (metric.threshold, curve.target, curve.floor))
    position = 2.0 * skill - 0.75
    if position >= 0:
        value = threshold + (target - threshold) * position
    else:
        value = threshold + (threshold - floor) * position
    low, high = UNIT_RANGES[metric.unit]
    return min(float(high) if high is not None else value, max(float(low or 0), value))


def _values(
    metric: MetricDefinition, rng: random.Random, skill: float, stores: int
) -> list[tuple[str, Decimal]]:
    """Observations for one month of one metric, centred where `_aim` puts the provider."""
    kind = metric.aggregation.kind
    # three times the minimum sample: enough that noise alone rarely decides a verdict
    count = max(3 * metric.min_sample_size + rng.randrange(0, 8), 3)
    aim = _aim(metric, skill)
    if kind is AggregationKind.RATIO_OF_COUNTS:
        p = min(0.9995, max(0.0005, aim / 100))
        return [(f"client-{i % stores}", Decimal(int(rng.random() < p))) for i in range(count)]
    if kind is AggregationKind.SHARE_AT_OR_ABOVE or metric.observed_unit is Unit.RATING:
        p = min(0.999, max(0.001, aim / 100))  # the share of ratings at or above the cutoff
        return [
            (
                f"client-{i % stores}",
                Decimal(rng.choice([4, 5, 5]) if rng.random() < p else rng.choice([1, 2, 3, 3])),
            )
            for i in range(count)
        ]
    if kind is AggregationKind.GROWTH:
        return [(f"store-{i}", Decimal(0)) for i in range(stores)]  # filled by load_demo
    if kind is AggregationKind.LATEST:
        return [("platform", Decimal(str(round(aim, 2))))]
    low, high = UNIT_RANGES[metric.unit]
    if high is not None:  # a bounded measure (uptime %): a narrow spread inside the range
        spread = abs(float(metric.scoring_curve().target - metric.threshold)) or 1.0
        return [
            (
                f"client-{i % stores}",
                Decimal(str(round(min(float(high), max(float(low), rng.gauss(aim, spread))), 2))),
            )
            for i in range(count)
        ]
    # durations / amounts spread ±20% around a centre that puts the aggregate at the aim
    if kind is AggregationKind.PERCENTILE:
        z = NormalDist().inv_cdf(min(0.999, float(metric.aggregation.params["percentile"]) / 100))
        centre = aim / (1 + 0.2 * z)
    elif kind is AggregationKind.MAXIMUM:
        centre = aim / 1.5
    else:
        centre = aim
    centre = max(centre, 0.1)
    return [
        (f"client-{i % stores}", Decimal(str(round(max(0.1, rng.gauss(centre, centre * 0.2)), 2))))
        for i in range(count)
    ]


def _chances(contribution: Any, skill: float) -> tuple[float, float]:
    """(on time, satisfied): the chance that a provider of `skill` delivers a milestone on
    time and that a seller rates it 4-5, where its category's own metrics put it (`_aim`)."""
    on_time, satisfied = 0.9, 0.85
    metrics = {m.key: m for m in contribution.metrics}
    for rule in contribution.order_observations:
        metric = metrics[rule.metric]
        if rule.event is OrderEventKind.MILESTONE_DELIVERED:
            on_time = _aim(metric, skill) / 100
        elif rule.event is OrderEventKind.ORDER_COMPLETED and metric.observed_unit is Unit.RATING:
            satisfied = _aim(metric, skill) / 100
    return min(0.995, max(0.05, on_time)), min(0.995, max(0.05, satisfied))


async def _top_up(
    session: AsyncSession,
    registry: Registry,
    label: str,
    month: datetime,
    held: dict[tuple[str, int, str, str], list[dict[str, Any]]],
) -> None:
    """Add the held-back generated rows a played month still needs: per provider and metric,
    what the orders left short of the metric's minimum sample (the orders' data stays)."""
    end = (month + timedelta(days=32)).replace(day=1)
    made = dict(
        (
            (key, pid, metric),
            n,
        )
        for key, pid, metric, n in (
            await session.execute(
                select(
                    models.KpiObservation.category_key,
                    models.KpiObservation.provider_id,
                    models.KpiObservation.metric_key,
                    func.count(),
                )
                .where(
                    models.KpiObservation.reported_by == "platform:orders",
                    models.KpiObservation.observed_at >= month,
                    models.KpiObservation.observed_at < end,
                )
                .group_by(
                    models.KpiObservation.category_key,
                    models.KpiObservation.provider_id,
                    models.KpiObservation.metric_key,
                )
            )
        ).all()
    )
    rows = []
    for (held_label, pid, key, metric_key), generated in held.items():
        if held_label != label:
            continue
        metric = next(m for m in registry.category(key).metrics if m.key == metric_key)
        short = max(0, metric.min_sample_size - made.get((key, pid, metric_key), 0))
        if metric.aggregation.kind is AggregationKind.GROWTH:
            short = len(generated)  # store sales: its subjects need every month
        rows.extend(generated[:short])
    if rows:
        await session.execute(insert(models.KpiObservation), rows)
    await session.flush()


async def load_demo(
    session: AsyncSession,
    registry: Registry,
    *,
    seed: int = 2026,
    per_category: int = 6,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Insert the demo data set through `session` (caller commits). Returns row counts.

    With `progress`, shows providers generated and months evaluated as they go.
    """
    progress = progress or Progress(disable=True)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    months = _month_starts(now)
    providers: list[models.Provider] = []
    holders: dict[str, list[tuple[models.Provider, float]]] = {}
    regions = list(Region)
    for key, contribution in registry.categories.items():
        holders[key] = []
        for index in range(per_category):
            region = regions[index % len(regions)]
            name, number = _identity(
                rng, region, contribution.category.name.split(" (")[0], index + len(providers)
            )
            provider = models.Provider(legal_name=name, region=region, registration_number=number)
            provider.marketplaces = [
                models.ProviderMarketplace(marketplace=m)
                for m in rng.sample(list(Marketplace)[:6], rng.randrange(1, 4))
            ]
            session.add(provider)
            providers.append(provider)
            holders[key].append((provider, 0.35 + 0.65 * rng.random() ** 0.7))  # most are decent
    # a few providers hold a second category, as real agencies that also train sellers do
    keys = list(registry.categories)
    if len(keys) > 1:
        for key_index, key in enumerate(keys):
            second = keys[(key_index + 1) % len(keys)]
            holders[second].append((holders[key][0][0], rng.random()))
    await session.flush()

    observations: list[dict[str, Any]] = []
    # the last PLAYED_MONTHS closed months get the order-fed metrics' data from orders: their
    # generated rows are held back, to top up only what the orders leave short of a verdict
    played = {f"{m:%Y-%m}" for m in months[-PLAYED_MONTHS:]}
    held_back: dict[tuple[str, int, str, str], list[dict[str, Any]]] = {}
    players: dict[str, list[tuple[int, float, float]]] = {key: [] for key in holders}
    applications = 0
    generating = progress.add_task(
        "generating providers' KPIs",
        total=sum(len(h) for h in holders.values()),
        unit="providers",
    )
    for key, held in holders.items():
        contribution = registry.categories[key]
        for provider, skill in held:
            status = rng.choice(_STATUSES)
            application = models.Application(
                provider_id=provider.id,
                category_key=key,
                status=status,
                tier=rng.choice(_TIERS) if status is ApplicationStatus.ACTIVE else Tier.REGULAR,
            )
            if status is ApplicationStatus.PROBATION:  # half-way through its probation
                policy = contribution.onboarding
                application.probation_started_at = now - timedelta(days=policy.probation_days // 2)
                application.probation_ends_at = application.probation_started_at + timedelta(
                    days=policy.probation_days
                )
                application.pilot_order_quota = policy.pilot_order_quota
            session.add(application)
            applications += 1
            if contribution.profile is not None:
                data = contribution.profile.validate(
                    contribution.profile.demo(rng, provider.region)
                )
                session.add(
                    models.CategoryProfileRow(provider_id=provider.id, category_key=key, data=data)
                )
            session.add(
                models.DomainEvent(
                    event_type="application.created",
                    subject_type="Provider",
                    subject_id=provider.id,
                    provider_id=provider.id,
                    actor="demo",
                    payload={"category": key, "status": status.value},
                )
            )
            progress.advance(generating)
            if status is ApplicationStatus.IN_REVIEW:
                continue
            players[key].append((provider.id, *_chances(contribution, skill)))
            fed = {rule.metric for rule in contribution.order_observations}
            stores = rng.randrange(3, 7)
            for metric in contribution.metrics:
                base = {
                    f"store-{s}": Decimal(rng.randrange(20_000, 400_000)) for s in range(stores)
                }
                for month_index, month in enumerate(months):
                    # a provider has better and worse months
                    monthly = min(1.0, max(0.0, skill + rng.gauss(0, 0.04)))
                    values = _values(metric, rng, monthly, stores)
                    if metric.aggregation.kind is AggregationKind.GROWTH:
                        growth = 1 + _aim(metric, monthly) / 100 + rng.uniform(-0.03, 0.03)
                        base = {
                            s: (v * Decimal(str(round(growth, 4)))).quantize(Decimal("0.01"))
                            for s, v in base.items()
                        }
                        values = list(base.items())
                    label = f"{month:%Y-%m}"
                    target = observations
                    if label in played and metric.key in fed:
                        target = held_back.setdefault((label, provider.id, key, metric.key), [])
                    for i, (subject, value) in enumerate(values):
                        observed = month + timedelta(
                            days=rng.randrange(0, 27), hours=rng.randrange(0, 24)
                        )
                        target.append(
                            {
                                "provider_id": provider.id,
                                "category_key": key,
                                "metric_key": metric.key,
                                "subject_ref": subject,
                                "observed_at": observed,
                                "value": value,
                                "source": ObservationSource.PLATFORM
                                if i % 3
                                else ObservationSource.SELF_REPORTED,
                                "attributable": not (i == 0 and month_index == 2 and skill < 0.3),
                                "non_attributable_reason": "seller changed the brief late"
                                if (i == 0 and month_index == 2 and skill < 0.3)
                                else None,
                                "idempotency_key": f"demo:{key}:{metric.key}:{month:%Y-%m}:{i}",
                                "reported_by": "demo",
                                "reported_at": observed + timedelta(hours=2),
                            }
                        )
        await registry.call_each(
            "linkstar_demo_data",
            category=contribution.category,
            session=session,
            provider_ids=[p.id for p, _ in held],
            rng=rng,
        )
    if observations:
        await session.execute(insert(models.KpiObservation), observations)
    await session.flush()
    scorecards = 0
    orders_played = 0
    sellers = await create_sellers(session)
    evaluating = progress.add_task(
        "evaluating months", total=len(months) * len(registry.categories), unit="categories"
    )
    for month in months:  # oldest first, so history, ladders and tiers build up as in production
        label = f"{month:%Y-%m}"
        if label in played:  # the month's orders, as of its own days, then the top-ups
            orders_played += (await play_month(session, registry, rng, sellers, month, players))[
                "orders"
            ]
            await _top_up(session, registry, label, month, held_back)
        try:
            summaries = await evaluate_period(
                session,
                registry,
                f"{month + timedelta(days=10):%Y-%m}",
                by="demo",
                on_category=lambda *_: progress.advance(evaluating),
            )
        except PeriodNotClosed:
            continue  # still in its grace period: the scheduler evaluates it when it closes
        scorecards += sum(s.written for s in summaries.values())
    # Sellers' requests and orders through the real dispatch: this month's platform data.
    market = await load_marketplace_demo(session, registry, rng, sellers)
    summaries = await evaluate_period(session, registry, f"{months[-1] + timedelta(days=10):%Y-%m}")
    scorecards += sum(s.written for s in summaries.values())
    market["orders"] += orders_played
    return {
        "providers": len(providers),
        "applications": applications,
        "observations": len(observations),
        "scorecards": scorecards,
        **market,
    }


async def has_providers(session: AsyncSession) -> bool:
    """Whether any provider exists (for `linkstar demo --if-empty`)."""
    return (
        await session.execute(select(func.count()).select_from(models.Provider))
    ).scalar_one() > 0
