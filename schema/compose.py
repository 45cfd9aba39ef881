"""Composition: the core's types plus every enabled plugin's, as ONE GraphQL schema.

Plugin contributions are checked before the schema is built (type name clashes, profile types
that do not implement `CategoryProfile`, fields that shadow or target nothing), and the whole
schema is printed once at build time so a broken plugin type fails start-up, not a request.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry import relay
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.permission import PermissionExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.field import StrawberryField

from linkstar.core.contract.registry import Registry
from linkstar.core.kernel.errors import PluginContractError
from linkstar.schema.access import ProviderPrivate, StaffOnly, declares_owner
from linkstar.schema.billing.category_fields import BillingCategoryFields
from linkstar.schema.billing.mutations import BillingMutation
from linkstar.schema.billing.provider_fields import BillingProviderFields
from linkstar.schema.billing.queries import BillingQuery
from linkstar.schema.billing.types import ChargeType, PayoutType, SellerPaymentType, StatementType
from linkstar.schema.bulk_inputs import BulkInputs
from linkstar.schema.context import SharedReads
from linkstar.schema.document_cache import DocumentCache
from linkstar.schema.errors import ErrorCodes, code_of
from linkstar.schema.execution import LeanExecutionContext
from linkstar.schema.fees.category_fields import FeesCategoryFields
from linkstar.schema.fees.queries import FeeQuery
from linkstar.schema.hardening import (
    MAX_TOKENS,
    AliasLimit,
    AuditedMutation,
    AuditMutations,
    ShapeLimits,
    ValidText,
)
from linkstar.schema.identity.schema import IdentityMutation, IdentityQuery
from linkstar.schema.kpi.alert_mutations import AlertMutation
from linkstar.schema.kpi.category_fields import KpiCategoryFields
from linkstar.schema.kpi.mutations import KpiMutation
from linkstar.schema.kpi.provider_fields import KpiProviderFields
from linkstar.schema.kpi.types import KpiObservationType, ScorecardType
from linkstar.schema.live.subscriptions import LiveSubscription
from linkstar.schema.live.webhooks import WebhookMutation, WebhookProviderFields
from linkstar.schema.marketplace.category_fields import MarketplaceCategoryFields
from linkstar.schema.marketplace.mutations import MarketplaceMutation, OrderMutation
from linkstar.schema.marketplace.provider_fields import MarketplaceProviderFields
from linkstar.schema.marketplace.queries import MarketplaceQuery
from linkstar.schema.marketplace.support import (
    SellerSupportMutation,
    SellerSupportQuery,
    SellerTicketType,
)
from linkstar.schema.marketplace.types import OfferType, OrderType, ServiceRequestType, StoreType
from linkstar.schema.onboarding.category_fields import OnboardingCategoryFields
from linkstar.schema.onboarding.mutations import OnboardingMutation
from linkstar.schema.onboarding.provider_fields import OnboardingProviderFields
from linkstar.schema.onboarding.queries import OnboardingQuery
from linkstar.schema.onboarding.types import ApplicationType, DocumentType, TimelineEntry
from linkstar.schema.plugin_api import fields_of
from linkstar.schema.providers.mutations import ProviderMutation
from linkstar.schema.providers.queries import ProviderQuery
from linkstar.schema.providers.types import CategoryProfile, ProviderType, ServiceCategoryType
from linkstar.schema.query import Mutation, Query
from linkstar.schema.scalars import SCALAR_OVERRIDES
from linkstar.schema.standing.mutations import StandingMutation, StandingQuery
from linkstar.schema.standing.provider_fields import StandingProviderFields

log = logging.getLogger("linkstar.graphql")
CORE = "linkstar.core"

# Node types reachable only through `node(id:)` or a contributed field are listed so the
# schema knows them whatever the fields reference.
CORE_TYPES: tuple[type, ...] = (
    ScorecardType,
    TimelineEntry,
    ProviderType,
    ApplicationType,
    DocumentType,
    KpiObservationType,
    ServiceCategoryType,
    CategoryProfile,
    ChargeType,
    StatementType,
    PayoutType,
    SellerPaymentType,
    StoreType,
    ServiceRequestType,
    OfferType,
    OrderType,
    SellerTicketType,
)

# Every built-in domain adds its fields to the shared types through the door plugins use
# (`FieldContribution`), listed here, in one place.
BUILT_IN_FIELDS = (
    *fields_of("Query", IdentityQuery),
    *fields_of("Query", OnboardingQuery),
    *fields_of("Query", ProviderQuery),
    *fields_of("Query", FeeQuery),
    *fields_of("Query", BillingQuery),
    *fields_of("Query", StandingQuery),
    *fields_of("Query", MarketplaceQuery),
    *fields_of("Query", SellerSupportQuery),
    *fields_of("Mutation", IdentityMutation),
    *fields_of("Mutation", KpiMutation),
    *fields_of("Mutation", ProviderMutation),
    *fields_of("Mutation", OnboardingMutation),
    *fields_of("Mutation", StandingMutation),
    *fields_of("Mutation", AlertMutation),
    *fields_of("Mutation", BillingMutation),
    *fields_of("Mutation", WebhookMutation),
    *fields_of("Mutation", MarketplaceMutation),
    *fields_of("Mutation", OrderMutation),
    *fields_of("Mutation", SellerSupportMutation),
    *fields_of("Provider", KpiProviderFields),
    *fields_of("Provider", StandingProviderFields),
    *fields_of("Provider", OnboardingProviderFields),
    *fields_of("Provider", BillingProviderFields),
    *fields_of("Provider", WebhookProviderFields),
    *fields_of("Provider", MarketplaceProviderFields),
    *fields_of("ServiceCategory", KpiCategoryFields),
    *fields_of("ServiceCategory", OnboardingCategoryFields),
    *fields_of("ServiceCategory", FeesCategoryFields),
    *fields_of("ServiceCategory", BillingCategoryFields),
    *fields_of("ServiceCategory", MarketplaceCategoryFields),
)

# The SDL's field order is part of the API clients diff against: the built-in fields of
# these types keep this order whichever domain contributes them; plugin fields follow.
FIELD_ORDER: dict[str, dict[str, int]] = {
    name: {field: index for index, field in enumerate(fields)}
    for name, fields in {
        "Provider": (
            "id",
            "legal_name",
            "region",
            "created_at",
            "updated_at",
            "registration_number",
            "public_standings",
            "marketplaces",
            "category_profiles",
            "category_profile",
            "registration_details",
            "registration",
            "has_expired_documents",
            "active_bar",
            "scorecard",
            "scorecards",
            "kpi_projection",
            "sanctions",
            "metric_trend",
            "alerts",
            "appeals",
            "violations",
            "tier_history",
            "renewal_recommendation",
            "timeline",
            "applications",
            "documents",
            "observations",
            "webhooks",
            "observation_sources",
        ),
        "Query": (
            "viewer",
            "api_tokens",
            "audit_log",
            "application_checklist",
            "applications",
            "node",
            "nodes",
            "service_categories",
            "service_category",
            "fee_quote",
            "pending_approvals",
            "providers",
            "provider",
            "stores",
            "service_requests",
            "offers",
            "orders",
            "provider_ranking",
        ),
        "Mutation": (
            "login",
            "refresh_session",
            "logout",
            "change_password",
            "sign_up_seller",
            "verify_email",
            "request_email_verification",
            "create_api_token",
            "revoke_api_token",
            "invite_member",
            "accept_invitation",
            "set_account_disabled",
            "create_staff_account",
            "report_observations",
            "evaluate_period",
            "review_observation_claim",
            "register_provider",
            "start_application",
            "lift_provider_bar",
            "save_category_profile",
            "upload_document",
            "sign_agreement",
            "submit_application",
            "withdraw_application",
            "start_review",
            "assign_reviewer",
            "review_document",
            "add_review_note",
            "request_information",
            "schedule_interview",
            "record_interview",
            "approve_application",
            "reject_application",
            "decide_probation",
            "record_violation",
            "decide_termination",
            "reverse_tier_change",
            "set_tier",
            "set_alert_threshold",
            "mark_alert_read",
            "file_appeal",
            "decide_appeal",
            "decide_approval",
            "register_webhook",
            "disable_webhook",
            "create_store",
            "create_service_request",
            "dispatch_service_request",
            "declare_capacity",
            "accept_offer",
            "decline_offer",
            "expire_offers",
            "add_milestone",
            "deliver_milestone",
            "accept_milestone",
            "deliver_order",
            "request_changes",
            "complete_order",
            "cancel_order",
            "open_dispute",
            "resolve_dispute",
        ),
    }.items()
}
CONFIG = StrawberryConfig()
PRODUCTION_CONFIG = StrawberryConfig(disable_field_suggestions=True)


class LinkStarSchema(strawberry.Schema):
    """A strawberry Schema whose types also carry the fields plugins contributed to them."""

    def __init__(
        self, *args: Any, extra_fields: dict[str, list[StrawberryField]], **kwargs: Any
    ) -> None:
        self._extra_fields = extra_fields
        super().__init__(*args, **kwargs)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = [*type_definition.fields, *self._extra_fields.get(type_definition.name, [])]
        if type_definition.name == "Mutation":
            fields = [_audited(f) for f in fields]
        order = FIELD_ORDER.get(type_definition.name)
        if order:  # a stable sort: plugin fields keep their own order, after the built-ins
            fields.sort(key=lambda f: order.get(f.graphql_name or f.python_name, len(order)))
        return fields

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log only what is unexpected; refusals with a code are answers, not incidents."""
        for error in errors:
            if code_of(error) == "INTERNAL_SERVER_ERROR":
                log.error("internal error at %s", error.path, exc_info=error.original_error)


