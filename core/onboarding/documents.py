"""Document requirements a category declares, and builders for the materials most ask for.

The builders describe generic onboarding materials (docs/domain.md, "Onboarding");
which of them a category needs, and for which regions, is the category plugin's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkstar.core.kernel.vocabulary import KEY_PATTERN, Region

PDF_OR_IMAGE = frozenset({"application/pdf", "image/jpeg", "image/png"})
SPREADSHEET_OR_PDF = frozenset(
    {
        "application/pdf",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DocumentRequirement:
    """One document an applicant must (or may) provide for a category."""

    key: str
    name: str
    description: str
    mandatory: bool = True
    regions: frozenset[Region] | None = None  # None: every region
    media_types: frozenset[str] = PDF_OR_IMAGE
    max_bytes: int = 10 * 1024 * 1024
    expires: bool = False  # the document carries an expiry date that must be recorded

    def applies_to(self, region: Region) -> bool:
        """Whether a provider registered in `region` is asked for this document."""
        return self.regions is None or region in self.regions


def requirement_problems(doc: DocumentRequirement) -> list[str]:
    """Everything wrong with a requirement, as sentences; empty when it is valid."""
    problems = []
    if not KEY_PATTERN.match(doc.key):
        problems.append(f"document key {doc.key!r} must be lowercase snake_case")
    if not doc.name.strip():
        problems.append(f"document {doc.key!r} has an empty name")
    if not doc.media_types:
        problems.append(f"document {doc.key!r} accepts no media type")
    if not 0 < doc.max_bytes <= MAX_DOCUMENT_BYTES:
        problems.append(f"document {doc.key!r}: max_bytes must be in (0, {MAX_DOCUMENT_BYTES}]")
    if doc.regions is not None and not doc.regions:
        problems.append(f"document {doc.key!r}: regions is empty (use None for every region)")
    return problems


class StandardDocument:
    """A common requirement that a category takes as it is or with overrides.

    `business_licence()` gives the standard requirement; `business_licence(mandatory=False)`
    the same with one field changed.
    """

    def __init__(self, **fields: object) -> None:
        self._fields = fields
        self.__doc__ = str(fields["description"])

    def __call__(self, **overrides: object) -> DocumentRequirement:
        return DocumentRequirement(**{**self._fields, **overrides})  # type: ignore[arg-type]


# Not an onboarding material: proof a provider links by id to its KPI records, its corrections
# and not-attributable claims, and its appeals. Every category accepts it (a category's own
# requirement with the same key wins); it is never on the checklist.
EVIDENCE = DocumentRequirement(
    key="evidence",
    name="Evidence",
    description=(
        "Proof for a KPI record, a correction, a not-attributable claim or an appeal "
        "(communication, notices, delivery records); linked to them by its id."
    ),
    mandatory=False,
    media_types=PDF_OR_IMAGE | SPREADSHEET_OR_PDF,
)
# after an application ends, evidence may still be uploaded this long (an appeal's window)
EVIDENCE_AFTER_END_DAYS = 30

business_licence = StandardDocument(
    key="business_licence",
    name="Business licence (营业执照)",
    description=(
        "Scan of the current business licence; the unified social credit code on it must "
        "match the registration number."
    ),
    regions=frozenset({Region.MAINLAND_CHINA}),
    expires=True,
)
company_registration = StandardDocument(
    key="company_registration",
    name="Company registration certificate",
    description=(
        "Certificate of incorporation and current business registration for entities "
        "registered outside mainland China."
    ),
    regions=frozenset({Region.HK_MACAU_TAIWAN, Region.OVERSEAS}),
    expires=True,
)
legal_representative_id = StandardDocument(
    key="legal_representative_id",
    name="Legal representative ID (法人身份证明)",
    description="Resident ID card (mainland) or passport of the legal representative.",
    expires=True,
)
contact_person_id = StandardDocument(
    key="contact_person_id",
    name="Contact person ID",
    description="Identity document of the contact person who answers for the account.",
    expires=True,
)
team_composition = StandardDocument(
    key="team_composition",
    name="Team composition",
    description="Headcount by role with each key member's professional background.",
    media_types=SPREADSHEET_OR_PDF,
)
service_cases = StandardDocument(
    key="service_cases",
    name="Service cases with result data",
    description="Past clients, product categories served and measured results.",
    media_types=SPREADSHEET_OR_PDF,
)
service_price_list = StandardDocument(
    key="service_price_list",
    name="Service list and price system",
    description="Every service offered with its price and billing basis.",
    media_types=SPREADSHEET_OR_PDF,
)
platform_certifications = StandardDocument(
    key="platform_certifications",
    name="Marketplace certifications",
    description="Certificates from marketplace partner programmes (e.g. Amazon SPN).",
    mandatory=False,
    expires=True,
)
