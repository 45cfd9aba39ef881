"""A provider applies to `logistics` with every document, agreement and profile field it asks of an
OVERSEAS entity, passes review and probation, and is listed (the walk of
tests/test_onboarding.py)."""

from __future__ import annotations

from tests.test_onboarding import walk_into_the_pool


def test_a_provider_walks_from_registration_into_the_pool(
    gql, sign_in, server, registry, db
) -> None:
    walk_into_the_pool("logistics", "OVERSEAS", gql, sign_in, server, registry, db)
