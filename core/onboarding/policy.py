"""What a category decides about onboarding: agreements, probation, pilot quota, cool-down."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgreementTemplate:
    """A versioned agreement text an applicant signs (cooperation agreement, NDA, …)."""

    key: str
    title: str
    version: str
    text: str
    mandatory: bool = True

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OnboardingPolicy:
    """How a category onboards: agreements, probation, pilot quota, cool-down after rejection."""

    agreements: tuple[AgreementTemplate, ...]
    probation_days: int = 90
    pilot_order_quota: int = 5
    probation_extension_days: int = 30
    reapply_cooldown_days: int = 90


def policy_problems(policy: OnboardingPolicy) -> list[str]:
    """Everything wrong with a policy, as sentences."""
    problems = []
    keys = [a.key for a in policy.agreements]
    if len(set(keys)) != len(keys):
        problems.append("agreement keys must be unique")
    if not any(a.mandatory for a in policy.agreements):
        problems.append("at least one agreement must be mandatory")
    for agreement in policy.agreements:
        if not agreement.text.strip() or not agreement.version.strip():
            problems.append(f"agreement {agreement.key!r} needs a version and a text")
    for name in (
        "probation_days",
        "pilot_order_quota",
        "probation_extension_days",
        "reapply_cooldown_days",
    ):
        value = getattr(policy, name)
        if not isinstance(value, int) or value < 0 or value > 3650:
            problems.append(f"{name} must be an integer between 0 and 3650")
    if policy.probation_days < 1:
        problems.append("probation_days must be at least 1")
    return problems


def standard_agreements(
    category_name: str, version: str = "2026.1"
) -> tuple[AgreementTemplate, ...]:
    """The platform's cooperation agreement and NDA, worded for one category."""
    cooperation = (
        f"LinkStar Cooperation Agreement — {category_name}\n\n"
        "1. The provider serves sellers dispatched by the platform with due care and within the "
        "service levels of its category.\n"
        "2. The provider's KPI results, computed from platform and self-reported data, are the "
        "basis of its tier, order allocation, fees, sanctions and renewal.\n"
        "3. Fake orders, review manipulation and other compliance violations lead to immediate "
        "termination whatever the KPIs (one-vote veto).\n"
        "4. The provider keeps records of communication and deliverables and produces them in "
        "disputes and appeals.\n"
        "5. Deposits, fees and commissions follow the published fee rules for the provider's "
        "region and tier; penalties may be deducted from the deposit.\n"
    )
    nda = (
        "LinkStar Confidentiality Terms (NDA)\n\n"
        "1. Seller, order and platform data received under this cooperation are confidential.\n"
        "2. They are used only to deliver the contracted services and are not disclosed to third "
        "parties without written consent.\n"
        "3. These duties survive the end of the cooperation by three years.\n"
    )
    return (
        AgreementTemplate(
            "cooperation_agreement", "Cooperation agreement (合作协议)", version, cooperation
        ),
        AgreementTemplate("nda", "Confidentiality terms (保密条款)", version, nda),
    )


def default_policy(category_name: str) -> OnboardingPolicy:
    """The platform default when a category states no onboarding policy."""
    return OnboardingPolicy(agreements=standard_agreements(category_name))
