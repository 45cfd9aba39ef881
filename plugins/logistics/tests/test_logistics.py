"""The logistics plugin: KPIs at their thresholds, documents, fees, profile, and its own table.

The table `logistics_lanes` exists in the test database only because the harness ran this
plugin's Alembic branch; the lanes are served through batched loaders (no N+1).
"""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkstar.core.fees.rules import quote, rule_problems
from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.db import Base
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role, Tier
from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.metrics import Direction, ResultStatus, evaluate, metric_problems
from linkstar.core.onboarding.documents import requirement_problems
from linkstar.core.providers.categories import ProfileInvalid, ServiceCategory
from linkstar.core.runtime import tables as models
from linkstar.core.runtime.migrate import MIGRATIONS, alembic_config, upgrade
from tests.harness import GraphQLClient, global_id, sync_url
from tests.test_marketplace import OFFERS, REQUEST, request_input
from tests.test_marketplace import _provider as marketplace_provider

# Importing the plugin puts `logistics_lanes` on Base.metadata, which the harness truncates
# between tests: with the plugin disabled that table was never migrated, so stay out.
if "logistics" in Settings.from_env().disabled_plugins:
    pytest.skip("the logistics plugin is disabled", allow_module_level=True)

from linkstar.plugins.logistics import plugin
from linkstar.plugins.logistics.models import LogisticsLane, LogisticsMode
from linkstar.plugins.logistics.profile import SPEC


def metric(key: str):
    return next(m for m in plugin.METRICS if m.key == key)


def document(key: str):
    return next(d for d in plugin.DOCUMENTS if d.key == key)


VALID_PROFILE = {
    "service_types": ["FIRST_MILE", "LINE_HAUL", "OVERSEAS_WAREHOUSE"],
    "warehouses_count": 2,
    "warehouse_countries": ["US", "DE"],
    "own_fleet": False,
    "max_parcel_weight_kg": "68",
    "insurance_cover": {"amount": "20000", "currency": "CNY"},
}


# --- category and metrics ------------------------------------------------------------------


def test_category_is_logistics_at_position_30_without_interview() -> None:
    assert (plugin.CATEGORY.key, plugin.CATEGORY.position) == ("logistics", 30)
    assert plugin.CATEGORY.interview_required is False


def test_thresholds_directions_and_weights() -> None:
    # given the five declared metrics, then each has its threshold, direction and weight
    expected = {
        "on_time_delivery_rate": (Decimal("95"), Direction.HIGHER_IS_BETTER, Decimal("30")),
        "loss_damage_rate": (Decimal("0.5"), Direction.LOWER_IS_BETTER, Decimal("20")),
        "claim_resolution_time": (Decimal("72"), Direction.LOWER_IS_BETTER, Decimal("15")),
        "first_scan_within_24h": (Decimal("98"), Direction.HIGHER_IS_BETTER, Decimal("15")),
        "seller_satisfaction": (Decimal("85"), Direction.HIGHER_IS_BETTER, Decimal("20")),
    }
    actual = {m.key: (m.threshold, m.direction, m.weight) for m in plugin.METRICS}
    assert actual == expected
    assert sum(m.weight for m in plugin.METRICS) == Decimal("100")
    assert all(metric_problems(m) == [] for m in plugin.METRICS)


def test_aggregations() -> None:
    kinds = {m.key: m.aggregation.kind for m in plugin.METRICS}
    assert kinds["loss_damage_rate"] is AggregationKind.RATIO_OF_COUNTS
    assert kinds["claim_resolution_time"] is AggregationKind.PERCENTILE
    assert metric("claim_resolution_time").aggregation.params == {"percentile": Decimal("90")}
    assert metric("seller_satisfaction").aggregation.params == {"cutoff": Decimal("4")}


def test_one_loss_in_200_shipments_is_exactly_the_limit_and_passes() -> None:
    # given 1 lost parcel among 200 shipments: 1 / 200 = 0.5 %
    loss = metric("loss_damage_rate")
    value = Decimal(1) / Decimal(200) * 100
    assert value == Decimal("0.5")
    # when evaluated, then the inclusive threshold passes, with zero margin (inside the band)
    at_limit = evaluate(loss, value, 200)
    assert (at_limit.status, at_limit.margin) == (ResultStatus.WARNING, Decimal("0"))


