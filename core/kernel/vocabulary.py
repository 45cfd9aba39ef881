"""The platform-wide vocabulary every category shares: regions, tiers, marketplaces.

These are generic to the platform (docs/domain.md, "Fees"), not to a category.
"""

from __future__ import annotations

import enum
import re


class Region(enum.StrEnum):
    """Region of the provider's legal entity; fees and documents depend on it."""

    MAINLAND_CHINA = "MAINLAND_CHINA"
    HK_MACAU_TAIWAN = "HK_MACAU_TAIWAN"
    OVERSEAS = "OVERSEAS"


class Tier(enum.StrEnum):
    """Cooperation tier, lowest first: regular, preferred provider, strategic partner."""

    REGULAR = "REGULAR"
    PREFERRED = "PREFERRED"
    STRATEGIC_PARTNER = "STRATEGIC_PARTNER"


class Marketplace(enum.StrEnum):
    """Marketplaces a provider serves sellers on."""

    AMAZON = "AMAZON"
    SHOPEE = "SHOPEE"
    TIKTOK_SHOP = "TIKTOK_SHOP"
    LAZADA = "LAZADA"
    TEMU = "TEMU"
    ALIEXPRESS = "ALIEXPRESS"
    SHEIN = "SHEIN"
    EBAY = "EBAY"
    WALMART = "WALMART"
    MERCADO_LIBRE = "MERCADO_LIBRE"
    SHOPIFY = "SHOPIFY"


class ApplicationStatus(enum.StrEnum):
    """Where an application for a category stands (the full machine comes with onboarding)."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    IN_REVIEW = "IN_REVIEW"
    MORE_INFORMATION_REQUESTED = "MORE_INFORMATION_REQUESTED"
    INTERVIEW_SCHEDULED = "INTERVIEW_SCHEDULED"
    INTERVIEWED = "INTERVIEWED"
    PROBATION = "PROBATION"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    TERMINATED = "TERMINATED"  # cooperation ended for KPIs or a violation


class ObservationSource(enum.StrEnum):
    """Who produced a KPI observation: the platform's own data, or the provider's report."""

    PLATFORM = "PLATFORM"
    SELF_REPORTED = "SELF_REPORTED"


class DocumentStatus(enum.StrEnum):
    """A reviewer's verdict on an uploaded document."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class Role(enum.StrEnum):
    """What an account is on the platform; decides what the policy layer allows."""

    ADMIN = "ADMIN"  # platform administrator
    REVIEWER = "REVIEWER"  # partner-recruitment manager (招商经理)
    PARTNER = "PARTNER"  # member of exactly one provider
    SELLER = "SELLER"  # a seller looking for providers


class TokenScope(enum.StrEnum):
    """What a personal API token may do on its account's behalf."""

    READ = "READ"  # read what the account may read
    REPORT_KPI = "REPORT_KPI"  # report KPI observations (data reporting API)
    REPORT_STORE_DATA = "REPORT_STORE_DATA"  # a seller's integration reports its stores' sales


class AuditOutcome(enum.StrEnum):
    """How an audited action ended."""

    SUCCESS = "SUCCESS"
    DENIED = "DENIED"  # refused by the policy layer or a rate limit
    FAILED = "FAILED"  # refused for bad input or bad credentials


class SanctionKind(enum.StrEnum):
    """Consequences, mildest first (docs/domain.md, "Consequences")."""

    WARNING = "WARNING"
    RESTRICTED_INTAKE = "RESTRICTED_INTAKE"  # fewer or no dispatched orders
    DOWNGRADE = "DOWNGRADE"  # one tier down
    TERMINATION_PROPOSED = "TERMINATION_PROPOSED"  # a reviewer confirms or rejects
    TERMINATED = "TERMINATED"


class SanctionStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    LIFTED = "LIFTED"  # recovery lifted it
    CONFIRMED = "CONFIRMED"  # a proposal a reviewer confirmed
    REVERSED = "REVERSED"  # a reviewer (or an upheld appeal) undid it


class Severity(enum.StrEnum):
    """Violation severity; VETO (fake orders, review manipulation) terminates at once."""

    MINOR = "MINOR"
    MAJOR = "MAJOR"
    SEVERE = "SEVERE"
    VETO = "VETO"


# Keys of categories, metrics, documents and fee rules: lowercase snake_case, 2-63 chars.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
