"""Documents as evidence: uploading (type from the bytes, structure checked) and reading back
(members of the provider and staff only, the stored hash verified before anything is served).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer, can_read_private
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.storage import EvidenceStore, TamperedEvidence
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.onboarding.applications import timeline
from linkstar.core.onboarding.documents import DocumentRequirement
from linkstar.core.onboarding.filecheck import check_structure, media_type_of
from linkstar.core.onboarding.models import Application, Document

UPLOAD_STATES = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.MORE_INFORMATION_REQUESTED,
    ApplicationStatus.PROBATION,
    ApplicationStatus.ACTIVE,
)


class EvidenceTampered(LinkStarError):
    """The stored bytes no longer match the hash recorded at upload."""

    code = "EVIDENCE_TAMPERED"


async def upload_document(
    session: AsyncSession,
    viewer: Viewer,
    application: Application,
    requirements: tuple[DocumentRequirement, ...],
    requirement: str,
    filename: str,
    data: bytes,
    expires_on: date | None,
    store: EvidenceStore,
) -> Document:
    """Store a document for an application: its type read from the bytes, its structure
    checked, its bytes addressed by their SHA-256; recorded on the timeline."""
    if application.status not in UPLOAD_STATES:
        raise InvalidInput(
            f"documents cannot change while the application is {application.status.value}",
            code="APPLICATION_LOCKED",
        )
    spec = next((d for d in requirements if d.key == requirement), None)
    if spec is None:
        raise InvalidInput(
            f"{application.category_key} asks for no document {requirement!r}",
            suggestion=f"documents: {[d.key for d in requirements]}",
        )
    if len(data) > spec.max_bytes:
        raise InvalidInput(
            f"{spec.name} may be at most {spec.max_bytes} bytes", code="FILE_TOO_LARGE"
        )
    if not data:
        raise InvalidInput("the file is empty", code="FILE_EMPTY")
    media_type = media_type_of(data)
    if media_type not in spec.media_types:
        raise InvalidInput(
            f"the file's content is {media_type or 'of an unknown type'}, "
            f"not one of {sorted(spec.media_types)}",
            code="FILE_TYPE_NOT_ALLOWED",
            suggestion="the type is read from the bytes, not the file name",
        )
    check_structure(media_type, data)
    if spec.expires and expires_on is None:
        raise InvalidInput(f"{spec.name} expires: give its expiry date (expiresOn)")
    if expires_on is not None and expires_on <= utcnow().date():
        raise InvalidInput(
            f"{spec.name} expired on {expires_on.isoformat()}", code="DOCUMENT_EXPIRED"
        )
    key = store.put(data)
    document = Document(
        provider_id=application.provider_id,
        application_id=application.id,
        requirement_key=requirement,
        filename=filename,
        media_type=media_type,
        size_bytes=len(data),
        sha256=key,
        storage_key=key,
        expires_on=expires_on,
        uploaded_by=viewer.account_id,
    )
    session.add(document)
    await session.flush()
    timeline(
        session,
        application,
        application.provider_id,
        viewer,
        "document.uploaded",
        {"requirement": requirement, "sha256": key, "size": len(data), "mediaType": media_type},
    )
    return document


async def read_document(
    session: AsyncSession, viewer: Viewer, document_id: int, store: EvidenceStore
) -> tuple[Document, bytes]:
    """The document and its verified bytes, for the provider's members and staff; anyone else
    (and a missing id) gets the same NotFound."""
    document = await session.get(Document, document_id)
    if (
        document is None
        or document.storage_key is None
        or not can_read_private(viewer, document.provider_id)
    ):
        raise NotFound("no such document")
    try:
        data = store.get(document.storage_key)
    except FileNotFoundError:
        raise NotFound("the document's bytes are no longer stored") from None
    except TamperedEvidence as exc:
        raise EvidenceTampered(str(exc), suggestion="the platform must restore it") from None
    return document, data
