"""The training plugin: its KPIs at and around their thresholds, documents, fees and profile."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from linkstar.core.fees.rules import FeeKind, quote, rule_problems
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.metrics import Direction, PeriodKind, ResultStatus, evaluate, metric_problems
from linkstar.core.onboarding.documents import requirement_problems
from linkstar.core.providers.categories import ProfileInvalid
from linkstar.core.runtime import tables as models
from linkstar.plugins.training import plugin
from linkstar.plugins.training.profile import SCHEMA, SPEC, TrainingProfile


def metric(key: str):
    return next(m for m in plugin.METRICS if m.key == key)


def document(key: str):
    return next(d for d in plugin.DOCUMENTS if d.key == key)


VALID_PROFILE = {
    "delivery_formats": ["LIVE_ONLINE", "BOOTCAMP"],
    "course_topics": ["Amazon PPC advertising", "Listing optimisation"],
    "instructors_count": 6,
    "learners_trained_total": 1200,
    "marketplaces_taught": ["AMAZON", "TIKTOK_SHOP"],
    "certification_offered": True,
    "course_fee_from": {"amount": "1980", "currency": "CNY"},
}


def test_category_is_training_at_position_40_with_a_trial_lesson() -> None:
    assert (plugin.CATEGORY.key, plugin.CATEGORY.position) == ("training", 40)
    assert plugin.CATEGORY.interview_required is True


def test_thresholds_directions_and_weights() -> None:
    # given the five declared metrics
    expected = {
        "course_completion_rate": (Decimal("80"), Direction.HIGHER_IS_BETTER, Decimal("25")),
        "learner_satisfaction": (Decimal("85"), Direction.HIGHER_IS_BETTER, Decimal("25")),
        "certification_exam_pass_rate": (Decimal("70"), Direction.HIGHER_IS_BETTER, Decimal("20")),
        "learner_question_response_time": (Decimal("24"), Direction.LOWER_IS_BETTER, Decimal("15")),
        "sessions_delivered_as_scheduled": (
            Decimal("95"),
            Direction.HIGHER_IS_BETTER,
            Decimal("15"),
        ),
    }
    # then each has its threshold, direction and weight, and the weights make 100 exactly
    assert {m.key: (m.threshold, m.direction, m.weight) for m in plugin.METRICS} == expected
    assert sum(m.weight for m in plugin.METRICS) == Decimal("100")
    assert [metric_problems(m) for m in plugin.METRICS] == [[]] * 5
    assert metric("learner_satisfaction").aggregation.params == {"cutoff": Decimal("4")}
    assert metric("learner_question_response_time").aggregation.kind is AggregationKind.PERCENTILE
    assert metric("certification_exam_pass_rate").window.period is PeriodKind.QUARTER
    assert metric("course_completion_rate").window.period is PeriodKind.MONTH


def test_completion_rate_at_and_around_80() -> None:
    completion = metric("course_completion_rate")  # >= 80, warning band 5, 20 learners minimum
    assert evaluate(completion, Decimal("80"), 20).status is ResultStatus.WARNING
    assert evaluate(completion, Decimal("84.99"), 20).status is ResultStatus.WARNING
    assert evaluate(completion, Decimal("85"), 20).status is ResultStatus.PASS
    assert evaluate(completion, Decimal("79.99"), 20).status is ResultStatus.FAIL
    assert evaluate(completion, Decimal("100"), 19).status is ResultStatus.INSUFFICIENT_DATA


def test_satisfaction_of_exactly_85_passes_inside_the_warning_band() -> None:
    satisfaction = metric("learner_satisfaction")
    result = evaluate(satisfaction, Decimal("85"), 15)
    assert (result.status, result.margin) == (ResultStatus.WARNING, Decimal("0"))
    assert evaluate(satisfaction, Decimal("88"), 15).status is ResultStatus.PASS
    assert evaluate(satisfaction, Decimal("84.9"), 15).status is ResultStatus.FAIL


def test_exam_pass_rate_needs_ten_candidates_for_a_verdict() -> None:
    pass_rate = metric("certification_exam_pass_rate")
    assert evaluate(pass_rate, Decimal("70"), 10).status is ResultStatus.WARNING
    assert evaluate(pass_rate, Decimal("60"), 10).status is ResultStatus.FAIL
    assert evaluate(pass_rate, Decimal("60"), 9).status is ResultStatus.INSUFFICIENT_DATA
    assert evaluate(pass_rate, None, 30).status is ResultStatus.INSUFFICIENT_DATA


def test_response_time_is_lower_is_better_at_24_hours() -> None:
    response = metric("learner_question_response_time")  # p90 <= 24 h, warning band 4 h
    assert evaluate(response, Decimal("24"), 20).status is ResultStatus.WARNING
    at_band = evaluate(response, Decimal("20"), 20)
    assert (at_band.status, at_band.margin) == (ResultStatus.PASS, Decimal("4"))
    late = evaluate(response, Decimal("24.5"), 20)
    assert (late.status, late.margin) == (ResultStatus.FAIL, Decimal("-0.5"))


def test_sessions_as_scheduled_at_95() -> None:
    sessions = metric("sessions_delivered_as_scheduled")  # >= 95, warning band 2
    assert evaluate(sessions, Decimal("95"), 10).status is ResultStatus.WARNING
    assert evaluate(sessions, Decimal("97"), 10).status is ResultStatus.PASS
    assert evaluate(sessions, Decimal("94"), 10).status is ResultStatus.FAIL


def test_documents_are_valid_and_the_permit_is_mainland_only_and_optional() -> None:
    assert [requirement_problems(d) for d in plugin.DOCUMENTS] == [[]] * len(plugin.DOCUMENTS)
    keys = [d.key for d in plugin.DOCUMENTS]
    assert len(set(keys)) == len(keys)
    assert {"curriculum_outline", "instructor_credentials", "education_permit"} <= set(keys)
    permit = document("education_permit")
    assert (permit.mandatory, permit.expires) == (False, True)
    assert [r for r in Region if permit.applies_to(r)] == [Region.MAINLAND_CHINA]
    assert document("curriculum_outline").media_types == frozenset({"application/pdf"})


def test_fee_rules_are_unambiguous() -> None:
    assert rule_problems(plugin.FEE_RULES) == []


def test_quote_mainland_regular_for_25_candidates() -> None:
    # given a regular mainland institution entering 25 candidates for the exam
    q = quote(
        "training",
        plugin.FEE_RULES,
        Region.MAINLAND_CHINA,
        Tier.REGULAR,
        quantities={"candidate": 25},
    )
    # then the exam line is 180.00 x 25 and everything but the commission is upfront
    assert [(line.rule_key, line.amount and str(line.amount)) for line in q.lines] == [
        ("training.deposit", "10000.00 CNY"),
        ("training.annual_listing_fee", "3000.00 CNY"),
        ("training.certification_exam_fee", "4500.00 CNY"),
        ("training.course_sales_commission", None),
    ]
    exam = q.lines[2]
    assert (exam.kind, str(exam.unit_price), exam.quantity, exam.unit) == (
        FeeKind.PER_UNIT_FEE,
        "180.00 CNY",
        25,
        "candidate",
    )
    assert [str(m) for m in q.upfront_totals()] == ["17500.00 CNY"]
    assert q.commission_percent() == Decimal("15")


def test_quote_overseas_preferred_pays_the_reduced_exam_fee() -> None:
    q = quote(
        "training", plugin.FEE_RULES, Region.OVERSEAS, Tier.PREFERRED, quantities={"candidate": 25}
    )
    exam = next(line for line in q.lines if line.rule_key == "training.certification_exam_fee")
    assert (str(exam.unit_price), str(exam.amount)) == ("19.80 USD", "495.00 USD")
    # 900.00 deposit + 450.00 listing fee + 495.00 exams
    assert [str(m) for m in q.upfront_totals()] == ["1845.00 USD"]
    assert q.commission_percent() == Decimal("12")


def test_quote_with_an_unknown_unit_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        quote(
            "training",
            plugin.FEE_RULES,
            Region.HK_MACAU_TAIWAN,
            Tier.REGULAR,
            quantities={"learner": 3},
        )
    assert caught.value.suggestion == "units priced here: ['candidate']"


def test_profile_validation_lists_every_problem() -> None:
    with pytest.raises(ProfileInvalid) as caught:
        SCHEMA.validate(
            {
                **VALID_PROFILE,
                "delivery_formats": ["CORRESPONDENCE"],
                "instructors_count": 0,
                "marketplaces_taught": ["AMAZON", "AMAZON"],
                "certification_offered": "yes",
                "course_fee_from": {"amount": 1980.0, "currency": "CNY"},
                "campus": "Shenzhen",
            }
        )
    errors = caught.value.errors
    assert "unknown values ['CORRESPONDENCE']" in errors["delivery_formats"]
    assert errors["instructors_count"] == "must be between 1 and 10000"
    assert errors["marketplaces_taught"] == "must not repeat a value"
    assert errors["certification_offered"] == "must be true or false"
    assert errors["course_fee_from"] == "amount must be a decimal string, not a float"
    assert errors["campus"] == "is not a field of this profile"
    assert "course_topics" not in errors


def test_profile_requires_its_fields_but_not_the_course_fee() -> None:
    with pytest.raises(ProfileInvalid) as caught:
        SCHEMA.validate({})
    assert set(caught.value.errors) == set(VALID_PROFILE) - {"course_fee_from"}
    without_fee = {k: v for k, v in VALID_PROFILE.items() if k != "course_fee_from"}
    assert SCHEMA.validate(without_fee) == without_fee


@pytest.mark.parametrize("region", list(Region))
def test_demo_profiles_pass_validation(region: Region) -> None:
    rng = random.Random(40)
    for _ in range(50):
        data = SPEC.demo(rng, region)
        assert SPEC.validate(data) == data


def test_spec_builds_the_training_graphql_type() -> None:
    assert SPEC.graphql_type is TrainingProfile


def test_profile_reachable_from_provider_over_http(staff, db) -> None:
    # given a mainland institution with a training profile
    provider = models.Provider(
        legal_name="Shenzhen Haina Cross-border Academy Co., Ltd.",
        region=Region.MAINLAND_CHINA,
        registration_number="91440300MA5G0T8K2W",
    )
    db.add(provider)
    db.flush()
    db.add(
        models.CategoryProfileRow(
            provider_id=provider.id, category_key="training", data=SCHEMA.validate(VALID_PROFILE)
        )
    )
    db.commit()
    # when a client reads the provider's category profiles
    data = staff(
        """
        query { providers(first: 5) { edges { node { legalName categoryProfiles {
          __typename category { key interviewRequired }
          ... on TrainingProfile {
            deliveryFormats courseTopics instructorsCount learnersTrainedTotal
            marketplacesTaught certificationOffered courseFeeFrom { amount currency }
          }
        } } } } }
        """
    )
    # then the training profile comes back typed
    node = data["providers"]["edges"][0]["node"]
    assert node["legalName"] == "Shenzhen Haina Cross-border Academy Co., Ltd."
    assert node["categoryProfiles"] == [
        {
            "__typename": "TrainingProfile",
            "category": {"key": "training", "interviewRequired": True},
            "deliveryFormats": ["LIVE_ONLINE", "BOOTCAMP"],
            "courseTopics": ["Amazon PPC advertising", "Listing optimisation"],
            "instructorsCount": 6,
            "learnersTrainedTotal": 1200,
            "marketplacesTaught": ["AMAZON", "TIKTOK_SHOP"],
            "certificationOffered": True,
            "courseFeeFrom": {"amount": "1980.00", "currency": "CNY"},
        }
    ]


def test_fee_quote_for_25_candidates_over_http(gql) -> None:
    # when a Hong Kong strategic partner asks for a quote covering 25 exam candidates
    data = gql(
        """
        query { feeQuote(category: "training", region: HK_MACAU_TAIWAN, tier: STRATEGIC_PARTNER,
                         quantities: [{unit: "candidate", quantity: 25}]) {
          lines { ruleKey unitPrice { amount currency } quantity amount { amount currency } }
          upfrontTotals { amount currency }
          commissionPercent
        } }
        """
    )
    quote_ = data["feeQuote"]
    # then the exam line is 165.00 x 25 and the upfront total adds deposit and listing fee
    assert quote_["lines"] == [
        {
            "ruleKey": "training.deposit",
            "unitPrice": None,
            "quantity": None,
            "amount": {"amount": "3500.00", "currency": "HKD"},
        },
        {
            "ruleKey": "training.annual_listing_fee",
            "unitPrice": None,
            "quantity": None,
            "amount": {"amount": "3500.00", "currency": "HKD"},
        },
        {
            "ruleKey": "training.certification_exam_fee",
            "unitPrice": {"amount": "165.00", "currency": "HKD"},
            "quantity": 25,
            "amount": {"amount": "4125.00", "currency": "HKD"},
        },
        {
            "ruleKey": "training.course_sales_commission",
            "unitPrice": None,
            "quantity": None,
            "amount": None,
        },
    ]
    assert quote_["upfrontTotals"] == [{"amount": "11125.00", "currency": "HKD"}]
    assert quote_["commissionPercent"] == "10"