def _audited(field: StrawberryField) -> StrawberryField:
    """A copy of a root mutation field that writes its own audit entry (`AuditedMutation`)."""
    if any(isinstance(e, AuditedMutation) for e in field.extensions):
        return field
    audited = copy.copy(field)
    audited.extensions = [*field.extensions, AuditedMutation()]
    return audited


def _definition_name(cls: type) -> str | None:
    definition = getattr(cls, "__strawberry_definition__", None)
    if definition is not None:
        return definition.name
    enum_definition = getattr(cls, "_enum_definition", None)
    if enum_definition is not None:
        return enum_definition.name
    return None


@functools.cache
def _core_type_fields() -> dict[str, frozenset[str]]:
    """GraphQL type name → field names, for the core alone (the core's types never change in a
    process, so the core-only schema is built once, not at every composition)."""
    schema = LinkStarSchema(
        query=Query,
        mutation=Mutation,
        subscription=LiveSubscription,
        types=CORE_TYPES,
        config=CONFIG,
        extra_fields=_built_in_fields(),
        scalar_overrides=SCALAR_OVERRIDES,
    )
    return {
        name: frozenset(getattr(gql_type, "fields", {}) or {})
        for name, gql_type in schema._schema.type_map.items()
    }


def _built_in_fields() -> dict[str, list[StrawberryField]]:
    """The built-in domains' contributions, by target type (fresh copies per schema)."""
    extra: dict[str, list[StrawberryField]] = {}
    for contribution in BUILT_IN_FIELDS:
        field = copy.copy(contribution.field)
        field.python_name = contribution.name
        extra.setdefault(contribution.target, []).append(field)
    return extra


