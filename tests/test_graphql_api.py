"""The unified graph over real HTTP: categories, fee quotes, providers, nodes, pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy.orm import Session

from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    DocumentStatus,
    Marketplace,
    ObservationSource,
    Region,
    Tier,
)
from linkstar.core.runtime import tables as models
from tests.fixture_category import PROFILE, PROFILE_DATA
from tests.harness import global_id


def add_provider(
    db: Session,
    name: str,
    region: Region = Region.MAINLAND_CHINA,
    marketplaces: tuple[Marketplace, ...] = (Marketplace.AMAZON,),
    categories: tuple[str, ...] = ("sample",),
    observations: int = 0,
    observed: tuple[str, str] = ("sample", "on_time_rate"),
) -> models.Provider:
    """A provider with marketplaces, applications, a `sample` profile, a document and observations
    (of the fixture categories, tests/fixture_category.py)."""
    provider = models.Provider(legal_name=name, region=region, registration_number=f"REG-{name}")
    provider.marketplaces = [models.ProviderMarketplace(marketplace=m) for m in marketplaces]
    db.add(provider)
    db.flush()
    for category in categories:
        db.add(
            models.Application(
                provider_id=provider.id,
                category_key=category,
                status=ApplicationStatus.ACTIVE,
                tier=Tier.REGULAR,
            )
        )
    if "sample" in categories:
        db.add(
            models.CategoryProfileRow(
                provider_id=provider.id, category_key="sample", data=PROFILE.validate(PROFILE_DATA)
            )
        )
    db.add(
        models.Document(
            provider_id=provider.id,
            requirement_key="business_licence",
            filename="licence.pdf",
            media_type="application/pdf",
            size_bytes=1024,
            sha256="ab" * 32,
            status=DocumentStatus.PENDING,
        )
    )
    for i in range(observations):
        db.add(
            models.KpiObservation(
                provider_id=provider.id,
                category_key=observed[0],
                metric_key=observed[1],
                subject_ref=f"task-{i}",
                observed_at=datetime(2026, 10, 1 + i, tzinfo=UTC),
                value=Decimal(i % 2),
                source=ObservationSource.PLATFORM,
                idempotency_key=f"k-{i}",
            )
        )
    db.commit()
    return provider


# --- categories and fees -------------------------------------------------------------------


def test_service_categories_in_declared_order_with_their_contributions(gql, db) -> None:
    data = gql(
        """{ serviceCategories { totalCount edges { node { key plugin
              metrics { key threshold unit direction weight aggregation { kind params { name value } } }
              requiredDocuments(region: OVERSEAS) { key mandatory }
              feeRules { key kind } } } } }"""
    )
    nodes = [e["node"] for e in data["serviceCategories"]["edges"]]
    # the fixture categories declare positions 900, 901 and 902: after every built-in one
    assert [n["key"] for n in nodes][-3:] == ["sample", "spare", "extra"]
    assert data["serviceCategories"]["totalCount"] == len(nodes)
    sample = nodes[-3]
    assert sample["plugin"] == "fixture"
    assert [m["key"] for m in sample["metrics"]] == [
        "on_time_rate",
        "response_hours",
        "satisfaction",
    ]
    assert sample["metrics"][0] == {
        "key": "on_time_rate",
        "threshold": "90",
        "unit": "PERCENT",
        "direction": "HIGHER_IS_BETTER",
        "weight": "50",
        "aggregation": {"kind": "RATIO_OF_COUNTS", "params": []},
    }
    # asked for OVERSEAS: the business licence is a mainland China document
    assert sample["requiredDocuments"] == [{"key": "service_price_list", "mandatory": False}]
    assert {(r["key"], r["kind"]) for r in sample["feeRules"]} >= {
        ("sample.deposit", "DEPOSIT"),
        ("sample.order_commission", "COMMISSION"),
    }
    assert nodes[-1]["requiredDocuments"] == [] and nodes[-1]["feeRules"] == []


def test_service_categories_paginate_with_cursors(gql, db) -> None:
    first = gql(
        "{ serviceCategories(first: 1) { edges { cursor node { key } } pageInfo { hasNextPage endCursor } } }"
    )
    page = first["serviceCategories"]
    assert page["pageInfo"]["hasNextPage"] is (
        len(gql("{ serviceCategories { edges { cursor } } }")["serviceCategories"]["edges"]) > 1
    )
    after = page["pageInfo"]["endCursor"]
    second = gql(
        "query($after: String) { serviceCategories(first: 1, after: $after) { edges { node { key } } pageInfo { hasPreviousPage } } }",
        {"after": after},
    )
    if second["serviceCategories"]["edges"]:
        assert (
            second["serviceCategories"]["edges"][0]["node"]["key"]
            != page["edges"][0]["node"]["key"]
        )
        assert second["serviceCategories"]["pageInfo"]["hasPreviousPage"] is True


def test_fee_quote_over_http_names_each_rule(gql, db) -> None:
    data = gql(
        """{ feeQuote(category: "sample", region: HK_MACAU_TAIWAN, tier: PREFERRED) {
              lines { ruleKey kind scope amount { amount currency } ratePercent }
              upfrontTotals { amount currency } commissionPercent } }"""
    )["feeQuote"]
    assert data["lines"] == [
        {
            "ruleKey": "sample.deposit",
            "kind": "DEPOSIT",
            "scope": "HK_MACAU_TAIWAN; PREFERRED",
            "amount": {"amount": "500.00", "currency": "HKD"},
            "ratePercent": None,
        },
        {
            "ruleKey": "sample.order_commission",
            "kind": "COMMISSION",
            "scope": "all regions; PREFERRED",
            "amount": None,
            "ratePercent": "8",
        },
        {
            "ruleKey": "sample.annual_fee",
            "kind": "ANNUAL_FEE",
            "scope": "HK_MACAU_TAIWAN; all tiers",
            "amount": {"amount": "100.00", "currency": "HKD"},
            "ratePercent": None,
        },
        {
            "ruleKey": "sample.exam_fee",
            "kind": "PER_UNIT_FEE",
            "scope": "HK_MACAU_TAIWAN; all tiers",
            "amount": None,  # per candidate (its `unitPrice`): no quantity quoted, no total
            "ratePercent": None,
        },
    ]
    # the deposit and the annual fee are due up front; the exam fee is per candidate, later
    assert data["upfrontTotals"] == [{"amount": "600.00", "currency": "HKD"}]
    assert data["commissionPercent"] == "8"


def test_fee_quote_errors_carry_stable_codes(gql, db) -> None:
    error = gql.errors(
        '{ feeQuote(category: "astrology", region: OVERSEAS, tier: REGULAR) { commissionPercent } }'
    )[0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (
        "astrology" in error["message"] and "known categories" in error["extensions"]["suggestion"]
    )
    error = gql.errors(
        '{ feeQuote(category: "sample", region: OVERSEAS, tier: REGULAR, options: [{group: "x", value: "Y"}]) { commissionPercent } }'
    )[0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    error = gql.errors(
        '{ feeQuote(category: "sample", region: MARS, tier: REGULAR) { commissionPercent } }'
    )[0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# --- providers -----------------------------------------------------------------------------


def test_providers_filter_by_category_region_marketplace_and_name(gql, db) -> None:
    add_provider(
        db, "Shenzhen Alpha Ops", Region.MAINLAND_CHINA, (Marketplace.AMAZON,), ("sample",)
    )
    add_provider(
        db,
        "Kowloon Beta Freight",
        Region.HK_MACAU_TAIWAN,
        (Marketplace.SHOPEE, Marketplace.LAZADA),
        ("spare",),
    )
    add_provider(
        db,
        "Singapore Gamma Academy",
        Region.OVERSEAS,
        (Marketplace.SHOPEE,),
        ("extra", "sample"),
    )

    def names(filter_: str) -> list[str]:
        data = gql(
            f"{{ providers(filter: {filter_}) {{ totalCount edges {{ node {{ legalName }} }} }} }}"
        )
        edges = data["providers"]["edges"]
        assert data["providers"]["totalCount"] == len(edges)
        return [e["node"]["legalName"] for e in edges]

    assert names('{category: "sample"}') == ["Shenzhen Alpha Ops", "Singapore Gamma Academy"]
    assert names('{category: "spare"}') == ["Kowloon Beta Freight"]
    assert names("{region: HK_MACAU_TAIWAN}") == ["Kowloon Beta Freight"]
    assert names("{marketplace: SHOPEE}") == ["Kowloon Beta Freight", "Singapore Gamma Academy"]
    assert names('{marketplace: SHOPEE, category: "sample"}') == ["Singapore Gamma Academy"]
    assert names('{nameContains: "gamma"}') == ["Singapore Gamma Academy"]
    assert names('{nameContains: "%"}') == []
    error = gql.errors('{ providers(filter: {category: "astrology"}) { totalCount } }')[0]
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_providers_page_forwards_and_backwards(gql, db) -> None:
    for i in range(5):
        add_provider(db, f"Provider {i}")
    query = """query($first: Int, $after: String, $last: Int, $before: String) {
      providers(first: $first, after: $after, last: $last, before: $before) {
        edges { node { legalName } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
    page1 = gql(query, {"first": 2})["providers"]
    assert [e["node"]["legalName"] for e in page1["edges"]] == ["Provider 0", "Provider 1"]
    assert (
        page1["pageInfo"]["hasNextPage"] is True and page1["pageInfo"]["hasPreviousPage"] is False
    )
    page2 = gql(query, {"first": 2, "after": page1["pageInfo"]["endCursor"]})["providers"]
    assert [e["node"]["legalName"] for e in page2["edges"]] == ["Provider 2", "Provider 3"]
    back = gql(query, {"last": 2, "before": page2["pageInfo"]["startCursor"]})["providers"]
    assert [e["node"]["legalName"] for e in back["edges"]] == ["Provider 0", "Provider 1"]
    assert back["pageInfo"]["hasPreviousPage"] is False and back["pageInfo"]["hasNextPage"] is True
    tail = gql(query, {"last": 2})["providers"]
    assert [e["node"]["legalName"] for e in tail["edges"]] == ["Provider 3", "Provider 4"]
    assert tail["pageInfo"]["hasPreviousPage"] is True


def test_page_size_is_bounded_and_cursors_are_checked(gql, db) -> None:
    error = gql.errors("{ providers(first: 101) { totalCount } }")[0]
    assert error["extensions"]["code"] == "INVALID_PAGINATION"
    assert "between 0 and 100" in error["extensions"]["suggestion"]
    error = gql.errors('{ providers(first: 1, after: "not-a-cursor") { totalCount } }')[0]
    assert error["extensions"]["code"] == "INVALID_PAGINATION"
    error = gql.errors("{ providers(first: 1, last: 1) { totalCount } }")[0]
    assert error["extensions"]["code"] == "INVALID_PAGINATION"


def test_provider_by_id_with_profiles_and_nested_connections(staff, db) -> None:
    provider = add_provider(
        db,
        "Hangzhou Delta Ops",
        marketplaces=(Marketplace.TIKTOK_SHOP, Marketplace.AMAZON),
        observations=3,
    )
    data = staff(
        """query($id: ID!) { provider(id: $id) {
            id legalName region registrationNumber marketplaces
            categoryProfiles { __typename category { key } }
            sample: categoryProfile(category: "sample") { ... on SampleProfile { teamSize languages } }
            applications { totalCount edges { node { status tier category { key } } } }
            documents { edges { node { requirementKey sha256 status } } }
            observations(metric: "on_time_rate", first: 2) {
              totalCount edges { node { subjectRef value source attributable metric { key threshold } } }
              pageInfo { hasNextPage } } } }""",
        {"id": global_id("Provider", provider.id)},
    )["provider"]
    assert data["id"] == global_id("Provider", provider.id)
    assert data["marketplaces"] == ["AMAZON", "TIKTOK_SHOP"]
    assert data["categoryProfiles"] == [
        {"__typename": "SampleProfile", "category": {"key": "sample"}}
    ]
    assert data["sample"] == {"teamSize": 12, "languages": ["Chinese", "English"]}
    assert data["applications"]["edges"][0]["node"] == {
        "status": "ACTIVE",
        "tier": "REGULAR",
        "category": {"key": "sample"},
    }
    assert data["documents"]["edges"][0]["node"]["sha256"] == "ab" * 32
    observations = data["observations"]
    assert observations["totalCount"] == 3 and observations["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["value"] for e in observations["edges"]] == ["0", "1"]
    assert observations["edges"][0]["node"]["metric"] == {
        "key": "on_time_rate",
        "threshold": "90",
    }


def test_node_and_nodes_resolve_any_object_and_null_for_missing(staff, db) -> None:
    provider = add_provider(db, "Ningbo Epsilon")
    application_id = db.query(models.Application.id).scalar()
    profile_id = db.query(models.CategoryProfileRow.id).scalar()
    data = staff(
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
             ... on Provider { legalName } ... on Application { status }
             ... on SampleProfile { teamSize } ... on ServiceCategory { key } } }""",
        {
            "ids": [
                global_id("Provider", provider.id),
                global_id("Application", application_id),
                global_id("SampleProfile", profile_id),
                global_id("ServiceCategory", "sample"),
                global_id("Provider", 999_999),
                global_id("NoSuchType", 1),
            ]
        },
    )["nodes"]
    assert [n and n["__typename"] for n in data] == [
        "Provider",
        "Application",
        "SampleProfile",
        "ServiceCategory",
        None,
        None,
    ]
    single = staff(
        "query($id: ID!) { node(id: $id) { ... on Provider { legalName } } }",
        {"id": global_id("Provider", provider.id)},
    )
    assert single["node"] == {"legalName": "Ningbo Epsilon"}
    error = staff.errors('{ node(id: "%%%") { id } }')[0]
    assert error["extensions"]["code"] == "INVALID_ID"
    error = staff.errors(
        "query($id: ID!) { provider(id: $id) { id } }",
        {"id": global_id("Application", application_id)},
    )[0]
    assert error["extensions"]["code"] == "INVALID_ID"
    assert (
        staff(
            "query($id: ID!) { provider(id: $id) { id } }", {"id": global_id("Provider", 123456)}
        )["provider"]
        is None
    )


def test_nodes_is_bounded(gql, db) -> None:
    error = gql.errors(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [global_id("Provider", i) for i in range(101)]},
    )[0]
    assert error["extensions"]["code"] == "INVALID_INPUT"


# --- statements do not grow with the items returned -----------------------------------------

NESTED_QUERY = """{ providers(first: 50) { totalCount edges { node {
    legalName marketplaces
    categoryProfiles { __typename category { key } ... on SampleProfile { teamSize } }
    applications(first: 5) { totalCount edges { node { status category { key } provider { legalName } } } }
    documents(first: 5) { totalCount edges { node { sha256 } } }
    observations(first: 10) { totalCount edges { node { value metric { key } } } }
} } } }"""


def test_statement_count_is_independent_of_the_number_of_providers(staff, db, server) -> None:
    counts = []
    for batch in (3, 12):
        for i in range(batch):
            add_provider(
                db, f"Batch {batch} provider {i}", categories=("sample", "spare"), observations=4
            )
        with server.statements() as counter:
            data = staff(NESTED_QUERY)
        assert len(data["providers"]["edges"]) == (3 if batch == 3 else 15)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 12, counts  # one statement per list or batch, not per provider


# --- errors and the server ---------------------------------------------------------------


def test_syntax_and_unknown_field_errors_have_codes(gql, db) -> None:
    assert gql.errors("{ providers { ")[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    error = gql.errors("{ providers { totalCount secretField } }")[0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_health_and_readiness(server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_graphiql_is_served_in_development(server) -> None:
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_mutations_are_not_allowed_over_get(server) -> None:
    response = httpx.get(f"{server.url}/graphql", params={"query": "mutation { x }"})
    assert response.status_code in (400, 405)
