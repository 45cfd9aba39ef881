"""Evaluating a period with its consequences: scorecards first (kpi), then the ladder.

Every caller that evaluates (the CLI, the mutation, the demo, an upheld appeal) comes here, so
a scorecard is never written without the sanctions and tier changes that follow from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.periods import PeriodKind, period_of
from linkstar.core.kernel.telemetry import EVALUATION_SECONDS
from linkstar.core.kpi import evaluation
from linkstar.core.kpi.evaluation import EvaluationSummary
from linkstar.core.kpi.metrics import CustomAggregation
from linkstar.core.standing.consequences import apply_ladder

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import CategoryContribution, Registry


async def evaluate_category(
    session: AsyncSession,
    contribution: CategoryContribution,
    label: str,
    provider_id: int | None = None,
    aggregations: Mapping[str, CustomAggregation] | None = None,
) -> EvaluationSummary:
    """Score one category for the month `label`, then apply its sanction ladder; the caller
    commits."""
    with EVALUATION_SECONDS.labels(contribution.category.key).time():
        summary = await evaluation.evaluate_category(
            session, contribution, label, provider_id, aggregations
        )
        if summary.providers:
            await apply_ladder(
                session,
                contribution.category.key,
                label,
                list(summary.providers),
                contribution.scoring,
            )
    return summary


async def evaluate_period(
    session: AsyncSession,
    registry: Registry,
    label: str,
    category: str | None = None,
    provider_id: int | None = None,
    on_category: Callable[[str, EvaluationSummary, int], None] | None = None,
) -> dict[str, EvaluationSummary]:
    """Evaluate every category (or one) for the month `label`; the caller commits.

    `on_category(key, summary, total)` is called after each category (for progress bars).
    """
    period_of(label, PeriodKind.MONTH, "UTC")  # validates the label early
    targets = [registry.category(category)] if category else list(registry.categories.values())
    summaries = {}
    for c in targets:
        summary = await evaluate_category(session, c, label, provider_id, registry.aggregations)
        summaries[c.category.key] = summary
        if on_category is not None:
            on_category(c.category.key, summary, len(targets))
    return summaries