def test_loss_rate_around_the_limit() -> None:
    loss = metric("loss_damage_rate")
    assert evaluate(loss, Decimal("0.51"), 200).status is ResultStatus.FAIL
    assert evaluate(loss, Decimal("1.0"), 200).status is ResultStatus.FAIL  # 2 of 200
    assert evaluate(loss, Decimal("0.45"), 200).status is ResultStatus.WARNING
    assert evaluate(loss, Decimal("0.4"), 200).status is ResultStatus.PASS  # margin = band
    assert evaluate(loss, Decimal("0"), 500).margin == Decimal("0.5")
    # below 200 shipments one incident alone would exceed 0.5 %: no verdict
    assert evaluate(loss, Decimal("0"), 199).status is ResultStatus.INSUFFICIENT_DATA


def test_claim_resolution_p90_of_72_hours_passes_and_a_minute_more_fails() -> None:
    claims = metric("claim_resolution_time")
    assert evaluate(claims, Decimal("72"), 10).status is ResultStatus.WARNING
    assert evaluate(claims, Decimal("64"), 10).status is ResultStatus.PASS
    assert evaluate(claims, Decimal("72.02"), 10).status is ResultStatus.FAIL


# --- documents and fees --------------------------------------------------------------------


def test_documents() -> None:
    keys = [d.key for d in plugin.DOCUMENTS]
    assert keys[-3:] == [
        "freight_forwarding_licence",
        "cargo_insurance_policy",
        "customs_registration",
    ]
    assert {"business_licence", "company_registration", "service_cases"} <= set(keys)
    assert all(requirement_problems(d) == [] for d in plugin.DOCUMENTS)
    assert document("freight_forwarding_licence").expires
    assert document("cargo_insurance_policy").expires
    customs = document("customs_registration")
    assert [r for r in Region if customs.applies_to(r)] == [Region.MAINLAND_CHINA]


def test_fee_rules_are_well_formed() -> None:
    assert rule_problems(plugin.FEE_RULES) == []


def test_quote_mainland_regular() -> None:
    q = quote("logistics", plugin.FEE_RULES, Region.MAINLAND_CHINA, Tier.REGULAR)
    assert [(line.rule_key, line.amount and str(line.amount)) for line in q.lines] == [
        ("logistics.deposit", "30000.00 CNY"),
        ("logistics.annual_fee", "6800.00 CNY"),
        ("logistics.order_commission", None),
    ]
    assert [str(m) for m in q.upfront_totals()] == ["36800.00 CNY"]  # 30000 + 6800
    assert q.commission_percent() == Decimal("3")


def test_quote_other_regions_and_tiers() -> None:
    hk = quote("logistics", plugin.FEE_RULES, Region.HK_MACAU_TAIWAN, Tier.PREFERRED)
    assert [str(m) for m in hk.upfront_totals()] == ["25800.00 HKD"]  # 18000 + 7800
    assert hk.commission_percent() == Decimal("2.5")
    overseas = quote("logistics", plugin.FEE_RULES, Region.OVERSEAS, Tier.STRATEGIC_PARTNER)
    assert [str(m) for m in overseas.upfront_totals()] == ["2200.00 USD"]  # 1200 + 1000
    assert overseas.commission_percent() == Decimal("2")


# --- profile -------------------------------------------------------------------------------


def test_valid_profile_is_normalised() -> None:
    data = SPEC.validate(VALID_PROFILE)
    assert data["insurance_cover"] == {"amount": "20000.00", "currency": "CNY"}
    assert data["max_parcel_weight_kg"] == "68"


