"""The money sweep: charges due at renewal and at tier change, deposit top-ups, and the
deposit's refund at exit once the retention period is over.

Every server runs it hourly, so nothing waits for an operator; `linkstar money-sweep` runs it
once (e.g. from cron). Safe to run again and from several processes at once: the sweeps take
turns, and every step is idempotent (charges have dedupe keys, ledger entries idempotency
keys), so each charge and refund happens once. The
rules — what is charged when, how much a deposit tops up, what a refund keeps back — live in
`core/billing/charges.py`; this module only finds who is due, across the domains.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import charges as billing
from linkstar.core.billing import deposits
from linkstar.core.billing.models import Charge
from linkstar.core.contract.registry import Registry
from linkstar.core.fees.rules import ChargeOccasionKind, FeeKind, quote
from linkstar.core.kernel.db import take_turns, utcnow
from linkstar.core.kernel.telemetry import log_failure
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider
from linkstar.core.standing.models import TierChange

log = logging.getLogger("linkstar")
SWEEP_INTERVAL_SECONDS = 3600
# Tier changes younger than this are looked at (the sweep runs daily; a missed day is caught).
TIER_CHANGE_WINDOW = timedelta(days=7)
IN_THE_POOL = (ApplicationStatus.ACTIVE, ApplicationStatus.PROBATION)
LEFT = (ApplicationStatus.TERMINATED, ApplicationStatus.WITHDRAWN)


@dataclass(frozen=True, slots=True)
class SweepSummary:
    """What one sweep did."""

    renewal_charges: int
    tier_change_charges: int
    top_ups: int
    deposit_refunds: int


def _charged_on(registry: Registry, category: str, occasion: ChargeOccasionKind) -> bool:
    return any(occasion in r.charged_on for r in registry.category(category).fee_rules)


async def _occasion(
    session: AsyncSession, app: Application, name: str, tier: object = None
) -> billing.ChargeOccasion:
    provider = await session.get(Provider, app.provider_id)
    assert provider is not None  # the application's foreign key
    return billing.ChargeOccasion(
        name=name,
        provider_id=app.provider_id,
        application_id=app.id,
        category=app.category_key,
        region=provider.region,
        tier=tier or app.tier,  # type: ignore[arg-type]
    )


async def sweep(
    session: AsyncSession, registry: Registry, now: datetime | None = None
) -> SweepSummary:
    """Issue what is due and refund what may be refunded, as of `now`. Concurrent sweeps
    take turns: the later one finds the earlier one's charges and issues nothing twice."""
    now = now or utcnow()
    await take_turns(session, Charge, "money-sweep")
    categories = [key for key in registry.categories]
    renewals = tier_changes = top_ups = refunds = 0
    for category in categories:
        rules = registry.category(category).fee_rules
        if _charged_on(registry, category, ChargeOccasionKind.RENEWAL):
            rows = await session.execute(
                select(Application).where(
                    Application.category_key == category,
                    Application.status == ApplicationStatus.ACTIVE,
                    Application.decided_at.is_not(None),
                )
            )
            for app in rows.scalars():
                years = _full_years(app.decided_at, now)
                for year in range(1, years + 1):
                    occasion = await _occasion(session, app, f"RENEWAL:{year}")
                    renewals += len(
                        await _new(session, billing.issue_charges(session, occasion, rules))
                    )
        if _charged_on(registry, category, ChargeOccasionKind.TIER_CHANGE):
            rows = await session.execute(
                select(TierChange, Application)
                .join(Application, Application.id == TierChange.application_id)
                .where(
                    TierChange.category_key == category,
                    TierChange.created_at >= now - TIER_CHANGE_WINDOW,
                    TierChange.reversed_at.is_(None),
                )
            )
            for change, app in rows.all():
                occasion = await _occasion(session, app, f"TIER_CHANGE:{change.id}", change.to_tier)
                tier_changes += len(
                    await _new(session, billing.issue_charges(session, occasion, rules))
                )
        deposit_rules = [r for r in rules if r.kind is FeeKind.DEPOSIT]
        if not deposit_rules:
            continue
        if any(r.minimum is not None for r in deposit_rules):
            rows = await session.execute(
                select(Application).where(
                    Application.category_key == category, Application.status.in_(IN_THE_POOL)
                )
            )
            for app in rows.scalars():
                occasion = await _occasion(session, app, "TOP_UP")
                top_ups += len(await deposits.top_up(session, occasion, rules))
        rows = await session.execute(
            select(Application).where(
                Application.category_key == category, Application.status.in_(LEFT)
            )
        )
        for app in rows.scalars():
            refunds += await _refund_after_retention(session, app, rules, now)
    return SweepSummary(renewals, tier_changes, top_ups, refunds)


async def _refund_after_retention(
    session: AsyncSession, app: Application, rules: object, now: datetime
) -> int:
    """Refund the deposit of a provider that left the category, once the retention period of
    its deposit rule has passed since it left (the application's last change), unless it is
    in the category's pool again (then the deposit is its new membership's)."""
    back = (
        await session.execute(
            select(Application.id).where(
                Application.provider_id == app.provider_id,
                Application.category_key == app.category_key,
                Application.status.in_(IN_THE_POOL),
            )
        )
    ).first()
    if back is not None:
        return 0
    occasion = await _occasion(session, app, "EXIT")
    fee_quote = quote(app.category_key, rules, occasion.region, occasion.tier)  # type: ignore[arg-type]
    done = 0
    for line in fee_quote.lines:
        if line.kind is not FeeKind.DEPOSIT or line.rule is None or line.amount is None:
            continue
        if app.updated_at + timedelta(days=line.rule.retention_days) > now:
            continue
        refund = await deposits.refund_deposit(
            session,
            provider_id=app.provider_id,
            category=app.category_key,
            application_id=app.id,
            currency=line.amount.currency,
        )
        done += refund is not None
    return done


async def _new(session: AsyncSession, issuing: object) -> list[Charge]:
    """The charges an issue call created now (it returns those issued before, too)."""
    before = (await session.execute(select(Charge.id).order_by(Charge.id.desc()))).first()
    last = before[0] if before else 0
    issued = await issuing  # type: ignore[misc]
    return [c for c in issued if c.id > last]


def _full_years(start: datetime, now: datetime) -> int:
    years = now.year - start.year
    if (now.month, now.day, now.time()) < (start.month, start.day, start.time()):
        years -= 1
    return max(years, 0)


async def sweep_forever(
    sessions: Any, registry: Registry, interval: float = SWEEP_INTERVAL_SECONDS
) -> None:
    """The in-server sweep: every `interval` seconds, one sweep in its own transaction. Every
    app process runs it; a failure is logged and retried at the next tick, never fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with sessions() as session, session.begin():
                done = await sweep(session, registry)
            if any((done.renewal_charges, done.tier_change_charges, done.top_ups)):
                log.info("money sweep: %s", done)
        except Exception:  # the server keeps serving; the next tick retries
            log_failure(log, "money sweep failed")
