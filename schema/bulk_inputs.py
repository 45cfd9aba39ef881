"""Large lists of flat input objects (a 10,000-record report) coerced in one pass.

graphql-core coerces a variable value generically: for every item and every field it looks the
field's type up again, unwraps it, checks it, and walks the whole value once more beforehand for
its depth. For `[ObservationInput!]!` with 10,000 items that is most of a large report's
parsing. `BulkInputs` coerces such a variable itself when the list is long and its items are
flat (every field a scalar or an enum, no defaults to compute per item), with the same rules:
unknown and missing required fields, nulls and each scalar's own parsing. At the first item it
cannot take it hands the value back to graphql-core whole, so every refusal is graphql-core's,
word for word (BAD_USER_INPUT with the same message). Short lists always go the generic way.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLSchema,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    TypeNode,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.values import VariableValueSource
from graphql.utilities.coerce_input_value import coerce_default_value
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

BULK = 500  # items from which a list is coerced here

# (GraphQL name, Python name, coerce, required, nullable, default) per field
Plan = list[tuple[str, str, Any, bool, bool, Any]]


def _plan(input_type: GraphQLInputObjectType) -> Plan | None:
    """How to coerce one item of `input_type`, or None if it is not flat."""
    if input_type.is_one_of:
        return None
    plan: Plan = []
    for name, field in input_type.fields.items():
        nullable = not is_non_null_type(field.type)
        leaf = field.type if nullable else field.type.of_type  # type: ignore[union-attr]
        if not is_leaf_type(leaf):
            return None
        default = coerce_default_value(field)
        required = not nullable and default is Undefined
        coerce = leaf.coerce_input_value
        plan.append((name, field.out_name or name, coerce, required, nullable, default))
    return plan


def _item_type(schema: GraphQLSchema, node: TypeNode) -> GraphQLInputObjectType | None:
    """The input object type of a variable typed as a list of it ([X!]!, [X!], [X]!, [X])."""
    if isinstance(node, NonNullTypeNode):
        node = node.type
    if not isinstance(node, ListTypeNode):
        return None
    node = node.type
    if isinstance(node, NonNullTypeNode):
        node = node.type
    if not isinstance(node, NamedTypeNode):
        return None
    named = schema.get_type(node.name.value)
    return named if isinstance(named, GraphQLInputObjectType) else None


def coerce_items(values: list[Any], input_type: GraphQLInputObjectType, plan: Plan) -> Any:
    """The coerced items, or Undefined at the first one graphql-core would refuse."""
    known = {name for name, *_ in plan}
    out_type = input_type.out_type
    coerced = []
    for value in values:
        if not isinstance(value, dict) or not known.issuperset(value):
            return Undefined  # not an object, or a field the type does not have
        item: dict[str, Any] = {}
        for name, python_name, coerce, required, nullable, default in plan:
            given = value.get(name, Undefined)
            if given is Undefined:
                if required:
                    return Undefined
                if default is not Undefined:
                    item[python_name] = default
            elif given is None:
                if not nullable:
                    return Undefined
                item[python_name] = None
            else:
                try:
                    parsed = coerce(given)
                except Exception:  # graphql-core, too, takes any failure as an invalid value
                    return Undefined
                if parsed is Undefined:
                    return Undefined
                item[python_name] = parsed
        coerced.append(out_type(item))
    return coerced


class BulkInputs(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, with long lists of flat input objects coerced in one pass."""

    @classmethod
    def build(  # type: ignore[override]
        cls,
        schema: GraphQLSchema,
        document: Any,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        bulk: dict[str, Any] = {}
        if raw_variable_values and len(operations) == 1:
            for definition in operations[0].variable_definitions or ():
                name = definition.variable.name.value
                value = raw_variable_values.get(name)
                if not isinstance(value, list) or len(value) < BULK:
                    continue
                input_type = _item_type(schema, definition.type)
                plan = _plan(input_type) if input_type is not None else None
                if plan is None or input_type is None:
                    continue
                items = coerce_items(value, input_type, plan)
                if items is not Undefined:
                    bulk[name] = items
        given = raw_variable_values
        if bulk:  # graphql-core checks the rest, and these variables as empty lists
            given = {**(raw_variable_values or {}), **{name: [] for name in bulk}}
        built = super().build(schema, document, root_value, context_value, given, *args, **kwargs)
        if bulk and not isinstance(built, list):
            variables = built.variable_values
            for name, items in bulk.items():
                variables.coerced[name] = items
                source = variables.sources[name]
                variables.sources[name] = VariableValueSource(
                    source.signature,
                    raw_variable_values[name],  # type: ignore[index]
                )
        return built
