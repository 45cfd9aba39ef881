"""The agency plugin: the article's KPIs exactly, its documents, fees and profile."""

from __future__ import annotations

from decimal import Decimal

import pytest

from linkstar.core.fees.rules import quote
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.metrics import Direction, ResultStatus, evaluate
from linkstar.core.providers.categories import ProfileInvalid
from linkstar.core.runtime import tables as models
from linkstar.plugins.agency import plugin
from linkstar.plugins.agency.profile import SCHEMA


def metric(key: str):
    return next(m for m in plugin.METRICS if m.key == key)


def test_article_thresholds_are_exact() -> None:
    assert metric("customer_satisfaction").threshold == Decimal("85")
    assert metric("on_time_task_completion").threshold == Decimal("90")
    assert metric("store_gmv_growth").threshold == Decimal("15")
    response = metric("negative_review_response_time")
    assert (response.threshold, response.direction) == (Decimal("24"), Direction.LOWER_IS_BETTER)
    assert response.aggregation.kind is AggregationKind.PERCENTILE
    assert sum(m.weight for m in plugin.METRICS) == 100


def test_satisfaction_passes_at_exactly_85_and_fails_below() -> None:
    satisfaction = metric("customer_satisfaction")
    assert evaluate(satisfaction, Decimal("85"), 10).status is ResultStatus.WARNING
    assert evaluate(satisfaction, Decimal("88"), 10).status is ResultStatus.PASS
    assert evaluate(satisfaction, Decimal("84.99"), 10).status is ResultStatus.FAIL
    assert evaluate(satisfaction, Decimal("99"), 9).status is ResultStatus.INSUFFICIENT_DATA


def test_response_time_of_exactly_24_hours_passes_with_zero_margin() -> None:
    result = evaluate(metric("negative_review_response_time"), Decimal("24"), 10)
    assert result.margin == Decimal("0")
    assert result.status is ResultStatus.WARNING  # passes, inside the 4 h warning band


def test_quote_mainland_regular() -> None:
    q = quote("agency", plugin.FEE_RULES, Region.MAINLAND_CHINA, Tier.REGULAR)
    assert [(line.rule_key, line.amount and str(line.amount)) for line in q.lines] == [
        ("agency.deposit", "20000.00 CNY"),
        ("agency.order_commission", None),
    ]
    assert q.commission_percent() == Decimal("8")


def test_quote_overseas_strategic_partner_pays_least() -> None:
    q = quote("agency", plugin.FEE_RULES, Region.OVERSEAS, Tier.STRATEGIC_PARTNER)
    assert [str(m) for m in q.upfront_totals()] == ["800.00 USD"]
    assert q.commission_percent() == Decimal("5")


def test_profile_validation_lists_every_problem() -> None:
    with pytest.raises(ProfileInvalid) as caught:
        SCHEMA.validate({"team_size": 0, "service_models": ["BRUSHING"], "colour": "red"})
    errors = caught.value.errors
    assert errors["team_size"] == "must be between 1 and 100000"
    assert "unknown values ['BRUSHING']" in errors["service_models"]
    assert errors["colour"] == "is not a field of this profile"
    assert errors["operators_count"] == "is required"


def test_profile_reachable_from_provider_over_http(staff, db) -> None:
    provider = models.Provider(
        legal_name="Xiamen Ruida Ops Co., Ltd.",
        region=Region.MAINLAND_CHINA,
        registration_number="91440300MA5G0T8K2W",
    )
    db.add(provider)
    db.flush()
    db.add(
        models.CategoryProfileRow(
            provider_id=provider.id,
            category_key="agency",
            data=SCHEMA.validate(
                {
                    "team_size": 12,
                    "operators_count": 8,
                    "stores_managed": 40,
                    "service_models": ["ADVERTISING"],
                    "product_categories": ["Beauty"],
                    "languages": ["Chinese", "English"],
                    "minimum_monthly_retainer": {"amount": "5000", "currency": "CNY"},
                }
            ),
        )
    )
    db.commit()
    data = staff(
        """
        query { providers(first: 5) { edges { node { legalName categoryProfiles {
          __typename category { key }
          ... on AgencyProfile { teamSize serviceModels minimumMonthlyRetainer { amount currency } }
        } } } } }
        """
    )
    profile = data["providers"]["edges"][0]["node"]["categoryProfiles"][0]
    assert profile == {
        "__typename": "AgencyProfile",
        "category": {"key": "agency"},
        "teamSize": 12,
        "serviceModels": ["ADVERTISING"],
        "minimumMonthlyRetainer": {"amount": "5000.00", "currency": "CNY"},
    }


def test_the_agency_category_publishes_its_penalties(gql) -> None:
    data = gql(
        '{ serviceCategory(key: "agency") { settlementCycle penaltyRules { key on revenuePercent amount { amount } caps { amount currency } } } }'
    )["serviceCategory"]
    assert data["settlementCycle"] == "MONTH"
    on = {rule["on"]: rule for rule in data["penaltyRules"]}
    assert on["RESTRICTED_INTAKE"]["revenuePercent"] == "5"
    assert {"amount": "5000.00", "currency": "CNY"} in on["RESTRICTED_INTAKE"]["caps"]
    assert on["DOWNGRADE"]["amount"] == {"amount": "2000.00"}


def test_the_agency_as_the_graph_shows_it(gql) -> None:
    category = gql(
        """{ serviceCategories(first: 1) { edges { node { key plugin
              metrics { key threshold unit direction weight aggregation { kind params { name value } } }
              requiredDocuments(region: OVERSEAS) { key } } } } }"""
    )["serviceCategories"]["edges"][0]["node"]
    assert (category["key"], category["plugin"]) == ("agency", "agency")  # first by position
    assert category["metrics"][0] == {
        "key": "customer_satisfaction",
        "threshold": "85",
        "unit": "PERCENT",
        "direction": "HIGHER_IS_BETTER",
        "weight": "20",
        "aggregation": {"kind": "SHARE_AT_OR_ABOVE", "params": [{"name": "cutoff", "value": "4"}]},
    }
    documents = {d["key"] for d in category["requiredDocuments"]}
    assert "company_registration" in documents and "business_licence" not in documents
    quote = gql(
        """{ feeQuote(category: "agency", region: HK_MACAU_TAIWAN, tier: PREFERRED) {
              lines { ruleKey amount { amount currency } ratePercent } commissionPercent } }"""
    )["feeQuote"]
    assert quote == {
        "lines": [
            {
                "ruleKey": "agency.deposit",
                "amount": {"amount": "12500.00", "currency": "HKD"},
                "ratePercent": None,
            },
            {"ruleKey": "agency.order_commission", "amount": None, "ratePercent": "6"},
        ],
        "commissionPercent": "6",
    }
