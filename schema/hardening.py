"""Limits on what one GraphQL request may ask, and the audit of every mutation.

Each limit is a validation rule, so an abusive document is refused before anything runs, with
a stable `extensions.code`:

| limit | code |
|---|---|
| selection depth > MAX_DEPTH | QUERY_TOO_DEEP |
| more than MAX_ALIASES aliases | TOO_MANY_ALIASES |
| estimated cost > MAX_COST (page sizes multiply down nested lists) | QUERY_TOO_COSTLY |
| more than MAX_TOKENS tokens | QUERY_TOO_LARGE |
| introspection in production | INTROSPECTION_DISABLED |
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)
from graphql.language import OperationType
from strawberry.extensions import SchemaExtension

from linkstar.core import audit
from linkstar.core.vocabulary import AuditOutcome
from linkstar.schema.errors import code_of
from linkstar.schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_COST = 25_000
MAX_TOKENS = 5_000
DENIED_CODES = frozenset({"FORBIDDEN", "RATE_LIMITED"})  # refused by policy or a limit


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _selections(
    context: Any, selection_set: SelectionSetNode | None, seen: frozenset[str]
) -> Iterator[tuple[FieldNode, frozenset[str]]]:
    """Fields of a selection set, fragments expanded (each fragment once per path)."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection, seen
        elif isinstance(selection, InlineFragmentNode):
            yield from _selections(context, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                yield from _selections(context, fragment.selection_set, seen | {name})


class DepthLimit(ValidationRule):
    """Refuses documents nested deeper than MAX_DEPTH fields."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        depth = self._depth(node.selection_set, frozenset())
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(
                    f"the query is {depth} levels deep; the limit is {MAX_DEPTH}",
                    node,
                    extensions={"code": "QUERY_TOO_DEEP"},
                )
            )

    def _depth(self, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        deepest = 0
        for field, path in _selections(self.context, selection_set, seen):
            if field.selection_set is not None:
                deepest = max(deepest, 1 + self._depth(field.selection_set, path))
            else:
                deepest = max(deepest, 1)
        return deepest


class AliasLimit(ValidationRule):
    """Refuses documents with more than MAX_ALIASES aliased fields (alias-based amplification)."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.count = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.count += 1
            if self.count == MAX_ALIASES + 1:
                self.report_error(
                    GraphQLError(
                        f"the query uses more than {MAX_ALIASES} aliases",
                        node,
                        extensions={"code": "TOO_MANY_ALIASES"},
                    )
                )


def _page_size(field: FieldNode) -> int:
    """The page a connection field asks for; a variable counts as the maximum page."""
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            if isinstance(argument.value, IntValueNode):
                return max(0, min(int(argument.value.value), MAX_PAGE_SIZE))
            if isinstance(argument.value, VariableNode):
                return MAX_PAGE_SIZE
        if argument.name.value == "ids":
            if isinstance(argument.value, ListValueNode):
                return len(argument.value.values)
            return MAX_PAGE_SIZE
    return DEFAULT_PAGE_SIZE


class CostLimit(ValidationRule):
    """Refuses documents whose estimated number of resolved objects exceeds MAX_COST.

    Every field costs 1; a connection (or `nodes`) multiplies the cost of what is selected
    under it by its page size, so nested lists multiply.
    """

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = {
            OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type,
        }[node.operation]
        cost = self._cost(node.selection_set, root, frozenset())
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"the query could resolve about {cost} objects; the limit is {MAX_COST}",
                    node,
                    extensions={
                        "code": "QUERY_TOO_COSTLY",
                        "cost": cost,
                        "suggestion": "ask for smaller pages (first/last) or fewer nested lists",
                    },
                )
            )

    def _cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        seen: frozenset[str],
    ) -> int:
        total = 0
        for field, path in _selections(self.context, selection_set, seen):
            total += 1
            if field.selection_set is None:
                continue
            definition = None
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                definition = parent.fields.get(field.name.value)
            child = _named(definition.type) if definition else None
            multiplier = 1
            if child is not None and (
                child.name.endswith("Connection") or field.name.value == "nodes"
            ):
                multiplier = _page_size(field)
            total += multiplier * self._cost(field.selection_set, child, path)
        return total


class AuditMutations(SchemaExtension):
    """Writes one audit entry per root mutation field, with its outcome, whatever happened.

    Also records every FORBIDDEN error (queries included) as a permission-denied event.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        execution = self.execution_context
        context = execution.context
        if context is None or not hasattr(context, "sessionmaker"):
            return
        result = execution.result
        errors = list(getattr(result, "errors", None) or [])
        entries = []
        document = execution.graphql_document
        operation = next(
            (
                d
                for d in (document.definitions if document else [])
                if isinstance(d, OperationDefinitionNode)
            ),
            None,
        )
        if (
            operation is not None
            and operation.operation is OperationType.MUTATION
            and result is not None
        ):
            for field in operation.selection_set.selections:
                if not isinstance(field, FieldNode):
                    continue
                key = field.alias.value if field.alias else field.name.value
                codes = [code_of(e) for e in errors if e.path and e.path[0] == key]
                if not codes and errors and not getattr(result, "data", None):
                    codes = [code_of(errors[0])]
                if not codes:
                    outcome = AuditOutcome.SUCCESS
                elif any(c in DENIED_CODES for c in codes):
                    outcome = AuditOutcome.DENIED
                else:
                    outcome = AuditOutcome.FAILED
                entries.append(
                    audit.entry(
                        context.viewer,
                        f"mutation.{field.name.value}",
                        outcome,
                        client_address=context.client_address,
                        details={"codes": [c for c in codes if c]},
                    )
                )
        for error in errors:
            if code_of(error) == "FORBIDDEN":
                entries.append(
                    audit.entry(
                        context.viewer,
                        "security.permission_denied",
                        AuditOutcome.DENIED,
                        target=".".join(str(p) for p in error.path or []),
                        client_address=context.client_address,
                        details={"message": error.message},
                    )
                )
        if entries:
            await audit.record(context.sessionmaker, *entries)
