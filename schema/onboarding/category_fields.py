"""Fields the onboarding domain adds to ServiceCategory."""

from __future__ import annotations

import strawberry

from linkstar.core.kernel.vocabulary import (
    Region,
)
from linkstar.schema.onboarding.types import (
    AgreementTemplateType,
    DocumentRequirementType,
    OnboardingTerms,
)


@strawberry.type
class OnboardingCategoryFields:
    @strawberry.field(description="Documents an applicant provides; only a region's when given.")
    def required_documents(self, region: Region | None = None) -> list[DocumentRequirementType]:
        return [
            DocumentRequirementType.of(d)
            for d in self.contribution.documents
            if region is None or d.applies_to(region)
        ]

    @strawberry.field(
        description="Days an ended application's documents (rejected, withdrawn, terminated) "
        "are kept before their bytes are purged; their metadata and hash stay."
    )
    def document_retention_days(self) -> int:
        return self.contribution.category.document_retention_days

    @strawberry.field(
        description="Agreements an applicant signs: exact texts, versions and hashes."
    )
    def agreements(self) -> list[AgreementTemplateType]:
        return [AgreementTemplateType.of(a) for a in self.contribution.onboarding.agreements]

    @strawberry.field(description="How this category onboards: probation, pilot quota, cool-down.")
    def onboarding(self) -> OnboardingTerms:
        policy = self.contribution.onboarding
        return OnboardingTerms(
            interview_required=self.interview_required,
            probation_days=policy.probation_days,
            pilot_order_quota=policy.pilot_order_quota,
            probation_extension_days=policy.probation_extension_days,
            reapply_cooldown_days=policy.reapply_cooldown_days,
        )
