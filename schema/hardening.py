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
| a string literal with a NUL or a lone surrogate | INVALID_TEXT |

(Variables are checked for the same before GraphQL runs: `core.runtime.payload`.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    VariableNode,
)
from graphql.language import OperationType
from sqlalchemy import inspect
from sqlalchemy.exc import StatementError
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types import Info

from linkstar.core.identity import audit
from linkstar.core.kernel.db import is_outage
from linkstar.core.kernel.errors import AuditUnavailable, LinkStarError
from linkstar.core.kernel.text import is_valid_text
from linkstar.core.kernel.vocabulary import AuditOutcome
from linkstar.schema.errors import code_of, log
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


SATURATED = 10**9  # costs are capped here; the limit is far below


class _Walker:
    """Depth and cost of a selection set, fragments expanded with their type conditions.

    Memoised per (selection set, parent type), so a document that fans fragments out
    exponentially is measured in linear time; introspection fields (`__schema`, `__type`, …)
    are not counted, so tools can introspect in development.
    """

    def __init__(self, context: Any) -> None:
        self.context = context
        self.memo: dict[tuple[int, str | None], tuple[int, int]] = {}

    def _type(self, name: str, fallback: Any) -> Any:
        return self.context.schema.get_type(name) or fallback

    def walk(
        self, selection_set: SelectionSetNode, parent: Any, seen: frozenset[str]
    ) -> tuple[int, int]:
        key = (id(selection_set), getattr(parent, "name", None))
        if key in self.memo:
            return self.memo[key]
        depth = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__"):
                    continue
                if selection.selection_set is None:
                    depth, cost = max(depth, 1), cost + 1
                    continue
                definition = None
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    definition = parent.fields.get(name)
                child = _named(definition.type) if definition else None
                inner_depth, inner_cost = self.walk(selection.selection_set, child, seen)
                multiplier = 1
                if child is not None and (child.name.endswith("Connection") or name == "nodes"):
                    multiplier = _page_size(selection)
                depth = max(depth, 1 + inner_depth)
                cost += 1 + multiplier * inner_cost
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self._type(selection.type_condition.name.value, parent)
                inner_depth, inner_cost = self.walk(selection.selection_set, target, seen)
                depth, cost = max(depth, inner_depth), cost + inner_cost
            elif isinstance(selection, FragmentSpreadNode):
                fragment_name = selection.name.value
                fragment = self.context.get_fragment(fragment_name)
                if fragment is None or fragment_name in seen:
                    continue
                target = self._type(fragment.type_condition.name.value, parent)
                inner_depth, inner_cost = self.walk(
                    fragment.selection_set, target, seen | {fragment_name}
                )
                depth, cost = max(depth, inner_depth), cost + inner_cost
            cost = min(cost, SATURATED)
        self.memo[key] = (depth, cost)
        return depth, cost


class ShapeLimits(ValidationRule):
    """Refuses documents nested deeper than MAX_DEPTH or costing more than MAX_COST.

    Cost: every field costs 1; a connection (or `nodes`) multiplies the cost of what is
    selected under it by its page size, so nested lists multiply. Fragments on interfaces
    and unions are measured against their type condition.
    """

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = {
            OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type,
        }[node.operation]
        depth, cost = _Walker(self.context).walk(node.selection_set, root, frozenset())
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(
                    f"the query is {depth} levels deep; the limit is {MAX_DEPTH}",
                    node,
                    extensions={"code": "QUERY_TOO_DEEP"},
                )
            )
        if cost > MAX_COST:
            shown = f"more than {SATURATED}" if cost >= SATURATED else str(cost)
            self.report_error(
                GraphQLError(
                    f"the query could resolve {shown} objects; the limit is {MAX_COST}",
                    node,
                    extensions={
                        "code": "QUERY_TOO_COSTLY",
                        "cost": cost,
                        "suggestion": "ask for smaller pages (first/last) or fewer nested lists",
                    },
                )
            )


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


