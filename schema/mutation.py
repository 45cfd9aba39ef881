"""The core's root Mutation fields (plugins add theirs with `contribute_field("Mutation", …)`)."""

from __future__ import annotations

import strawberry

from linkstar.schema.identity import IdentityMutation
from linkstar.schema.onboarding import OnboardingMutation
from linkstar.schema.standing import StandingMutation, WarningAndAppealMutation


@strawberry.type
class Mutation(IdentityMutation, OnboardingMutation, StandingMutation, WarningAndAppealMutation):
    """Every mutation runs in one transaction and is written to the audit log."""
