"""The erp plugin: its KPIs at and around their thresholds, documents, fees and profile."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from linkstar.core.fees.rules import FeeQuote, quote, rule_problems
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.metrics import Direction, ResultStatus, evaluate, metric_problems
from linkstar.core.kpi.units import Unit
from linkstar.core.onboarding.documents import requirement_problems
from linkstar.core.providers.categories import ProfileInvalid
from linkstar.core.runtime import tables as models
from linkstar.plugins.erp import plugin
from linkstar.plugins.erp.profile import demo as demo_profile
from linkstar.plugins.erp.profile import validate

D = Decimal


def metric(key: str):
    return next(m for m in plugin.METRICS if m.key == key)


def status(key: str, value: str | None, sample_size: int) -> ResultStatus:
    return evaluate(metric(key), None if value is None else D(value), sample_size).status


def valid_profile(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "product_name": "OrderBridge ERP",
        "deployment_models": ["SAAS", "PRIVATE_CLOUD"],
        "marketplace_integrations": ["AMAZON", "SHOPEE", "TIKTOK_SHOP"],
        "other_integrations": ["4PX warehouse", "Kingdee"],
        "open_api": True,
        "customers_count": 320,
        "typical_go_live_days": 7,
        "saas_monthly_price": {"amount": "99", "currency": "USD"},
        "data_residency": "AWS eu-central-1, Frankfurt",
    }
    data.update(changes)
    return data


# --- category and metrics -------------------------------------------------------------------


def test_category_sits_at_position_20_and_needs_a_technical_interview() -> None:
    assert (plugin.CATEGORY.key, plugin.CATEGORY.position) == ("erp", 20)
    assert plugin.CATEGORY.interview_required is True


def test_thresholds_directions_and_aggregations() -> None:
    # given the five ERP metrics, when read, then each holds the platform's number
    lower, higher = Direction.LOWER_IS_BETTER, Direction.HIGHER_IS_BETTER
    expected = {
        "ticket_first_response_time": (D("4"), lower, AggregationKind.PERCENTILE),
        "integration_uptime": (D("99.5"), higher, AggregationKind.MEAN),
        "order_sync_success_rate": (D("99"), higher, AggregationKind.RATIO_OF_COUNTS),
        "critical_bug_resolution_time": (D("48"), lower, AggregationKind.MAXIMUM),
        "seller_satisfaction": (D("85"), higher, AggregationKind.SHARE_AT_OR_ABOVE),
    }
    actual = {m.key: (m.threshold, m.direction, m.aggregation.kind) for m in plugin.METRICS}
    assert actual == expected
    assert metric("ticket_first_response_time").aggregation.params == {"percentile": D("90")}
    assert metric("seller_satisfaction").aggregation.params == {"cutoff": D("4")}
    assert metric("order_sync_success_rate").observed_unit is Unit.OUTCOME
    assert metric("seller_satisfaction").observed_unit is Unit.RATING


def test_weights_add_up_to_exactly_100_and_every_metric_is_valid() -> None:
    assert [m.weight for m in plugin.METRICS] == [D("20"), D("20"), D("25"), D("15"), D("20")]
    assert sum(m.weight for m in plugin.METRICS) == 100
    assert [p for m in plugin.METRICS for p in metric_problems(m)] == []


def test_ticket_response_p90_of_exactly_4_hours_passes_inside_the_warning_band() -> None:
    # given threshold 4 h (lower is better), warning band 1 h, minimum 20 tickets
    result = evaluate(metric("ticket_first_response_time"), D("4"), 20)
    assert (result.status, result.margin) == (ResultStatus.WARNING, D("0"))
    assert status("ticket_first_response_time", "3.5", 20) is ResultStatus.WARNING
    assert status("ticket_first_response_time", "3", 20) is ResultStatus.PASS  # margin == band
    assert status("ticket_first_response_time", "4.01", 20) is ResultStatus.FAIL
    assert status("ticket_first_response_time", "1", 19) is ResultStatus.INSUFFICIENT_DATA


def test_integration_uptime_around_99_5_percent() -> None:
    # given mean daily uptime >= 99.5 %, warning band 0.3, at least 20 days observed
    assert status("integration_uptime", "99.5", 20) is ResultStatus.WARNING
    assert status("integration_uptime", "99.79", 30) is ResultStatus.WARNING
    assert status("integration_uptime", "99.8", 30) is ResultStatus.PASS
    assert status("integration_uptime", "99.49", 30) is ResultStatus.FAIL
    assert status("integration_uptime", "100", 19) is ResultStatus.INSUFFICIENT_DATA


def test_order_sync_needs_200_orders_and_99_percent() -> None:
    # given 198 of 200 orders synced (99 %), the threshold is met but inside the 0.5 band
    assert status("order_sync_success_rate", "99", 200) is ResultStatus.WARNING
    assert status("order_sync_success_rate", "99.5", 200) is ResultStatus.PASS
    assert status("order_sync_success_rate", "98.5", 200) is ResultStatus.FAIL
    assert status("order_sync_success_rate", "100", 199) is ResultStatus.INSUFFICIENT_DATA


def test_worst_critical_bug_decides_and_a_month_without_one_has_no_verdict() -> None:
    # given the worst critical bug of the month, threshold 48 h, warning band 12 h
    assert status("critical_bug_resolution_time", "48", 1) is ResultStatus.WARNING
    assert status("critical_bug_resolution_time", "36", 3) is ResultStatus.PASS
    assert status("critical_bug_resolution_time", "48.5", 1) is ResultStatus.FAIL
    assert status("critical_bug_resolution_time", None, 0) is ResultStatus.INSUFFICIENT_DATA


def test_seller_satisfaction_at_85_percent() -> None:
    assert status("seller_satisfaction", "85", 10) is ResultStatus.WARNING
    assert status("seller_satisfaction", "88", 10) is ResultStatus.PASS
    assert status("seller_satisfaction", "84.99", 10) is ResultStatus.FAIL
    assert status("seller_satisfaction", "100", 9) is ResultStatus.INSUFFICIENT_DATA


# --- documents ------------------------------------------------------------------------------


def test_documents_are_valid_and_unique() -> None:
    keys = [d.key for d in plugin.DOCUMENTS]
    assert len(keys) == len(set(keys))
    assert [p for d in plugin.DOCUMENTS for p in requirement_problems(d)] == []


def test_mainland_vendor_must_show_mlps_and_software_copyright() -> None:
    # given a mainland applicant, when its mandatory documents are listed
    asked = [d for d in plugin.DOCUMENTS if d.applies_to(Region.MAINLAND_CHINA)]
    mandatory = {d.key for d in asked if d.mandatory}
    # then it includes the mainland-only security and copyright certificates
    assert mandatory == {
        "business_licence",
        "legal_representative_id",
        "contact_person_id",
        "team_composition",
        "service_cases",
        "service_price_list",
        "platform_certifications",
        "api_integration_spec",
        "data_processing_agreement",
        "data_security_certification",
        "software_copyright",
    }


def test_overseas_vendor_gets_an_optional_security_certification_instead() -> None:
    asked = {d.key: d.mandatory for d in plugin.DOCUMENTS if d.applies_to(Region.OVERSEAS)}
    assert asked["international_security_certification"] is False
    assert asked["company_registration"] is True
    assert "software_copyright" not in asked
    assert "data_security_certification" not in asked
    spec = next(d for d in plugin.DOCUMENTS if d.key == "api_integration_spec")
    assert spec.media_types == frozenset({"application/pdf"})


# --- fees -----------------------------------------------------------------------------------


def lines(q: FeeQuote) -> list[tuple[str, str | None, Decimal | None]]:
    """Each quote line as (rule key, amount as text, commission rate)."""
    return [(ln.rule_key, ln.amount and str(ln.amount), ln.rate_percent) for ln in q.lines]


def test_fee_rules_are_unambiguous_with_one_default_per_option_group() -> None:
    assert rule_problems(plugin.FEE_RULES) == []
    defaults = {r.option.value for r in plugin.FEE_RULES if r.option and r.option.default}
    assert defaults == {"STANDARD"}


def test_mainland_regular_quote_defaults_to_standard_integration() -> None:
    # given a mainland regular applicant choosing no option
    q = quote("erp", plugin.FEE_RULES, Region.MAINLAND_CHINA, Tier.REGULAR)
    # then STANDARD integration is quoted: 30000 + 10000 + 15000 CNY upfront, 10 % commission
    assert q.options == {"integration_complexity": "STANDARD"}
    assert lines(q) == [
        ("erp.deposit", "30000.00 CNY", None),
        ("erp.annual_fee", "10000.00 CNY", None),
        ("erp.order_commission", None, D("10")),
        ("erp.api_integration", "15000.00 CNY", None),
    ]
    assert [str(m) for m in q.upfront_totals()] == ["55000.00 CNY"]
    assert q.commission_percent() == D("10")


def test_hong_kong_strategic_partner_with_advanced_integration() -> None:
    q = quote(
        "erp",
        plugin.FEE_RULES,
        Region.HK_MACAU_TAIWAN,
        Tier.STRATEGIC_PARTNER,
        {"integration_complexity": "ADVANCED"},
    )
    assert lines(q) == [
        ("erp.deposit", "9000.00 HKD", None),
        ("erp.annual_fee", "11000.00 HKD", None),
        ("erp.order_commission", None, D("6")),
        ("erp.api_integration", "44000.00 HKD", None),
    ]
    assert [str(m) for m in q.upfront_totals()] == ["64000.00 HKD"]


def test_overseas_basic_integration_is_priced_in_usd() -> None:
    q = quote(
        "erp", plugin.FEE_RULES, Region.OVERSEAS, Tier.REGULAR, {"integration_complexity": "BASIC"}
    )
    assert [str(m) for m in q.upfront_totals()] == ["6300.00 USD"]  # 4200 + 1400 + 700


def test_unknown_integration_complexity_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        quote(
            "erp",
            plugin.FEE_RULES,
            Region.OVERSEAS,
            Tier.PREFERRED,
            {"integration_complexity": "ENTERPRISE"},
        )
    assert caught.value.suggestion == "choose one of ['ADVANCED', 'BASIC', 'STANDARD']"
    with pytest.raises(InvalidInput):
        quote("erp", plugin.FEE_RULES, Region.OVERSEAS, Tier.PREFERRED, {"exam": "BASIC"})


# --- profile --------------------------------------------------------------------------------


def test_valid_profile_is_normalised() -> None:
    data = validate(valid_profile(product_name="  SkuFlow  "))
    assert data["product_name"] == "SkuFlow"
    assert data["saas_monthly_price"] == {"amount": "99.00", "currency": "USD"}
    assert validate(valid_profile(other_integrations=[]))["other_integrations"] == []


def test_profile_validation_lists_every_problem() -> None:
    with pytest.raises(ProfileInvalid) as caught:
        validate(
            {
                "product_name": "",
                "deployment_models": ["MAINFRAME"],
                "marketplace_integrations": ["AMAZON", "AMAZON"],
                "open_api": "yes",
                "customers_count": -1,
                "colour": "red",
            }
        )
    errors = caught.value.errors
    assert errors == {
        "product_name": "must be a non-empty string",
        "deployment_models": errors["deployment_models"],
        "marketplace_integrations": "must not repeat a value",
        "open_api": "must be true or false",
        "customers_count": "must be between 0 and 10000000",
        "typical_go_live_days": "is required",
        "data_residency": "is required",
        "colour": "is not a field of this profile",
    }
    assert "unknown values ['MAINFRAME']" in errors["deployment_models"]


def test_saas_price_without_a_saas_offer_is_refused_with_the_other_errors() -> None:
    with pytest.raises(ProfileInvalid) as caught:
        validate(valid_profile(deployment_models=["ON_PREMISE"], customers_count=-5))
    assert caught.value.errors == {
        "customers_count": "must be between 0 and 10000000",
        "saas_monthly_price": "is only given when deployment_models includes SAAS",
    }
    data = validate(valid_profile(deployment_models=["ON_PREMISE"], saas_monthly_price=None))
    assert "saas_monthly_price" not in data


def test_demo_profiles_pass_validation_in_every_region() -> None:
    rng = random.Random(7)
    for _ in range(50):
        for region in Region:
            validate(demo_profile(rng, region))


# --- over HTTP ------------------------------------------------------------------------------


def test_profile_reachable_from_provider_over_http(staff, db) -> None:
    # given an overseas ERP vendor with a stored profile
    provider = models.Provider(
        legal_name="Bridgewave Software Ltd.",
        region=Region.OVERSEAS,
        registration_number="UK-12345678",
    )
    db.add(provider)
    db.flush()
    db.add(
        models.CategoryProfileRow(
            provider_id=provider.id,
            category_key="erp",
            data=validate(valid_profile()),
        )
    )
    db.commit()
    # when it is queried through the provider
    data = staff(
        """
        query { providers(first: 5) { edges { node { legalName categoryProfiles {
          __typename category { key interviewRequired }
          ... on ErpProfile {
            productName deploymentModels marketplaceIntegrations otherIntegrations openApi
            customersCount typicalGoLiveDays saasMonthlyPrice { amount currency } dataResidency
          }
        } } } } }
        """
    )
    # then the ERP profile comes back as stored
    node = data["providers"]["edges"][0]["node"]
    assert node["legalName"] == "Bridgewave Software Ltd."
    assert node["categoryProfiles"] == [
        {
            "__typename": "ErpProfile",
            "category": {"key": "erp", "interviewRequired": True},
            "productName": "OrderBridge ERP",
            "deploymentModels": ["SAAS", "PRIVATE_CLOUD"],
            "marketplaceIntegrations": ["AMAZON", "SHOPEE", "TIKTOK_SHOP"],
            "otherIntegrations": ["4PX warehouse", "Kingdee"],
            "openApi": True,
            "customersCount": 320,
            "typicalGoLiveDays": 7,
            "saasMonthlyPrice": {"amount": "99.00", "currency": "USD"},
            "dataResidency": "AWS eu-central-1, Frankfurt",
        }
    ]


def test_fee_quote_over_http_with_advanced_integration(gql) -> None:
    data = gql(
        """
        query { feeQuote(category: "erp", region: OVERSEAS, tier: PREFERRED,
                         options: [{group: "integration_complexity", value: "ADVANCED"}]) {
          options { group value }
          lines { ruleKey amount { amount currency } ratePercent }
          upfrontTotals { amount currency }
          commissionPercent
        } }
        """
    )

    def usd(amount: str) -> dict[str, str]:
        return {"amount": amount, "currency": "USD"}

    assert data["feeQuote"] == {
        "options": [{"group": "integration_complexity", "value": "ADVANCED"}],
        "lines": [
            {"ruleKey": "erp.deposit", "amount": usd("2100.00"), "ratePercent": None},
            {"ruleKey": "erp.annual_fee", "amount": usd("1400.00"), "ratePercent": None},
            {"ruleKey": "erp.order_commission", "amount": None, "ratePercent": "8"},
            {"ruleKey": "erp.api_integration", "amount": usd("5600.00"), "ratePercent": None},
        ],
        "upfrontTotals": [{"amount": "9100.00", "currency": "USD"}],
        "commissionPercent": "8",
    }


def test_unknown_integration_complexity_over_http_names_the_choices(gql) -> None:
    errors = gql.errors(
        """
        query { feeQuote(category: "erp", region: MAINLAND_CHINA, tier: REGULAR,
                         options: [{group: "integration_complexity", value: "ENTERPRISE"}]) {
          commissionPercent
        } }
        """
    )
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
    assert "'ENTERPRISE' is not an option of 'integration_complexity'" in errors[0]["message"]
