"""What a plugin's GraphQL code imports: the profile interface, context access, field helper.

from linkstar.schema.plugin_api import CategoryProfile, profile_fields, contribute_field
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from linkstar.core.providers.categories import FieldContribution
from linkstar.schema.context import Context
from linkstar.schema.types import CategoryProfile, Ctx, ProviderType, ctx, profile_fields

__all__ = [
    "CategoryProfile",
    "Context",
    "Ctx",
    "ProviderType",
    "contribute_field",
    "ctx",
    "profile_fields",
]


def contribute_field(
    target: str, name: str, resolver: Callable[..., Any], *, description: str, public: bool = False
) -> FieldContribution:
    """A field for `linkstar_graphql_fields`: `name` (snake_case) added to GraphQL type `target`.

    The resolver receives the parent object as a parameter annotated `strawberry.Parent[...]`
    and the request's `info`; use `ctx(info).loader(...)` to batch database access. Leave
    `public` False for anything not meant for everyone: the core then guards the field.
    """
    return FieldContribution(
        target=target,
        name=name,
        field=strawberry.field(resolver=resolver, description=description),
        public=public,
    )
