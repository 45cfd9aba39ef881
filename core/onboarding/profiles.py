"""A provider's category profile: what it tells sellers, and one item of the checklist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.onboarding.applications import timeline
from linkstar.core.providers.categories import CategoryProfileSpec
from linkstar.core.providers.models import CategoryProfileRow


async def save_profile(
    session: AsyncSession,
    viewer: Viewer,
    provider_id: int,
    category: str,
    spec: CategoryProfileSpec | None,
    data: Mapping[str, Any],
) -> CategoryProfileRow:
    """Fill in (or replace) the provider's profile for `category`, validated by the category's
    `spec` (`ProfileInvalid` lists every problem), and note it on the timeline."""
    if spec is None:
        raise InvalidInput(f"category {category!r} has no profile")
    normalised = spec.validate(data)
    row = (
        await session.execute(
            select(CategoryProfileRow).where(
                CategoryProfileRow.provider_id == provider_id,
                CategoryProfileRow.category_key == category,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = CategoryProfileRow(provider_id=provider_id, category_key=category, data=normalised)
        session.add(row)
    else:
        row.data = normalised
        row.updated_at = utcnow()
    await session.flush()
    timeline(session, None, provider_id, viewer, "profile.saved", {"category": category})
    return row