def test_profile_validation_lists_every_field_problem() -> None:
    with pytest.raises(ProfileInvalid) as caught:
        SPEC.validate(
            {
                "service_types": ["TELEPORT"],
                "warehouses_count": -1,
                "warehouse_countries": ["USA"],
                "own_fleet": "yes",
                "max_parcel_weight_kg": 30.0,
                "colour": "red",
            }
        )
    errors = caught.value.errors
    assert "unknown values ['TELEPORT']" in errors["service_types"]
    assert errors["warehouses_count"] == "must be between 0 and 10000"
    assert errors["warehouse_countries"] == "must be at most 2 characters"
    assert errors["own_fleet"] == "must be true or false"
    assert errors["max_parcel_weight_kg"] == "must be a decimal string, not a float"
    assert errors["colour"] == "is not a field of this profile"


def test_warehouse_countries_are_iso_codes() -> None:
    with pytest.raises(ProfileInvalid) as caught:
        SPEC.validate({**VALID_PROFILE, "warehouse_countries": ["US", "de"]})
    assert caught.value.errors["warehouse_countries"].startswith("['de'] are not ISO 3166-1")


@pytest.mark.parametrize(
    ("count", "countries", "message"),
    [
        (2, None, "is required when warehouses_count > 0"),
        (0, ["US"], "must be empty when warehouses_count is 0"),
        (1, ["US", "DE"], "names 2 countries for 1 warehouses"),
    ],
)
def test_warehouse_countries_agree_with_the_count(count, countries, message) -> None:
    data = {**VALID_PROFILE, "warehouses_count": count, "warehouse_countries": countries}
    with pytest.raises(ProfileInvalid) as caught:
        SPEC.validate(data)
    assert caught.value.errors == {"warehouse_countries": message}


def test_demo_profiles_pass_validation_in_every_region() -> None:
    rng = random.Random(2026)
    for _ in range(30):
        for region in Region:
            SPEC.validate(SPEC.demo(rng, region))


# --- the plugin's own table and migration ---------------------------------------------------


def add_provider(db: Session, name: str, lanes: list[tuple[str, str, LogisticsMode, int]]):
    """A provider with a logistics profile and `lanes`, committed; returns it and its lane ids."""
    provider = models.Provider(
        legal_name=name, region=Region.MAINLAND_CHINA, registration_number=f"REG-{name}"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.CategoryProfileRow(
            provider_id=provider.id, category_key="logistics", data=SPEC.validate(VALID_PROFILE)
        )
    )
    rows = [
        LogisticsLane(
            provider_id=provider.id,
            origin_country=o,
            destination_country=d,
            mode=m,
            typical_transit_days=days,
        )
        for o, d, m, days in lanes
    ]
    db.add_all(rows)
    db.commit()
    return provider, [r.id for r in rows]


LANES_A = [
    ("CN", "US", LogisticsMode.SEA_FREIGHT, 28),
    ("CN", "DE", LogisticsMode.RAIL, 18),
    ("CN", "SG", LogisticsMode.AIR_EXPRESS, 4),
]
LANES_B = [
    ("CN", "GB", LogisticsMode.AIR_FREIGHT, 7),
    ("CN", "MY", LogisticsMode.TRUCK, 6),
    ("CN", "JP", LogisticsMode.SEA_FREIGHT, 9),
]


def test_plugin_branch_depends_on_the_core_and_the_core_never_mentions_it(migrated, registry):
    assert ("logistics", str(plugin.MIGRATIONS)) in registry.migration_locations
    script = ScriptDirectory.from_config(alembic_config(migrated, registry))
    head = script.get_revision("logistics@head")
    assert (head.revision, head.dependencies, head.down_revision) == (
        "0001_logistics",
        "0001_core",
        None,
    )
    core_text = "".join(p.read_text() for p in Path(MIGRATIONS, "versions").glob("*.py"))
    assert "logistics" not in core_text


def test_the_branch_downgrades_and_upgrades_on_its_own(fresh_database_url, registry) -> None:
    # given a database migrated to every head
    upgrade(fresh_database_url, registry)
    engine = create_engine(sync_url(fresh_database_url))
    try:
        # when only the logistics branch is downgraded, then only its table goes
        command.downgrade(alembic_config(fresh_database_url, registry), "logistics@base")
        assert not inspect(engine).has_table("logistics_lanes")
        assert inspect(engine).has_table("providers")
        # when upgraded again, then the table is back
        upgrade(fresh_database_url, registry)
        assert inspect(engine).has_table("logistics_lanes")
    finally:
        engine.dispose()


