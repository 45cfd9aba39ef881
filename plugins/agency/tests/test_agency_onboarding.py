"""A provider applies to `agency` with every document, agreement and profile field it asks of a
MAINLAND_CHINA entity, passes review, the interview and probation, and is listed (the walk of
tests/test_onboarding.py)."""

from __future__ import annotations

from tests.test_onboarding import walk_into_the_pool


def test_a_provider_walks_from_registration_into_the_pool(
    gql, sign_in, server, registry, db
) -> None:
    walk_into_the_pool("agency", "MAINLAND_CHINA", gql, sign_in, server, registry, db)
