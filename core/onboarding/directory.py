"""The provider directory: who is listed to whom, and the filters that narrow it.

Others see the public directory (providers with an ACTIVE application, i.e. in a category's
pool) plus their own provider; staff who may read any provider see every one. Filtered by a
category, a provider is listed under it only once it is in that category's pool (its own
provider excepted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Action, Viewer, allowed, can_read_private
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import ApplicationStatus, Marketplace, Region
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider, ProviderMarketplace

MAX_NAME_FILTER = 200


def _own(viewer: Viewer) -> int | None:
    """The viewer's own provider, when the viewer may read its private side."""
    if viewer.provider_id and can_read_private(viewer, viewer.provider_id):
        return viewer.provider_id
    return None


def _conditions(
    viewer: Viewer,
    category: str | None,
    region: Region | None,
    marketplace: Marketplace | None,
    name_contains: str | None,
) -> list[Any]:
    conditions: list[Any] = []
    everyone = allowed(viewer, Action.READ_ANY_PROVIDER)
    own = _own(viewer)
    if not everyone:
        listed = exists().where(
            Application.provider_id == Provider.id,
            Application.status == ApplicationStatus.ACTIVE,
        )
        conditions.append(or_(listed, Provider.id == own) if own else listed)
    if category is not None:
        membership = [Application.provider_id == Provider.id, Application.category_key == category]
        if not everyone:
            in_pool = Application.status == ApplicationStatus.ACTIVE
            membership.append(or_(in_pool, Provider.id == own) if own else in_pool)
        conditions.append(exists().where(*membership))
    if region is not None:
        conditions.append(Provider.region == region)
    if marketplace is not None:
        conditions.append(
            exists().where(
                ProviderMarketplace.provider_id == Provider.id,
                ProviderMarketplace.marketplace == marketplace,
            )
        )
    if name_contains:
        if len(name_contains) > MAX_NAME_FILTER:
            raise InvalidInput(f"nameContains is longer than {MAX_NAME_FILTER} characters")
        escaped = (
            name_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        conditions.append(func.lower(Provider.legal_name).like(f"%{escaped}%", escape="\\"))
    return conditions


def directory(
    viewer: Viewer,
    *,
    category: str | None = None,
    region: Region | None = None,
    marketplace: Marketplace | None = None,
    name_contains: str | None = None,
) -> tuple[Select[tuple[Provider]], Select[tuple[int]]]:
    """The providers `viewer` may list, narrowed by every filter given (all must hold; the
    name is a case-insensitive substring), and the query counting them."""
    conditions = _conditions(viewer, category, region, marketplace, name_contains)
    return (
        select(Provider).where(*conditions),
        select(func.count()).select_from(Provider).where(*conditions),
    )


async def listed_among(session: AsyncSession, provider_ids: Sequence[int]) -> set[int]:
    """Which of `provider_ids` are in the public directory (hold an ACTIVE membership)."""
    stmt = select(Application.provider_id).where(
        Application.provider_id.in_(provider_ids),
        Application.status == ApplicationStatus.ACTIVE,
    )
    return set((await session.execute(stmt)).scalars().all())