class ValidText(ValidationRule):
    """Refuses string literals holding a NUL or a lone surrogate, ids included (INVALID_TEXT).

    PostgreSQL cannot store them and SQLite would; refusing them in validation keeps both
    databases alike and means no resolver, audit row or SQL statement ever sees them.
    """

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if not is_valid_text(node.value):
            self.report_error(
                GraphQLError(
                    "text may not contain NUL characters or lone surrogates",
                    node,
                    extensions={"code": "INVALID_TEXT"},
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


TARGET_ARGUMENTS = frozenset(
    {
        "id",
        "application",
        "document",
        "provider",
        "sanction",
        "appeal",
        "email",
        "category",
        "subject",
    }
)


def _target(arguments: dict[str, Any]) -> str | None:
    """The object a mutation acts on, from its first id-like argument, for the audit trail."""
    for name, value in arguments.items():
        if name in TARGET_ARGUMENTS and value is not None:
            return f"{name}={str(value)[:200]}"
    return None


def _code_of_exception(error: BaseException) -> str:
    if isinstance(error, LinkStarError):
        return error.code
    if is_outage(error):
        return "SERVICE_UNAVAILABLE"
    if isinstance(error, GraphQLError):
        return str((error.extensions or {}).get("code") or "BAD_REQUEST")
    return "INTERNAL_SERVER_ERROR"


class AuditedMutation(FieldExtension):
    """The audit entry of one root mutation field, with that field's own outcome.

    The entry rides in the mutation's own transaction: the first transaction the resolver
    commits through `Context.session()` inserts it, so the change and its entry commit or
    fail together; a mutation whose entry cannot be written does not happen and answers
    AUDIT_UNAVAILABLE. A resolver that fails is booked FAILED (or DENIED) with its own code,
    in a transaction of its own; a sibling's error never books it. A resolver that commits
    by other means gets its entry written just after (the fallback, "where possible").
    """

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        context = info.context
        row = audit.entry(
            context.viewer,
            f"mutation.{info.field_name}",
            AuditOutcome.SUCCESS,
            target=_target(kwargs),
            client_address=context.client_address,
            details={"codes": []},
        )
        context.pending_audit = row
        try:
            result = await next_(source, info, **kwargs)
        except Exception as error:
            if _is_audit_insert(error):
                log.error("could not write an audit entry; the mutation was rolled back")
                raise AuditUnavailable(
                    "the audit log cannot be written now, so the mutation did not happen",
                    suggestion="retry shortly",
                ) from None
            code = _code_of_exception(error)
            outcome = AuditOutcome.DENIED if code in DENIED_CODES else AuditOutcome.FAILED
            await _book_failure(context, row, outcome, code)
            raise
        finally:
            context.pending_audit = None
        if not inspect(row).has_identity:  # the resolver committed no transaction of ours
            try:
                await audit.record(context.sessionmaker, row)
            except Exception as error:
                if not is_outage(error):
                    log.exception("could not write an audit entry")
                raise AuditUnavailable(
                    "the action ran but its audit entry could not be written",
                    suggestion="an administrator should check the audit log",
                ) from None
        return result


def _is_audit_insert(error: BaseException | None) -> bool:
    """Whether `error` came from inserting the audit entry (even if a resolver translated
    the database error into one of its own, say EMAIL_TAKEN for any IntegrityError)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        statement = getattr(error, "statement", None) or ""
        if isinstance(error, StatementError) and "INSERT INTO audit_log" in statement:
            return True
        error = error.__cause__ or error.__context__
    return False


async def _book_failure(context: Any, row: Any, outcome: AuditOutcome, code: str) -> None:
    """Book a failed field; if an earlier transaction of it wrote SUCCESS, correct it."""
    try:
        if inspect(row).has_identity:
            await audit.settle(context.sessionmaker, row.id, outcome, {"codes": [code]})
        else:
            await audit.record(
                context.sessionmaker,
                audit.entry(
                    context.viewer,
                    row.action,
                    outcome,
                    target=row.target,
                    client_address=row.client_address,
                    details={"codes": [code]},
                ),
            )
    except Exception as error:  # nothing of the failed mutation was committed
        log.warning("could not book a failed mutation: %s", type(error).__name__)


class AuditMutations(SchemaExtension):
    """Records every FORBIDDEN error (queries included) as a permission-denied event.

    (Each root mutation field writes its own entry: see `AuditedMutation`.)
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        try:
            await self._record()
        except Exception as error:  # the caller's answer must not depend on the audit store
            if is_outage(error):
                log.warning("could not write the audit log: the database is unavailable")
            else:
                log.exception("could not write the audit log")

    async def _record(self) -> None:
        execution = self.execution_context
        context = execution.context
        if context is None or not hasattr(context, "sessionmaker"):
            return
        result = execution.result
        errors = list(getattr(result, "errors", None) or [])
        entries = []
        for error in errors:
            if code_of(error) == "FORBIDDEN":
                entries.append(
                    audit.entry(
                        context.viewer,
                        "security.permission_denied",
                        AuditOutcome.DENIED,
                        target=".".join(str(p) for p in error.path or []),
                        client_address=context.client_address,
                        details={"message": error.message[:500]},
                    )
                )
        if entries:
            await audit.record(context.sessionmaker, *entries)
