"""What a plugin declares about a service category: identity, profile, GraphQL contributions."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.periods import PeriodKind
from linkstar.core.kernel.vocabulary import Region


@dataclass(frozen=True, slots=True)
class ServiceCategory:
    """A cooperation type providers apply for (agency, ERP, logistics, …).

    `position` orders categories everywhere they are listed (ties broken by key), so the
    order never depends on plugin load order.
    """

    key: str
    name: str
    description: str
    position: int = 100
    interview_required: bool = False
    # How often providers in this category are settled and paid: monthly or quarterly.
    settlement_cycle: PeriodKind = PeriodKind.MONTH
    # How long an ended application's documents are kept (after the provider leaves the
    # category: rejected, withdrawn or terminated) before `linkstar documents purge` may
    # remove their bytes. The metadata and hash are kept for good.
    document_retention_days: int = 3 * 365


MAX_DOCUMENT_RETENTION_DAYS = 100 * 365


def retention_problems(category: ServiceCategory) -> list[str]:
    """What is wrong with the category's document retention, as sentences; empty if valid."""
    days = category.document_retention_days
    if isinstance(days, bool) or not isinstance(days, int):
        return [f"document_retention_days must be a whole number of days, not {days!r}"]
    if not 1 <= days <= MAX_DOCUMENT_RETENTION_DAYS:
        return [f"document_retention_days must be 1..{MAX_DOCUMENT_RETENTION_DAYS}, not {days}"]
    return []


class ProfileInvalid(InvalidInput):
    """Category profile data failed the plugin's validation; `errors` maps field → message."""

    code = "PROFILE_INVALID"

    def __init__(self, category: str, errors: Mapping[str, str]) -> None:
        listed = "; ".join(f"{path}: {message}" for path, message in sorted(errors.items()))
        super().__init__(
            f"the {category} profile is invalid: {listed}",
            details={"fields": dict(errors)},
        )
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class CategoryProfileSpec:
    """The category-specific data a provider fills in, and how it is shown in GraphQL.

    - `graphql_type`: a strawberry type implementing the core `CategoryProfile` interface.
    - `validate(data)`: returns the normalised data (JSON-safe) or raises ProfileInvalid.
    - `build(record)`: makes a `graphql_type` instance from a stored `ProfileRecord`.
    - `demo(rng, region)`: realistic example data for `linkstar demo`; must pass `validate`.
    - `schema`: the `ProfileSchema` whose fields `ServiceCategory.profileFields` lists to
      clients (optional: when `validate` is a ProfileSchema's own method, that schema is used).
    """

    graphql_type: type
    validate: Callable[[Mapping[str, Any]], dict[str, Any]]
    build: Callable[[ProfileRecord], Any]
    demo: Callable[[random.Random, Region], dict[str, Any]]
    schema: Any = None

    def profile_schema(self) -> Any:
        """The declared ProfileSchema, or the one `validate` belongs to; None if unknown."""
        if self.schema is not None:
            return self.schema
        owner = getattr(self.validate, "__self__", None)
        return owner if hasattr(owner, "fields") and hasattr(owner, "category") else None


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """A stored category profile as handed to a plugin's `build`."""

    id: int
    provider_id: int
    category: str
    data: Mapping[str, Any]
    updated_at: Any = None


@dataclass(frozen=True, slots=True)
class FieldContribution:
    """A field a plugin adds to an existing GraphQL type (strictly additive).

    `target` is the GraphQL type name (e.g. "Provider", "Query"); `field` a strawberry field
    made with `strawberry.field(resolver=…)`; `name` its Python name (camelCased in GraphQL).
    Unless `public`, the policy layer guards the field: on Provider only the provider and staff
    see it, elsewhere only staff (others get null or an empty list, so the field must be
    nullable or a list).
    """

    target: str
    name: str
    field: Any
    public: bool = False
