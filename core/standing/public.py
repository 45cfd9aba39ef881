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


# What a pending sanction does to the standing the public sees: a provider facing termination
# shows in the lowest band, one under restricted intake at most in the band above it, whatever
# its latest scorecard says (sellers must not read EXCELLENT where the platform is acting).
SHOWN_CAPS = {SanctionKind.TERMINATION_PROPOSED: 0, SanctionKind.RESTRICTED_INTAKE: 1}


def standing_sanctions(provider_ids: list[int]) -> Select[tuple[int, str, SanctionKind]]:
    """(provider, category, kind) of every sanction in force that caps a shown standing."""
    return select(Sanction.provider_id, Sanction.category_key, Sanction.kind).where(
        Sanction.provider_id.in_(provider_ids),
        or_(
            and_(
                Sanction.kind == SanctionKind.RESTRICTED_INTAKE,
                Sanction.status == SanctionStatus.ACTIVE,
            ),
            and_(
                Sanction.kind == SanctionKind.TERMINATION_PROPOSED,
                Sanction.status.in_((SanctionStatus.ACTIVE, SanctionStatus.CONFIRMED)),
            ),
        ),
    )


def shown_standing(bands_low_to_high: list[str], standing: str, kinds: set[SanctionKind]) -> str:
    """The standing shown publicly: the scorecard's, capped by the sanctions in force."""
    if standing not in bands_low_to_high:  # UNRATED
        return standing
    caps = [SHOWN_CAPS[kind] for kind in kinds if kind in SHOWN_CAPS]
    if not caps:
        return standing
    cap = min(min(caps), len(bands_low_to_high) - 1)
    return bands_low_to_high[min(bands_low_to_high.index(standing), cap)]
