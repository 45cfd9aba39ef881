"""Small read-only queries other domains may use: who may not receive new work."""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from linkstar.core.kernel.vocabulary import SanctionKind, SanctionStatus
from linkstar.core.standing.models import Sanction


def intake_blocked(category_key: str) -> Select[tuple[int]]:
    """Provider ids that may get no new orders in `category_key`: restricted or terminated.

    RESTRICTED_INTAKE while ACTIVE (an upheld appeal or recovery lifts it); a termination that
    is in force (TERMINATED, or a confirmed TERMINATION_PROPOSED).
    """
    return select(Sanction.provider_id).where(
        Sanction.category_key == category_key,
        or_(
            and_(
                Sanction.kind == SanctionKind.RESTRICTED_INTAKE,
                Sanction.status == SanctionStatus.ACTIVE,
            ),
            and_(
                Sanction.kind == SanctionKind.TERMINATED,
                Sanction.status.in_((SanctionStatus.ACTIVE, SanctionStatus.CONFIRMED)),
            ),
            and_(
                Sanction.kind == SanctionKind.TERMINATION_PROPOSED,
                Sanction.status == SanctionStatus.CONFIRMED,
            ),
        ),
    )


def terminated(category_key: str) -> Select[tuple[int]]:
    """Provider ids whose cooperation in `category_key` is terminated (open orders move)."""
    return select(Sanction.provider_id).where(
        Sanction.category_key == category_key,
        or_(
            and_(
                Sanction.kind == SanctionKind.TERMINATED,
                Sanction.status.in_((SanctionStatus.ACTIVE, SanctionStatus.CONFIRMED)),
            ),
            and_(
                Sanction.kind == SanctionKind.TERMINATION_PROPOSED,
                Sanction.status == SanctionStatus.CONFIRMED,
            ),
        ),
    )