def _extensions(production: bool) -> list[Any]:
    rules: list[Any] = [ShapeLimits, AliasLimit, ValidText]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Classes or factories, never shared instances (each request gets its own).
    return [
        lambda: ErrorCodes(production=production),
        AuditMutations,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(rules),
        DocumentCache,  # after the two above: it keys on their parse options and rules
        SharedReads,
    ]


def _guard(contribution: Any, field: StrawberryField, plugin: str) -> None:
    """Puts a non-public plugin field behind the policy layer (null/empty when denied)."""
    if contribution.public:
        return
    if not isinstance(field.type, StrawberryOptional | StrawberryList):
        raise PluginContractError(
            plugin,
            f"field {contribution.target}.{contribution.name} is guarded by the policy layer, "
            "so it must be nullable or a list",
            suggestion="make it Optional, or pass public=True if everyone may see it",
        )
    permission = ProviderPrivate() if contribution.target == "Provider" else StaffOnly()
    field.extensions = [*field.extensions, PermissionExtension([permission], fail_silently=True)]


class Execution(LeanExecutionContext, BulkInputs):
    """strawberry's executor with both fast paths: plain leaf fields read inline
    (`execution.py`) and a long list of flat inputs, a 10,000-record report, coerced in one
    pass (`bulk_inputs.py`)."""


