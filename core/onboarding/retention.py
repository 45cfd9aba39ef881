"""Document retention: an ended application's documents are kept for its category's retention
period, then their bytes are purged; the row, its SHA-256 and its timeline stay.

The clock starts when the provider left the category: the application's last change once it is
REJECTED, WITHDRAWN or TERMINATED (nothing changes an ended application but a reinstatement,
which makes it live again and stops the clock). Documents of a live application, or of a
category no enabled plugin declares, are never purged. Each document is purged in a transaction
of its own, by a conditional update, so several processes (servers and cron) may run the purge
at once: each document is purged by exactly one of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity import audit
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel import timeline
from linkstar.core.kernel.db import take_turns, utcnow
from linkstar.core.kernel.storage import EvidenceStore
from linkstar.core.kernel.vocabulary import AuditOutcome
from linkstar.core.onboarding.evidence import ENDED_STATES, bytes_turn
from linkstar.core.onboarding.models import Application, Document

ENDED = ENDED_STATES
RETENTION = Viewer(label="platform:retention")  # the retention rule acting, no account behind it


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one purge run did: documents marked purged, and files removed from storage (bytes
    another live document shares are kept)."""

    purged: int
    files_removed: int


def _expired(retention_days: Mapping[str, int], now: datetime) -> Any:
    """Applications that ended longer ago than their category's retention."""
    return and_(
        Application.status.in_(ENDED),
        or_(
            *(
                and_(
                    Application.category_key == key,
                    Application.updated_at <= now - timedelta(days=days),
                )
                for key, days in sorted(retention_days.items())
            )
        ),
    )


async def due_documents(
    session: AsyncSession, retention_days: Mapping[str, int], now: datetime, limit: int
) -> list[int]:
    """Ids of the documents whose retention has run out, oldest first (at most `limit`)."""
    if not retention_days:
        return []
    rows = await session.execute(
        select(Document.id)
        .join(Application, Document.application_id == Application.id)
        .where(Document.purged_at.is_(None), _expired(retention_days, now))
        .order_by(Document.id)
        .limit(limit)
    )
    return list(rows.scalars().all())


async def purge_document(
    session: AsyncSession,
    document_id: int,
    retention_days: Mapping[str, int],
    store: EvidenceStore,
    now: datetime,
) -> tuple[bool, bool]:
    """Purge one document if it is (still) due: (purged by this call, file removed).

    The conditional update is the decision (a reinstatement or another purger that came first
    makes it a no-op). The file goes only when no other unpurged document shares its bytes,
    under the lock an upload of the same bytes takes, so a new upload never loses them. The
    file is removed before the commit (while the lock is held): should the commit fail, the
    document, past its retention anyway, has lost its bytes but not its mark, and the next run
    marks it (removing nothing)."""
    found = (
        await session.execute(
            select(
                Document.sha256,
                Document.provider_id,
                Document.application_id,
                Document.requirement_key,
                Application.category_key,
                Application.updated_at,
            )
            .join(Application, Document.application_id == Application.id)
            .where(Document.id == document_id)
        )
    ).first()
    if found is None or found.category_key not in retention_days:
        return False, False
    await take_turns(session, Document, bytes_turn(found.sha256))
    still_due = select(Application.id).where(
        Application.id == found.application_id, _expired(retention_days, now)
    )
    won = (
        await session.execute(
            update(Document)
            .where(
                Document.id == document_id,
                Document.purged_at.is_(None),
                Document.application_id.in_(still_due),
            )
            .values(purged_at=now, storage_key=None)
            .returning(Document.id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if won is None:
        return False, False
    shared = await session.scalar(
        select(func.count()).select_from(Document).where(Document.storage_key == found.sha256)
    )
    removed = store.delete(found.sha256) if not shared else False
    days = retention_days[found.category_key]
    details = {
        "document": document_id,
        "requirement": found.requirement_key,
        "sha256": found.sha256,
        "retentionDays": days,
        "endedAt": found.updated_at.isoformat(),
        "bytesRemoved": removed,
    }
    timeline.record(
        session,
        RETENTION,
        "document.purged",
        details,
        provider_id=found.provider_id,
        application_id=found.application_id,
    )
    session.add(
        audit.entry(
            RETENTION,
            "document.purge",
            AuditOutcome.SUCCESS,
            target=f"Document:{document_id}",
            details=details,
        )
    )
    return True, removed


async def purge_due(
    sessions: Any,
    retention_days: Mapping[str, int],
    store: EvidenceStore,
    *,
    now: datetime | None = None,
    limit: int = 1000,
) -> PurgeResult:
    """Purge every document past its category's retention (at most `limit` per run), each in
    its own transaction. Idempotent; safe alongside other processes running it."""
    now = now or utcnow()
    async with sessions() as session:
        candidates = await due_documents(session, retention_days, now, limit)
    purged = removed = 0
    for document_id in candidates:
        async with sessions() as session, session.begin():
            won, gone = await purge_document(session, document_id, retention_days, store, now)
        purged += won
        removed += gone
    return PurgeResult(purged=purged, files_removed=removed)
