"""A leaner field loop for graphql-core: plain leaf fields are read and serialised inline.

Most fields of a page are leaves with no resolver of their own (a scorecard's `period`, a
metric's `status`, …): strawberry resolves them with `getattr`, and graphql-core still builds
a resolve-info object, a path and a chain of completion calls for each one. For such fields
this executor does only what those calls amount to — read the attribute, coerce it with the
field type's own `coerce_output_value` — and hands anything unusual (no value for a non-null
field, an exception, a value the type cannot serialise) back to graphql-core's own
`execute_field`, which produces the same answer or the same located error as before.

The decision is made once per (object type, field) and kept with the schema's types, so every
query benefits, whatever its text. Fields with a resolver, arguments, field extensions
(permissions, the mutation audit) or a schema extension that wraps every field (`resolve`)
always take graphql-core's full path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

# (attribute getter, attribute name, serialiser, non-null) of a plain leaf field
LeafPlan = tuple[Callable[[Any, str], Any], str, Callable[[Any], Any], bool]
_NO_PLAN: Any = False
_PLANS = "linkstar_leaf_plans"  # per GraphQLObjectType: field name -> LeafPlan | False


def _leaf_plan(field_def: GraphQLField) -> LeafPlan | Any:
    """How to resolve `field_def` inline, or _NO_PLAN when it needs the full path."""
    strawberry_field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    if (
        strawberry_field is None
        or resolve is None
        or getattr(resolve, "__name__", "") != "_get_basic_result"
        or not getattr(strawberry_field, "is_basic_field", False)
        or field_def.args
        or field_def.subscribe is not None
    ):
        return _NO_PLAN
    getter = getattr(strawberry_field, "default_resolver", None)
    if getter is not getattr:  # only the stock resolver is known to be a plain read
        return _NO_PLAN
    return_type = field_def.type
    non_null = isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if non_null else return_type
    if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return _NO_PLAN
    return (getter, strawberry_field.python_name, named.coerce_output_value, non_null)


def _plans_of(parent_type: GraphQLObjectType) -> dict[str, Any]:
    plans = parent_type.__dict__.get(_PLANS)
    if plans is None:
        plans = {}
        setattr(parent_type, _PLANS, plans)
    return plans


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with plain leaf fields resolved inline (see the module doc)."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plans = _plans_of(parent_type)
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, field_details_list in grouped_field_set.items():
                field_name = field_details_list[0].node.name.value
                plan = plans.get(field_name)
                if plan is None:
                    field_def = parent_type.fields.get(field_name)
                    plan = _leaf_plan(field_def) if field_def is not None else _NO_PLAN
                    plans[field_name] = plan
                if plan is not _NO_PLAN:
                    value = _read_leaf(plan, source_value)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        # the rest is graphql-core's own gathering, on the dict built so far
        return _gather(results, awaitable_fields)


def _read_leaf(plan: LeafPlan, source: Any) -> Any:
    """The serialised value, or Undefined when graphql-core must handle the field itself."""
    getter, name, serialise, non_null = plan
    try:
        value = getter(source, name)
    except Exception:
        return Undefined
    if value is None:
        return Undefined if non_null else None
    if value is Undefined or isinstance(value, Exception):
        return Undefined
    try:
        coerced = serialise(value)
    except Exception:
        return Undefined
    if coerced is None or coerced is Undefined:
        return Undefined
    return coerced


async def _gather(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    if len(awaitable_fields) == 1:
        field = awaitable_fields[0]
        results[field] = await results[field]
    else:
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
    return results
