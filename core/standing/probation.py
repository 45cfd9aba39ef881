"""The probation decision, weighed against the KPI recommendation of the probation months."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.onboarding import review
from linkstar.core.onboarding.applications import Action
from linkstar.core.onboarding.models import Application
from linkstar.core.onboarding.policy import OnboardingPolicy
from linkstar.core.standing.cards import CardSummary, recent_cards
from linkstar.core.standing.recommendations import Recommendation, probation_recommendation


async def probation_cards(session: AsyncSession, application: Application) -> list[CardSummary]:
    """Scorecards of the months since the probation started, newest first."""
    cards = (
        await recent_cards(session, application.category_key, [application.provider_id], None, 6)
    ).get(application.provider_id, [])
    started = application.probation_started_at
    first = started.strftime("%Y-%m") if started else ""
    return [c for c in cards if c.period >= first]


async def recommendation_for(session: AsyncSession, application: Application) -> Recommendation:
    """What the KPIs of the probation months recommend."""
    cards = await probation_cards(session, application)
    return probation_recommendation(cards, application.probation_extended)


async def decide_probation(
    session: AsyncSession,
    viewer: Viewer,
    application: Application,
    action: Action,
    reason: str,
    policy: OnboardingPolicy,
    admin_override: bool = False,
) -> Application:
    """PASS / FAIL / EXTEND, recording the recommendation it followed or overrode.

    Passing against the recommendation needs the probation to have run (or an admin's explicit
    override); the timeline says which.
    """
    cards = await probation_cards(session, application)
    advice = probation_recommendation(cards, application.probation_extended)
    against = False
    if action is Action.PASS_PROBATION:
        against = review.check_probation_pass(application, viewer, advice.decision, admin_override)
    if action is Action.EXTEND_PROBATION and application.status.value == "PROBATION":
        onboarding.extend_probation(application, policy)
    basis = {
        "recommendation": advice.decision,
        "recommendationReasons": list(advice.reasons),
        "scorecards": [c.id for c in cards],
        "againstRecommendation": against,
        "adminOverride": admin_override,
    }
    await onboarding.transition(session, application, viewer, action, reason, payload=basis)
    return application
