"""Documents as evidence: uploading (type from the bytes, structure checked), reading back
(members of the provider and staff only, the stored hash verified before anything is served),
and linking them by id to the records they prove (observations, claims, appeals).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer, can_read_private
from linkstar.core.kernel.db import take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.storage import EvidenceStore, TamperedEvidence
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.onboarding.applications import timeline
from linkstar.core.onboarding.documents import (
    EVIDENCE,
    EVIDENCE_AFTER_END_DAYS,
    DocumentRequirement,
)
from linkstar.core.onboarding.filecheck import check_structure, media_type_of
from linkstar.core.onboarding.models import Application, Document

UPLOAD_STATES = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.MORE_INFORMATION_REQUESTED,
    ApplicationStatus.PROBATION,
    ApplicationStatus.ACTIVE,
)

ENDED_STATES = (
    ApplicationStatus.REJECTED,
    ApplicationStatus.WITHDRAWN,
    ApplicationStatus.TERMINATED,
)


class EvidenceTampered(LinkStarError):
    """The stored bytes no longer match the hash recorded at upload."""

    code = "EVIDENCE_TAMPERED"


class DocumentPurged(LinkStarError):
    """The document's retention ran out and its bytes were removed (metadata and hash stay)."""

    code = "DOCUMENT_PURGED"


def bytes_turn(sha256: str) -> str:
    """The lock key an upload and a purge of the same bytes take turns on (content-addressed
    storage shares one file between every document with those bytes)."""
    return f"document-bytes:{sha256}"


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
    spec = next((d for d in requirements if d.key == requirement), None)
    if spec is None and requirement == EVIDENCE.key:
        spec = EVIDENCE
    # evidence for an appeal may still come after the end, within the appeal window
    late_evidence = (
        spec is EVIDENCE
        and application.status in ENDED_STATES
        and utcnow() - application.updated_at <= timedelta(days=EVIDENCE_AFTER_END_DAYS)
    )
    if application.status not in UPLOAD_STATES and not late_evidence:
        raise InvalidInput(
            f"documents cannot change while the application is {application.status.value}",
            code="APPLICATION_LOCKED",
        )
    if spec is None:
        raise InvalidInput(
            f"{application.category_key} asks for no document {requirement!r}",
            suggestion=f"documents: {[d.key for d in requirements] + [EVIDENCE.key]}",
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
    # a purge removing these very bytes (another document's, past its retention) waits for
    # this upload to commit, or finishes first and the bytes are written again below
    await take_turns(session, Document, bytes_turn(hashlib.sha256(data).hexdigest()))
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
        or (document.storage_key is None and document.purged_at is None)
        or not can_read_private(viewer, document.provider_id)
    ):
        raise NotFound("no such document")
    if document.purged_at is not None:
        raise DocumentPurged(
            f"the document's retention ended; its bytes were removed on "
            f"{document.purged_at.date().isoformat()} (its SHA-256 is kept)"
        )
    try:
        data = store.get(document.storage_key)
    except FileNotFoundError:
        raise NotFound("the document's bytes are no longer stored") from None
    except TamperedEvidence as exc:
        raise EvidenceTampered(str(exc), suggestion="the platform must restore it") from None
    return document, data


_CHUNK = 900


async def evidence_problems(
    session: AsyncSession, viewer: Viewer, provider_id: int, document_ids: Iterable[int]
) -> dict[int, tuple[str, str]]:
    """Why each of `document_ids` cannot be linked as evidence about `provider_id` by
    `viewer`: document id → (error code, sentence); the ids that can be linked are absent.

    A document the viewer may not see answers exactly like a missing one (UNKNOWN_DOCUMENT),
    so ids of other providers' files leak nothing; staff, who see every document, are told
    when it is another provider's (DOCUMENT_OF_ANOTHER_PROVIDER); a purged one has no bytes
    left to prove anything (DOCUMENT_PURGED).
    """
    wanted = sorted(set(document_ids))
    found: dict[int, tuple[int, object]] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(Document.id, Document.provider_id, Document.purged_at).where(
                Document.id.in_(wanted[start : start + _CHUNK])
            )
        )
        found.update({row.id: (row.provider_id, row.purged_at) for row in rows})
    problems: dict[int, tuple[str, str]] = {}
    for document_id in wanted:
        owner, purged_at = found.get(document_id, (None, None))
        if owner is None or not can_read_private(viewer, owner):
            problems[document_id] = (
                "UNKNOWN_DOCUMENT",
                "no such document among the ones you can see",
            )
        elif owner != provider_id:
            problems[document_id] = (
                "DOCUMENT_OF_ANOTHER_PROVIDER",
                "the document was uploaded by another provider; evidence must be the "
                "provider's own",
            )
        elif purged_at is not None:
            problems[document_id] = (
                "DOCUMENT_PURGED",
                "the document's retention ended and its bytes were removed",
            )
    return problems


async def require_evidence(
    session: AsyncSession, viewer: Viewer, provider_id: int, document_ids: list[int]
) -> None:
    """Refuse (with the code of the first bad one) unless every document can be linked as
    evidence about `provider_id` by `viewer`; `details.index` is its place in the list."""
    problems = await evidence_problems(session, viewer, provider_id, document_ids)
    for index, document_id in enumerate(document_ids):
        if document_id in problems:
            code, message = problems[document_id]
            raise InvalidInput(
                message,
                code=code,
                details={"index": index},
                suggestion="link documents your provider uploaded (Application.documents)",
            )
