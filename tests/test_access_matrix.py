"""The role × object × query/mutation matrix: partners see their own nodes and nothing else.

World: provider A (in the pool of the fixture categories `sample` and `spare`, with data of every
core type and a profile of every category that has one: the fixture's `SampleProfile` and each
installed plugin's), provider B (in the pool) and provider C (still in review, so not in the
public directory). Each viewer asks for every object by `node(id:)`; what it may not see must answer
exactly like an id that does not exist (null), and lists are filtered, not failed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    DocumentStatus,
    ObservationSource,
    Region,
    Role,
    TokenScope,
)
from linkstar.core.runtime import tables as models
from tests.fixture_category import PROFILE, PROFILE_DATA
from tests.harness import GraphQLClient, global_id, registry_with_fixtures

VIEWERS = [
    "anonymous",
    "seller",
    "partner_a",
    "partner_b",
    "reviewer",
    "admin",
    "token_a_read",
    "token_a_report",
]
STAFF = {"reviewer", "admin"}
OWNER_A = {"partner_a", "token_a_read"} | STAFF
EVERYONE = set(VIEWERS)

# object → who may see it by node(id:)
EXPECTED = {
    "category": EVERYONE,
    "provider_a": EVERYONE,  # in the public directory
    "provider_c": STAFF,  # not in the pool yet: its existence is not public
    "application_a": OWNER_A,
    "document_a": OWNER_A,
    "observation_a": OWNER_A,
    "sample_profile_a": OWNER_A,  # a plugin type, protected without its own checks
    "account_a": {"partner_a", "token_a_read", "token_a_report", "admin"},
    "charge_a": OWNER_A,  # money: the provider's own and staff
    "statement_a": OWNER_A,
    "payout_a": OWNER_A,
    "api_token_a": {"partner_a", "token_a_read", "token_a_report", "admin"},
    # the marketplace: a seller's own objects, a provider's offers, orders of both parties
    "store_s": {"seller", "admin"},
    "request_s": {"seller", "admin"},
    "offer_a": OWNER_A,
    "order_a": OWNER_A | {"seller"},
    # money of an order: its seller, its provider, staff; never another seller
    "seller_payment_a": OWNER_A | {"seller"},
    "ticket_a": OWNER_A | {"seller"},  # the seller's ticket to provider A
}

# every other category with a profile, whichever plugins are installed: its type is protected
# the same way (a plugin's own node types, such as logistics lanes, are checked by its tests)
PROFILED = [
    c
    for c in registry_with_fixtures().categories.values()
    if c.profile is not None and c.category.key != "sample"
]
for _c in PROFILED:
    EXPECTED[f"{_c.category.key}_profile_a"] = OWNER_A


def type_name(graphql_type: type) -> str:
    """The GraphQL name of a strawberry type."""
    return graphql_type.__strawberry_definition__.name


def _provider(db, name: str, status: ApplicationStatus) -> models.Provider:
    row = models.Provider(
        legal_name=name, region=Region.MAINLAND_CHINA, registration_number=f"REG-{name}"
    )
    db.add(row)
    db.flush()
    db.add(models.Application(provider_id=row.id, category_key="sample", status=status))
    return row


def _marketplace(db, seller_id: int, provider_id: int) -> tuple:
    """A store and an accepted request of the seller: offer and order with provider A."""
    store = models.Store(
        seller_account_id=seller_id, marketplace="AMAZON", site="US", name="S", currency="USD"
    )
    request = models.ServiceRequest(
        seller_account_id=seller_id,
        category_key="sample",
        title="t",
        scope="s",
        marketplaces=["AMAZON"],
        regions=[],
        requirements={},
        budget_amount=Decimal(100),
        budget_currency="USD",
        desired_start=datetime(2026, 12, 1, tzinfo=UTC).date(),
        excluded_provider_ids=[],
        status="ORDERED",
        seed=1,
        rounds=1,
    )
    db.add_all([store, request])
    db.flush()
    offer = models.Offer(
        request_id=request.id,
        provider_id=provider_id,
        category_key="sample",
        round=1,
        status="ACCEPTED",
        respond_by=datetime(2026, 12, 1, tzinfo=UTC),
        explanation={"candidates": []},
    )
    db.add(offer)
    db.flush()
    order = models.Order(
        request_id=request.id,
        offer_id=offer.id,
        seller_account_id=seller_id,
        provider_id=provider_id,
        category_key="sample",
        status="IN_PROGRESS",
        price_amount=Decimal(100),
        price_currency="USD",
    )
    db.add(order)
    db.flush()
    ticket = models.SellerTicket(
        seller_account_id=seller_id,
        provider_id=provider_id,
        category_key="sample",
        order_id=order.id,
        kind="GENERAL",
        subject="s",
        body="b",
        status="OPEN",
    )
    db.add(ticket)
    db.commit()
    return store, request, offer, order, ticket


@pytest.fixture
def world(db, sign_in, server):
    a = _provider(db, "Alpha", ApplicationStatus.ACTIVE)
    b = _provider(db, "Beta", ApplicationStatus.ACTIVE)
    c = _provider(db, "Gamma", ApplicationStatus.IN_REVIEW)
    db.add(
        models.Application(provider_id=a.id, category_key="spare", status=ApplicationStatus.ACTIVE)
    )
    document = models.Document(
        provider_id=a.id,
        requirement_key="business_licence",
        filename="l.pdf",
        media_type="application/pdf",
        size_bytes=10,
        sha256="f" * 64,
        status=DocumentStatus.PENDING,
    )
    observation = models.KpiObservation(
        provider_id=a.id,
        category_key="sample",
        metric_key="on_time_rate",
        subject_ref="task-1",
        observed_at=datetime(2026, 10, 3, tzinfo=UTC),
        value=Decimal(1),
        source=ObservationSource.PLATFORM,
        idempotency_key="k1",
    )
    sample_profile = models.CategoryProfileRow(
        provider_id=a.id, category_key="sample", data=PROFILE.validate(PROFILE_DATA)
    )
    rng = random.Random(7)
    profiles = {
        c.category.key: models.CategoryProfileRow(
            provider_id=a.id,
            category_key=c.category.key,
            data=c.profile.validate(c.profile.demo(rng, Region.MAINLAND_CHINA)),
        )
        for c in PROFILED
    }
    charge = models.Charge(
        provider_id=a.id,
        category_key="sample",
        rule_key="sample.deposit",
        name="Performance deposit",
        kind="DEPOSIT",
        scope="all regions; all tiers",
        occasion="APPROVAL",
        currency="CNY",
        amount=Decimal("1000.00"),
        paid=Decimal(0),
        waived=Decimal(0),
        status="OPEN",
        due_on=datetime(2026, 12, 31, tzinfo=UTC).date(),
        dedupe_key="matrix-charge",
    )
    db.add_all([document, observation, sample_profile, *profiles.values(), charge])
    db.commit()
    zero = Decimal(0)
    statement = models.Statement(
        provider_id=a.id,
        cycle="2026-10",
        currency="CNY",
        opening=zero,
        orders=Decimal("100.00"),
        commission=zero,
        penalties=zero,
        adjustments=zero,
        held_back=zero,
        closing=Decimal("100.00"),
        payout=Decimal("100.00"),
        order_count=1,
    )
    db.add(statement)
    db.flush()
    payout = models.Payout(
        statement_id=statement.id, provider_id=a.id, currency="CNY", amount=Decimal("100.00")
    )
    db.add(payout)
    db.commit()
    application = (
        db.query(models.Application).filter_by(provider_id=a.id, category_key="sample").one()
    )

    clients: dict[str, GraphQLClient] = {
        "anonymous": GraphQLClient(server.url),
        "seller": sign_in(Role.SELLER),
        "partner_a": sign_in(Role.PARTNER, provider_id=a.id, owner=True),
        "partner_b": sign_in(Role.PARTNER, provider_id=b.id),  # a member, not the owner
        "reviewer": sign_in(Role.REVIEWER),
        "admin": sign_in(Role.ADMIN),
    }
    create = 'mutation($s: [TokenScope!]!) { createApiToken(name: "m", scopes: $s, expiresInDays: 5) { token apiToken { id } } }'
    read = clients["partner_a"](create, {"s": [TokenScope.READ.value]})["createApiToken"]
    report = clients["partner_a"](create, {"s": [TokenScope.REPORT_KPI.value]})["createApiToken"]
    clients["token_a_read"] = GraphQLClient(server.url, read["token"])
    clients["token_a_report"] = GraphQLClient(server.url, report["token"])
    account_a = db.query(models.Account).filter_by(provider_id=a.id).one()
    seller = db.query(models.Account).filter_by(email=clients["seller"].email).one()
    store, request, offer, order, ticket = _marketplace(db, seller.id, a.id)
    entry = models.JournalEntry(
        kind="SELLER_PAYMENT",
        memo="m",
        source_type="order",
        source_id=order.id,
        idempotency_key="matrix-seller-payment",
    )
    db.add(entry)
    db.flush()
    seller_payment = models.SellerPayment(
        order_id=order.id,
        seller_account_id=seller.id,
        provider_id=a.id,
        category_key="sample",
        kind="PAYMENT",
        amount=Decimal("100.00"),
        currency="USD",
        bank_reference="B-1",
        entry_id=entry.id,
    )
    db.add(seller_payment)
    db.commit()
    ids = {
        "category": global_id("ServiceCategory", "sample"),
        "provider_a": global_id("Provider", a.id),
        "provider_c": global_id("Provider", c.id),
        "application_a": global_id("Application", application.id),
        "document_a": global_id("Document", document.id),
        "observation_a": global_id("KpiObservation", observation.id),
        "sample_profile_a": global_id("SampleProfile", sample_profile.id),
        **{
            f"{c.category.key}_profile_a": global_id(
                type_name(c.profile.graphql_type), profiles[c.category.key].id
            )
            for c in PROFILED
        },
        "account_a": global_id("Account", account_a.id),
        "api_token_a": read["apiToken"]["id"],
        "charge_a": global_id("Charge", charge.id),
        "statement_a": global_id("Statement", statement.id),
        "payout_a": global_id("Payout", payout.id),
        "store_s": global_id("Store", store.id),
        "request_s": global_id("ServiceRequest", request.id),
        "offer_a": global_id("Offer", offer.id),
        "order_a": global_id("Order", order.id),
        "seller_payment_a": global_id("SellerPayment", seller_payment.id),
        "ticket_a": global_id("SellerTicket", ticket.id),
    }
    yield {"clients": clients, "ids": ids, "a": a, "c": c}
    for client in clients.values():
        client.http.close()


@pytest.mark.parametrize("viewer", VIEWERS)
def test_node_answers_only_what_the_viewer_may_see(viewer: str, world) -> None:
    client = world["clients"][viewer]
    names = list(world["ids"])
    data = client(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [world["ids"][n] for n in names]}
    )["nodes"]
    seen = {name for name, node in zip(names, data, strict=True) if node is not None}
    expected = {name for name, who in EXPECTED.items() if viewer in who}
    assert seen == expected
    for name in names:  # node(id:) agrees with nodes(ids:)
        single = client("query($id: ID!) { node(id: $id) { id } }", {"id": world["ids"][name]})[
            "node"
        ]
        assert (single is not None) == (name in expected), name


def test_a_hidden_node_is_indistinguishable_from_a_missing_one(world) -> None:
    partner_b = world["clients"]["partner_b"]
    hidden = partner_b.raw(
        "query($id: ID!) { node(id: $id) { id } }", {"id": world["ids"]["document_a"]}
    ).json()
    missing = partner_b.raw(
        "query($id: ID!) { node(id: $id) { id } }", {"id": global_id("Document", 987654)}
    ).json()
    assert hidden == missing == {"data": {"node": None}}


PROVIDER_A = """query($id: ID!) { provider(id: $id) {
  legalName registrationNumber
  applications { totalCount } documents { totalCount } observations { totalCount }
  categoryProfiles { __typename }
  sample: categoryProfile(category: "sample") { id } } }"""


@pytest.mark.parametrize("viewer", VIEWERS)
def test_private_fields_and_nested_lists_are_filtered_not_failed(viewer: str, world) -> None:
    data = world["clients"][viewer](PROVIDER_A, {"id": world["ids"]["provider_a"]})["provider"]
    assert data["legalName"] == "Alpha"  # the public profile
    if viewer in OWNER_A:
        assert data["registrationNumber"] == "REG-Alpha"
        assert (
            data["applications"]["totalCount"],
            data["documents"]["totalCount"],
            data["observations"]["totalCount"],
        ) == (2, 1, 1)
        typenames = {p["__typename"] for p in data["categoryProfiles"]}
        assert typenames == {"SampleProfile"} | {
            type_name(c.profile.graphql_type) for c in PROFILED
        }
        assert data["sample"] is not None
    else:
        assert data["registrationNumber"] is None
        assert (
            data["applications"]["totalCount"],
            data["documents"]["totalCount"],
            data["observations"]["totalCount"],
        ) == (0, 0, 0)
        assert data["categoryProfiles"] == [] and data["sample"] is None


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_provider_list_is_the_public_directory_plus_what_you_may_see(
    viewer: str, world
) -> None:
    data = world["clients"][viewer]("{ providers { totalCount edges { node { legalName } } } }")[
        "providers"
    ]
    names = [e["node"]["legalName"] for e in data["edges"]]
    assert names == (["Alpha", "Beta", "Gamma"] if viewer in STAFF else ["Alpha", "Beta"])
    assert data["totalCount"] == len(names)


MUTATIONS = {
    "invite": ('mutation { inviteMember(email: "x@example.com") { email } }', {"partner_a"}),
    "create_staff": (
        'mutation { createStaffAccount(email: "new-staff@linkstar.example", password: "long staff passphrase", displayName: "S", role: REVIEWER) { email } }',
        {"admin"},
    ),
    "audit_log": ("{ auditLog { totalCount } }", {"admin"}),
    "ledger": ("{ ledgerReconciliation { balanced } }", STAFF),
    "ledger_balances": ("{ ledgerBalances { code } }", STAFF),
    "settle": ('mutation { settleCycle(cycle: "2026-09") { id } }', STAFF),
    "api_tokens": (
        "{ apiTokens { totalCount } }",
        {"seller", "partner_a", "partner_b", "reviewer", "admin"},
    ),
    "create_store": (
        'mutation { createStore(marketplace: AMAZON, site: "DE", name: "M", currency: "EUR") { id } }',
        {"seller"},
    ),
    "stores": ("{ stores { totalCount } }", {"seller"}),
    "service_requests": ("{ serviceRequests { totalCount } }", {"seller", "reviewer", "admin"}),
    "offers": (
        "{ offers { totalCount } }",
        {"partner_a", "partner_b", "token_a_read", "reviewer", "admin"},
    ),
    "orders": (
        "{ orders { totalCount } }",
        {"seller", "partner_a", "partner_b", "token_a_read", "reviewer", "admin"},
    ),
    "seller_tickets": (
        "{ sellerTickets { totalCount } }",
        {"seller", "partner_a", "partner_b", "token_a_read", "reviewer", "admin"},
    ),
    "expire_offers": ("mutation { expireOffers }", {"reviewer", "admin"}),
    "declare_capacity": (
        'mutation { declareCapacity(category: "sample", maxOpenOrders: 3) { maxOpenOrders } }',
        {"partner_a", "partner_b"},
    ),
}


# Lists are filtered to what the viewer is a party to.
LIST_COUNTS = {
    "{ sellerTickets { totalCount } }": {
        "seller": 1,
        "partner_a": 1,
        "token_a_read": 1,
        "partner_b": 0,
        "reviewer": 1,
        "admin": 1,
    },
    "{ serviceRequests { totalCount } }": {"seller": 1, "reviewer": 1, "admin": 1},
    "{ offers { totalCount } }": {
        "partner_a": 1,
        "token_a_read": 1,
        "partner_b": 0,
        "reviewer": 1,
        "admin": 1,
    },
    "{ orders { totalCount } }": {
        "seller": 1,
        "partner_a": 1,
        "token_a_read": 1,
        "partner_b": 0,
        "reviewer": 1,
        "admin": 1,
    },
}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_marketplace_lists_hold_only_what_the_viewer_is_a_party_to(viewer: str, world) -> None:
    client = world["clients"][viewer]
    for query, counts in LIST_COUNTS.items():
        if viewer not in counts:
            continue
        data = client(query)
        assert next(iter(data.values()))["totalCount"] == counts[viewer], (query, viewer)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_mutations_and_staff_queries_check_the_policy(viewer: str, world) -> None:
    client = world["clients"][viewer]
    for name, (document, allowed) in MUTATIONS.items():
        body = client.raw(document).json()
        if viewer in allowed:
            assert not body.get("errors"), (name, body)
        else:
            expected = "UNAUTHENTICATED" if viewer == "anonymous" else "FORBIDDEN"
            assert body["errors"][0]["extensions"]["code"] == expected, (name, body)