def compose_schema(
    registry: Registry,
    extensions: Iterable[type[SchemaExtension] | Any] = (),
    *,
    production: bool = False,
) -> LinkStarSchema:
    """Build the unified schema, or raise PluginContractError naming the offending plugin."""
    extensions = [*_extensions(production), *extensions]
    core_fields = _core_type_fields()
    names: dict[str, str] = dict.fromkeys(core_fields, "linkstar.core")
    plugin_types: list[type] = []
    type_fields: dict[str, set[str]] = {k: set(v) for k, v in core_fields.items()}

    contributed = list(registry.graphql_types)
    for key, contribution in registry.categories.items():
        if contribution.profile is not None:
            profile_type = contribution.profile.graphql_type
            definition = getattr(profile_type, "__strawberry_definition__", None)
            if (
                definition is None
                or definition.is_interface
                or not any(i.origin is CategoryProfile for i in definition.interfaces)
            ):
                raise PluginContractError(
                    contribution.owner,
                    f"the profile type of category {key!r} must be a strawberry type "
                    "implementing the core CategoryProfile interface",
                    suggestion=(
                        "subclass linkstar.schema.plugin_api.CategoryProfile "
                        "and decorate it with @strawberry.type"
                    ),
                )
            contributed.append((contribution.owner, profile_type))

    for plugin, cls in contributed:
        name = _definition_name(cls)
        if name is None:
            raise PluginContractError(
                plugin, f"{cls.__qualname__} is not a strawberry type or enum"
            )
        owner = names.get(name)
        if owner == plugin and cls in plugin_types:
            continue
        if owner is not None:
            raise PluginContractError(
                plugin,
                f"GraphQL type name {name!r} is already defined by {owner!r}",
                suggestion="prefix your type names with your category, e.g. LogisticsLane",
            )
        if isinstance(cls, type) and issubclass(cls, relay.Node) and not declares_owner(cls):
            raise PluginContractError(
                plugin,
                f"node type {name} does not say who may see it",
                suggestion=(
                    "give it a provider_id (strawberry.Private[int]) field, or set "
                    "linkstar_public = True"
                ),
            )
        names[name] = plugin
        plugin_types.append(cls)
        definition = getattr(cls, "__strawberry_definition__", None)
        type_fields[name] = (
            {CONFIG.name_converter.get_graphql_name(f) for f in definition.fields}
            if definition
            else set()
        )

    extra_fields = _built_in_fields()
    for plugin, contribution in registry.graphql_fields:
        if contribution.target not in type_fields:
            raise PluginContractError(
                plugin,
                f"extends GraphQL type {contribution.target!r}, which does not exist",
                suggestion="extendable types include Query, Provider and ServiceCategory",
            )
        if not isinstance(contribution.field, StrawberryField):
            raise PluginContractError(
                plugin, f"field {contribution.name!r} is not a strawberry field"
            )
        field = copy.copy(contribution.field)
        field.python_name = contribution.name
        graphql_name = CONFIG.name_converter.get_graphql_name(field)
        if graphql_name in type_fields[contribution.target]:
            raise PluginContractError(
                plugin,
                f"field {contribution.target}.{graphql_name} would shadow an existing field",
                suggestion="extensions are strictly additive; choose a new field name",
            )
        _guard(contribution, field, plugin)
        type_fields[contribution.target].add(graphql_name)
        extra_fields.setdefault(contribution.target, []).append(field)

    try:
        schema = LinkStarSchema(
            query=Query,
            mutation=Mutation,
            subscription=LiveSubscription,
            types=[*CORE_TYPES, *plugin_types],
            config=PRODUCTION_CONFIG if production else CONFIG,
            extensions=extensions,
            execution_context_class=Execution,
            extra_fields=extra_fields,
            scalar_overrides=SCALAR_OVERRIDES,
        )
        schema.as_str()  # resolves every lazy type now, so a broken one fails start-up
    except PluginContractError:
        raise
    except Exception as exc:
        plugins = ", ".join(p.name for p in registry.plugins) or "none"
        raise PluginContractError(
            plugins, f"the composed schema is invalid: {type(exc).__name__}: {exc}"
        ) from exc
    return schema


def sdl(schema: strawberry.Schema) -> str:
    """The schema in SDL, as committed in schema/schema.graphql."""
    return schema.as_str().rstrip() + "\n"