def test_migration_created_the_table(db: Session) -> None:
    # given the database the harness migrated with Alembic (core + enabled plugins' branches)
    assert "0001_logistics" in db.scalars(text("SELECT version_num FROM alembic_version")).all()
    # when lanes are inserted, then they read back with their types
    _, ids = add_provider(db, "Ningbo Boyuan Freight", LANES_A)
    lanes = db.scalars(select(LogisticsLane).order_by(LogisticsLane.id)).all()
    assert [(r.id, r.destination_country, r.mode, r.typical_transit_days) for r in lanes] == [
        (ids[0], "US", LogisticsMode.SEA_FREIGHT, 28),
        (ids[1], "DE", LogisticsMode.RAIL, 18),
        (ids[2], "SG", LogisticsMode.AIR_EXPRESS, 4),
    ]
    assert lanes[0].created_at.tzinfo is not None


def test_constraints_of_the_table(db: Session) -> None:
    provider, _ = add_provider(db, "Yiwu Tianqiao Logistics", LANES_A[:1])
    # the same provider, origin, destination and mode twice is refused
    db.add(
        LogisticsLane(
            provider_id=provider.id,
            origin_country="CN",
            destination_country="US",
            mode=LogisticsMode.SEA_FREIGHT,
            typical_transit_days=30,
        )
    )
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    # a transit time of zero days is refused
    db.add(
        LogisticsLane(
            provider_id=provider.id,
            origin_country="CN",
            destination_country="US",
            mode=LogisticsMode.RAIL,
            typical_transit_days=0,
        )
    )
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    # deleting the provider deletes its lanes (ON DELETE CASCADE)
    db.execute(text("DELETE FROM providers WHERE id = :id"), {"id": provider.id})
    db.commit()
    assert db.scalar(select(func.count()).select_from(LogisticsLane)) == 0


def test_model_and_migration_agree(sync_engine) -> None:
    with sync_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if "logistics_lanes" in repr(d)] == []


def test_demo_data_adds_two_to_four_distinct_lanes_per_provider(db: Session) -> None:
    a, _ = add_provider(db, "Shenzhen Haixing Supply Chain", [])
    b, _ = add_provider(db, "Xiamen Ruida Express", [])
    # the hook writes through any session's add_all; here the test's synchronous one
    answer = asyncio.run(
        plugin.linkstar_demo_data(
            category=plugin.CATEGORY, session=db, provider_ids=[a.id, b.id], rng=random.Random(7)
        )
    )
    assert answer is None
    db.commit()
    counts = dict(
        db.execute(
            select(LogisticsLane.provider_id, func.count()).group_by(LogisticsLane.provider_id)
        ).all()
    )
    assert set(counts) == {a.id, b.id}
    assert all(2 <= n <= 4 for n in counts.values())


def test_demo_data_ignores_other_categories() -> None:
    other = ServiceCategory(key="agency", name="Agency", description="")
    answer = asyncio.run(
        plugin.linkstar_demo_data(
            category=other, session=None, provider_ids=[1], rng=random.Random(1)
        )
    )
    assert answer is None


# --- GraphQL over HTTP ---------------------------------------------------------------------

LANES_QUERY = """{ providers(first: 20) { edges { node { legalName categoryProfiles {
  ... on LogisticsProfile { serviceTypes lanes(first: 2) { totalCount
    edges { node { id originCountry destinationCountry mode typicalTransitDays } }
    pageInfo { hasNextPage endCursor } } }
} } } } }"""

PROVIDER_LANES = """query($id: ID!, $after: String, $last: Int) { node(id: $id) { ... on Provider {
  categoryProfile(category: "logistics") { ... on LogisticsProfile {
    lanes(first: null, after: $after, last: $last) {
      totalCount edges { node { destinationCountry } } pageInfo { hasNextPage hasPreviousPage }
} } } } } }"""


