"""A veto binds the provider, not one application (issue #9, point 4).

Given a provider in the pool of two categories (the fixture's `sample` and `spare`; it never
held `extra`), when a reviewer records a VETO in one of
them, then every category ends, the provider leaves the directory, cannot apply again, and
its registration number cannot come back under a new account, until a reviewer lifts the
bar (recorded on the timeline) or an appeal overturns the veto.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from linkstar.core.kernel.vocabulary import ApplicationStatus, Role, Tier
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient
from tests.test_concurrency import at_once, one_winner
from tests.test_onboarding import REGISTER, register, registration

VETO = """mutation($p: ID!, $at: DateTime!) { recordViolation(provider: $p, category: "sample",
  severity: VETO, description: "Forged job records", occurredAt: $at) { id } }"""
DIRECTORY = "{ providers(first: 50) { edges { node { id } } } }"
START = "mutation($c: String!) { startApplication(category: $c) { id status } }"
LIFT = "mutation($p: ID!, $r: String!) { liftProviderBar(provider: $p, reason: $r) { reason liftedAt liftReason } }"
STATE = """query($id: ID!) { provider(id: $id) {
  activeBar { reason liftedAt }
  applications { edges { node { category { key } status } } }
  sanctions(first: 20) { edges { node { kind status } } }
  timeline(first: 100) { edges { node { eventType actor } } } } }"""


def in_pool(db, provider_gid: str, *categories: str) -> int:
    """Put the registered provider in the pool of `categories` (ACTIVE, regular tier)."""
    provider_id = int(base64.b64decode(provider_gid).decode().split(":")[1])
    for category in categories:
        db.add(
            models.Application(
                provider_id=provider_id,
                category_key=category,
                status=ApplicationStatus.ACTIVE,
                tier=Tier.REGULAR,
            )
        )
    db.commit()
    return provider_id


def code(errors: list[dict]) -> str:
    return errors[0]["extensions"]["code"]


def vetoed(gql, server, sign_in, db) -> tuple[GraphQLClient, int, str, GraphQLClient]:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Ningbo Fast Freight Co., Ltd.")
    provider_id = in_pool(db, owner.provider_id, "sample", "spare")
    listed = {e["node"]["id"] for e in gql(DIRECTORY)["providers"]["edges"]}
    assert owner.provider_id in listed
    reviewer = sign_in(Role.REVIEWER)
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    violation = reviewer(VETO, {"p": owner.provider_id, "at": at})["recordViolation"]["id"]
    return owner, provider_id, violation, reviewer


def test_a_veto_ends_every_category_delists_and_bars_the_provider(gql, server, sign_in, db) -> None:
    owner, _, _, reviewer = vetoed(gql, server, sign_in, db)

    state = reviewer(STATE, {"id": owner.provider_id})["provider"]
    assert sorted(
        (e["node"]["category"]["key"], e["node"]["status"]) for e in state["applications"]["edges"]
    ) == [("sample", "TERMINATED"), ("spare", "TERMINATED")]
    assert sorted(e["node"]["kind"] for e in state["sanctions"]["edges"]) == [
        "TERMINATED",
        "TERMINATED",
    ]
    assert state["activeBar"]["reason"] == "one-vote veto: Forged job records"
    events = [e["node"]["eventType"] for e in state["timeline"]["edges"]]
    assert "provider.barred" in events and events.count("application.terminate") == 2

    assert owner.provider_id not in {e["node"]["id"] for e in gql(DIRECTORY)["providers"]["edges"]}
    assert code(owner.errors(START, {"c": "sample"})) == "PROVIDER_BARRED"
    assert code(owner.errors(START, {"c": "spare"})) == "PROVIDER_BARRED"
    # a category the provider never held is barred too
    assert code(owner.errors(START, {"c": "extra"})) == "PROVIDER_BARRED"


def test_the_registration_number_cannot_come_back_under_a_new_account(
    gql, server, sign_in, db
) -> None:
    _owner, provider_id, _, _ = vetoed(gql, server, sign_in, db)
    number = db.get(models.Provider, provider_id).registration_number
    spaced = " ".join(number[i : i + 6] for i in range(0, 18, 6))  # "911100 006000 37341L"
    for region, written in (
        ("MAINLAND_CHINA", number),
        ("OVERSEAS", spaced),
        ("OVERSEAS", number.lower()),
    ):
        errors = gql.errors(
            REGISTER,
            {
                "account": {
                    "email": f"comeback-{region.lower()}-{len(written)}@example.com",
                    "password": "a long owner passphrase",
                    "displayName": "Owner",
                },
                "provider": registration(region, "Ningbo New Freight Co., Ltd.", written),
            },
        )
        assert code(errors) == "PROVIDER_BARRED", (region, written, errors)
    assert db.query(models.Provider).count() == 1


def test_only_a_reviewer_lifts_the_bar_once_and_it_is_on_the_timeline(
    gql, server, sign_in, db
) -> None:
    owner, _, _, reviewer = vetoed(gql, server, sign_in, db)
    assert code(owner.errors(LIFT, {"p": owner.provider_id, "r": "please"})) == "FORBIDDEN"
    assert code(reviewer.errors(LIFT, {"p": owner.provider_id, "r": "  "})) == "INVALID_INPUT"

    second = sign_in(Role.ADMIN)
    winner = one_winner(
        at_once(
            (
                reviewer,
                LIFT,
                {"p": owner.provider_id, "r": "veto was recorded on the wrong provider"},
            ),
            (second, LIFT, {"p": owner.provider_id, "r": "lifted after review"}),
        )
    )["liftProviderBar"]
    assert winner["liftedAt"] is not None
    state = reviewer(STATE, {"id": owner.provider_id})["provider"]
    assert state["activeBar"] is None
    lifted = [
        e["node"]
        for e in state["timeline"]["edges"]
        if e["node"]["eventType"] == "provider.bar_lifted"
    ]
    assert len(lifted) == 1
    # the bar is gone, the terminations stand: the provider may apply again from the start
    assert owner(START, {"c": "sample"})["startApplication"]["status"] == "DRAFT"
    assert owner(START, {"c": "extra"})["startApplication"]["status"] == "DRAFT"


def test_an_upheld_appeal_against_the_veto_reinstates_every_category_and_lifts_the_bar(
    gql, server, sign_in, db
) -> None:
    owner, _, violation, reviewer = vetoed(gql, server, sign_in, db)
    appeal = owner(
        'mutation($v: ID!) { fileAppeal(subjectType: VIOLATION, subject: $v, reason: WRONG_FINDING, statement: "The numbers were real.", evidence: ["carrier-log.csv"]) { id } }',
        {"v": violation},
    )["fileAppeal"]["id"]
    effects = reviewer(
        'mutation($a: ID!) { decideAppeal(appeal: $a, uphold: true, reason: "carrier confirmed") { effects } }',
        {"a": appeal},
    )["decideAppeal"]["effects"]
    assert len(effects["reversedSanctions"]) == 2 and len(effects["liftedBars"]) == 1
    state = reviewer(STATE, {"id": owner.provider_id})["provider"]
    assert {e["node"]["status"] for e in state["applications"]["edges"]} == {"ACTIVE"}
    assert state["activeBar"] is None
    assert owner.provider_id in {e["node"]["id"] for e in gql(DIRECTORY)["providers"]["edges"]}