def test_lanes_are_reachable_from_providers_and_paginate(staff, db) -> None:
    # given two providers with a logistics profile and three lanes each
    a, a_ids = add_provider(db, "Guangzhou Hongtu Logistics", LANES_A)
    b, _ = add_provider(db, "Hangzhou Qiming Freight", LANES_B)
    # when their first two lanes are asked for
    data = staff(LANES_QUERY)
    nodes = [edge["node"] for edge in data["providers"]["edges"]]
    assert [n["legalName"] for n in nodes] == [
        "Guangzhou Hongtu Logistics",
        "Hangzhou Qiming Freight",
    ]
    first = nodes[0]["categoryProfiles"][0]
    # then each sees its own two oldest lanes, the total of three, and a next page
    assert first["serviceTypes"] == ["FIRST_MILE", "LINE_HAUL", "OVERSEAS_WAREHOUSE"]
    assert first["lanes"]["totalCount"] == 3
    assert [e["node"] for e in first["lanes"]["edges"]] == [
        {
            "id": global_id("LogisticsLane", a_ids[0]),
            "originCountry": "CN",
            "destinationCountry": "US",
            "mode": "SEA_FREIGHT",
            "typicalTransitDays": 28,
        },
        {
            "id": global_id("LogisticsLane", a_ids[1]),
            "originCountry": "CN",
            "destinationCountry": "DE",
            "mode": "RAIL",
            "typicalTransitDays": 18,
        },
    ]
    assert first["lanes"]["pageInfo"]["hasNextPage"] is True
    second = nodes[1]["categoryProfiles"][0]["lanes"]
    assert [e["node"]["destinationCountry"] for e in second["edges"]] == ["GB", "MY"]
    assert second["totalCount"] == 3
    # when the first provider's lanes continue after the end cursor, then the last lane follows
    rest = staff(
        PROVIDER_LANES,
        {"id": global_id("Provider", a.id), "after": first["lanes"]["pageInfo"]["endCursor"]},
    )
    lanes = rest["node"]["categoryProfile"]["lanes"]
    assert [e["node"]["destinationCountry"] for e in lanes["edges"]] == ["SG"]
    assert lanes["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    # and backwards, the last lane alone
    last = staff(PROVIDER_LANES, {"id": global_id("Provider", b.id), "last": 1})
    assert [
        e["node"]["destinationCountry"] for e in last["node"]["categoryProfile"]["lanes"]["edges"]
    ] == ["JP"]


def test_statement_count_does_not_grow_with_providers(staff, db, server) -> None:
    counts = []
    for total in (2, 6):
        while len(db.scalars(select(models.Provider.id)).all()) < total:
            n = len(db.scalars(select(models.Provider.id)).all())
            add_provider(db, f"Provider {n}", LANES_A if n % 2 else LANES_B)
        with server.statements() as counter:
            data = staff(LANES_QUERY)
        assert len(data["providers"]["edges"]) == total
        assert all(
            e["node"]["categoryProfiles"][0]["lanes"]["totalCount"] == 3
            for e in data["providers"]["edges"]
        )
        # providers, their profiles, then ONE page query and ONE count query for the lanes of
        # all providers together: 4 statements whatever the number of providers
        assert sum("logistics_lanes" in s for s in counter.statements) == 2, counter.statements
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


NODE_QUERY = """query($id: ID!) { node(id: $id) { __typename ... on LogisticsLane {
  id originCountry destinationCountry mode typicalTransitDays } } }"""


def test_node_resolves_a_lane_by_global_id(staff, db) -> None:
    _, ids = add_provider(db, "Fuzhou Jinfeng Logistics", LANES_B)
    lane = staff(NODE_QUERY, {"id": global_id("LogisticsLane", ids[1])})["node"]
    assert lane == {
        "__typename": "LogisticsLane",
        "id": global_id("LogisticsLane", ids[1]),
        "originCountry": "CN",
        "destinationCountry": "MY",
        "mode": "TRUCK",
        "typicalTransitDays": 6,
    }
    assert staff(NODE_QUERY, {"id": global_id("LogisticsLane", 999_999)})["node"] is None
    assert staff(NODE_QUERY, {"id": global_id("LogisticsLane", "lane-1")})["node"] is None


OWN_LANES = """query($p: ID!, $l: ID!, $f: ID!) {
  lane: node(id: $l) { id } profile: node(id: $f) { id }
  provider(id: $p) { categoryProfiles { ... on LogisticsProfile { lanes { totalCount } } } } }"""


def test_lanes_and_the_profile_are_the_owners_and_staffs_only(gql, sign_in, server, db) -> None:
    # given: a provider in the logistics pool, with a profile and three lanes
    a, lane_ids = add_provider(db, "Xiamen Owned Lanes Logistics", LANES_A)
    other, _ = add_provider(db, "Qingdao Other Logistics", LANES_B)
    for provider in (a, other):
        db.add(
            models.Application(
                provider_id=provider.id, category_key="logistics", status=ApplicationStatus.ACTIVE
            )
        )
    db.commit()
    profile_id = db.scalar(
        select(models.CategoryProfileRow.id).where(models.CategoryProfileRow.provider_id == a.id)
    )
    ids = {
        "p": global_id("Provider", a.id),
        "l": global_id("LogisticsLane", lane_ids[0]),
        "f": global_id("LogisticsProfile", profile_id),
    }
    viewers = {
        "anonymous": (GraphQLClient(server.url), False),
        "seller": (sign_in(Role.SELLER), False),
        "another provider": (sign_in(Role.PARTNER, provider_id=other.id, owner=True), False),
        "the owner": (sign_in(Role.PARTNER, provider_id=a.id, owner=True), True),
        "a reviewer": (sign_in(Role.REVIEWER), True),
    }
    for name, (client, may_see) in viewers.items():
        # when: each asks for the lane, the profile and the provider's lanes
        data = client(OWN_LANES, ids)
        # then: the plugin's own types are protected by the core, without checks of their own
        if may_see:
            assert data["lane"] == {"id": ids["l"]} and data["profile"] == {"id": ids["f"]}, name
            assert data["provider"]["categoryProfiles"] == [{"lanes": {"totalCount": 3}}], name
        else:
            assert data["lane"] is None and data["profile"] is None, name
            assert data["provider"]["categoryProfiles"] == [], name


# --- marketplace: the lane decides who is asked (moved from tests/test_marketplace.py) -------


def test_a_logistics_request_goes_only_to_carriers_covering_the_lane(db, sign_in, staff) -> None:
    carriers = {}
    for name, lanes in {
        "sea": [("CN", "US", LogisticsMode.SEA_FREIGHT)],
        "rail": [("CN", "DE", LogisticsMode.RAIL)],
        "air": [("CN", "US", LogisticsMode.AIR_EXPRESS)],
    }.items():
        row = marketplace_provider(db, f"Carrier {name}", ApplicationStatus.ACTIVE)
        db.query(models.Application).filter_by(provider_id=row.id).update(
            {"category_key": "logistics"}
        )
        for origin, destination, mode in lanes:
            db.add(
                LogisticsLane(
                    provider_id=row.id,
                    origin_country=origin,
                    destination_country=destination,
                    mode=mode,
                    typical_transit_days=20,
                )
            )
        carriers[row.id] = name
    db.commit()
    seller = sign_in(Role.SELLER)
    shipping = request_input(
        category="logistics",
        requirements={
            "origin_country": "cn",
            "destination_country": "us",
            "modes": ["SEA_FREIGHT"],
        },
    )
    seller(REQUEST, {"i": shipping})
    offers = staff(OFFERS, {"s": "PENDING"})["offers"]["edges"]
    candidates = offers[0]["node"]["explanation"]["candidates"]
    assert [carriers[c["provider_id"]] for c in candidates] == ["sea"]
    missing = seller.errors(REQUEST, {"i": request_input(category="logistics", requirements={})})
    assert missing[0]["extensions"]["code"] == "PROFILE_INVALID"
    assert set(missing[0]["extensions"]["details"]["fields"]) >= {
        "origin_country",
        "destination_country",
    }
