"""The core's GraphQL types. Category types come from plugins and implement `CategoryProfile`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from linkstar.core.contract.registry import CategoryContribution
from linkstar.core.fees.rules import FeeKind
from linkstar.core.fees.rules import FeeQuote as FeeQuoteValue
from linkstar.core.fees.rules import FeeRule as FeeRuleSpec
from linkstar.core.identity.policy import Action as PolicyAction
from linkstar.core.identity.policy import allowed, can_read_private
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    DocumentStatus,
    Marketplace,
    ObservationSource,
    Region,
    SanctionStatus,
    Tier,
)
from linkstar.core.kpi.metrics import AggregationKind, Direction, PeriodKind, Unit
from linkstar.core.kpi.metrics import MetricDefinition as MetricSpec
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.onboarding.documents import DocumentRequirement as DocumentRequirementSpec
from linkstar.core.providers.categories import ProfileRecord
from linkstar.core.runtime import tables as models
from linkstar.schema import loaders
from linkstar.schema.context import Context
from linkstar.schema.pagination import Connection, PageArgs, build_connection, node_int

RegionEnum = strawberry.enum(Region, description="Region of the provider's legal entity.")
TierEnum = strawberry.enum(Tier, description="Cooperation tier, lowest first.")
MarketplaceEnum = strawberry.enum(Marketplace, description="A marketplace sellers sell on.")
ApplicationStatusEnum = strawberry.enum(
    ApplicationStatus, description="Where an application stands."
)
DocumentStatusEnum = strawberry.enum(
    DocumentStatus, description="A reviewer's verdict on a document."
)
ObservationSourceEnum = strawberry.enum(
    ObservationSource, description="Who produced an observation."
)
UnitEnum = strawberry.enum(Unit, description="What a number means and which values it may take.")
DirectionEnum = strawberry.enum(Direction, description="Which way is better for a metric.")
AggregationKindEnum = strawberry.enum(
    AggregationKind, description="How observations are aggregated."
)
PeriodKindEnum = strawberry.enum(PeriodKind, description="Length of an evaluation period.")
FeeKindEnum = strawberry.enum(FeeKind, description="Billing basis of a fee rule.")

if TYPE_CHECKING:
    from linkstar.schema.standing import (
        AlertType,
        AppealType,
        Recommendation,
        SanctionType,
        TierChangeType,
        ViolationType,
    )

Ctx = Info[Context, None]


def ctx(info: Ctx) -> Context:
    return info.context


@strawberry.type(description="An exact amount of money: a decimal string and an ISO 4217 currency.")
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, value: MoneyValue | None) -> Money | None:
        return None if value is None else cls(amount=value.amount, currency=value.currency)


@strawberry.type(description="A named parameter of an aggregation, e.g. percentile = 90.")
class AggregationParam:
    name: str
    value: Decimal


@strawberry.type(description="How a metric's observations become its value.")
class Aggregation:
    kind: str = strawberry.field(description="A built-in AggregationKind, or a plugin's own kind.")
    params: list[AggregationParam]
    description: str


@strawberry.type(
    description="The period a metric is evaluated over and the time zone of its boundaries."
)
class EvaluationWindow:
    period: PeriodKind
    timezone: str


@strawberry.type(
    name="MetricDefinition", description="A KPI of a category, as its plugin declares it."
)
class MetricDefinitionType:
    key: str
    name: str
    description: str
    unit: Unit
    observed_unit: Unit
    direction: Direction
    threshold: Decimal
    aggregation: Aggregation
    weight: Decimal
    min_sample_size: int
    window: EvaluationWindow
    warning_band: Decimal
    version: str = strawberry.field(description="Fingerprint of this exact definition (SHA-256).")

    @classmethod
    def of(cls, spec: MetricSpec, custom: Any = None) -> MetricDefinitionType:
        return cls(
            key=spec.key,
            name=spec.name,
            description=spec.description,
            unit=spec.unit,
            observed_unit=spec.observed_unit,
            direction=spec.direction,
            threshold=spec.threshold,
            aggregation=Aggregation(
                kind=spec.aggregation.name,
                params=[
                    AggregationParam(name=k, value=v)
                    for k, v in sorted(spec.aggregation.params.items())
                ],
                description=spec.aggregation.describe(custom),
            ),
            weight=spec.weight,
            min_sample_size=spec.min_sample_size,
            window=EvaluationWindow(period=spec.window.period, timezone=spec.window.timezone),
            warning_band=spec.warning_band,
            version=spec.fingerprint(),
        )


@strawberry.type(
    name="DocumentRequirement", description="A document an applicant must or may provide."
)
class DocumentRequirementType:
    key: str
    name: str
    description: str
    mandatory: bool
    regions: list[Region] = strawberry.field(description="Regions asked for this document.")
    media_types: list[str]
    max_bytes: int
    expires: bool

    @classmethod
    def of(cls, spec: DocumentRequirementSpec) -> DocumentRequirementType:
        return cls(
            key=spec.key,
            name=spec.name,
            description=spec.description,
            mandatory=spec.mandatory,
            regions=[r for r in Region if spec.applies_to(r)],
            media_types=sorted(spec.media_types),
            max_bytes=spec.max_bytes,
            expires=spec.expires,
        )


@strawberry.type(description="A choice within a fee option group.")
class FeeOption:
    group: str
    value: str
    default: bool


@strawberry.type(name="FeeRule", description="A fee or commission a category charges, and when.")
class FeeRuleType:
    key: str
    name: str
    kind: FeeKind
    amount: Money | None = strawberry.field(description="Amount, or unit price for PER_UNIT_FEE.")
    rate_percent: Decimal | None = strawberry.field(description="Commission share of order value.")
    regions: list[Region]
    tiers: list[Tier]
    option: FeeOption | None
    unit: str | None
    note: str
    scope: str = strawberry.field(description="The rule's conditions in words.")

    @classmethod
    def of(cls, category: str, spec: FeeRuleSpec) -> FeeRuleType:
        return cls(
            key=f"{category}.{spec.key}",
            name=spec.name,
            kind=spec.kind,
            amount=Money.of(spec.amount),
            rate_percent=spec.rate_percent,
            regions=[r for r in Region if spec.regions is None or r in spec.regions],
            tiers=[t for t in Tier if spec.tiers is None or t in spec.tiers],
            option=FeeOption(
                group=spec.option.group, value=spec.option.value, default=spec.option.default
            )
            if spec.option
            else None,
            unit=spec.unit,
            note=spec.note,
            scope=spec.scope(),
        )


@strawberry.type(description="One line of a fee quote, naming the rule that produced it.")
class FeeQuoteLine:
    rule_key: str
    name: str
    kind: FeeKind
    scope: str
    unit_price: Money | None
    quantity: int | None
    unit: str | None
    amount: Money | None
    rate_percent: Decimal | None
    note: str


@strawberry.type(description="The option chosen (or defaulted) for an option group.")
class FeeOptionChoice:
    group: str
    value: str


@strawberry.type(name="FeeQuote", description="An itemised quote for a category, region and tier.")
class FeeQuoteType:
    category: str
    region: Region
    tier: Tier
    options: list[FeeOptionChoice]
    lines: list[FeeQuoteLine]
    upfront_totals: list[Money] = strawberry.field(description="Payable at signing, per currency.")
    commission_percent: Decimal = strawberry.field(description="Total commission on order value.")

    @classmethod
    def of(cls, value: FeeQuoteValue) -> FeeQuoteType:
        return cls(
            category=value.category,
            region=value.region,
            tier=value.tier,
            options=[FeeOptionChoice(group=g, value=v) for g, v in sorted(value.options.items())],
            lines=[
                FeeQuoteLine(
                    rule_key=line.rule_key,
                    name=line.name,
                    kind=line.kind,
                    scope=line.scope,
                    unit_price=Money.of(line.unit_price),
                    quantity=line.quantity,
                    unit=line.unit,
                    amount=Money.of(line.amount),
                    rate_percent=line.rate_percent,
                    note=line.note,
                )
                for line in value.lines
            ],
            upfront_totals=[m for m in (Money.of(t) for t in value.upfront_totals()) if m],
            commission_percent=value.commission_percent(),
        )


@strawberry.type(
    name="AgreementTemplate",
    description="A versioned agreement text; sign it by echoing version and sha256.",
)
class AgreementTemplateType:
    key: str
    title: str
    version: str
    text: str
    sha256: str
    mandatory: bool

    @classmethod
    def of(cls, template: Any) -> AgreementTemplateType:
        return cls(
            key=template.key,
            title=template.title,
            version=template.version,
            text=template.text,
            sha256=template.sha256,
            mandatory=template.mandatory,
        )


@strawberry.type(description="How a category onboards applicants.")
class OnboardingTerms:
    interview_required: bool
    probation_days: int
    pilot_order_quota: int
    probation_extension_days: int
    reapply_cooldown_days: int


@strawberry.type(name="ServiceCategory", description="A cooperation type providers apply for.")
class ServiceCategoryType(relay.Node):
    linkstar_public = True
    node_key: relay.NodeID[str]
    key: str
    name: str
    description: str
    position: int
    interview_required: bool
    plugin: str = strawberry.field(description="Entry-point name of the plugin that owns it.")
    contribution: strawberry.Private[CategoryContribution]

    @classmethod
    def of(cls, contribution: CategoryContribution) -> ServiceCategoryType:
        category = contribution.category
        return cls(
            node_key=category.key,
            key=category.key,
            name=category.name,
            description=category.description,
            position=category.position,
            interview_required=category.interview_required,
            plugin=contribution.owner,
            contribution=contribution,
        )

    @strawberry.field(description="The KPI metrics providers of this category are scored on.")
    def metrics(self, info: Ctx) -> list[MetricDefinitionType]:
        custom = ctx(info).registry.aggregations
        return [MetricDefinitionType.of(m, custom) for m in self.contribution.metrics]

    @strawberry.field(description="Documents an applicant provides; only a region's when given.")
    def required_documents(self, region: Region | None = None) -> list[DocumentRequirementType]:
        return [
            DocumentRequirementType.of(d)
            for d in self.contribution.documents
            if region is None or d.applies_to(region)
        ]

    @strawberry.field(
        description="Agreements an applicant signs: exact texts, versions and hashes."
    )
    def agreements(self) -> list[AgreementTemplateType]:
        return [AgreementTemplateType.of(a) for a in self.contribution.onboarding.agreements]

    @strawberry.field(description="How this category onboards: probation, pilot quota, cool-down.")
    def onboarding(self) -> OnboardingTerms:
        policy = self.contribution.onboarding
        return OnboardingTerms(
            interview_required=self.interview_required,
            probation_days=policy.probation_days,
            pilot_order_quota=policy.pilot_order_quota,
            probation_extension_days=policy.probation_extension_days,
            reapply_cooldown_days=policy.reapply_cooldown_days,
        )

    @strawberry.field(description="Fee and commission rules of this category.")
    def fee_rules(self) -> list[FeeRuleType]:
        return [FeeRuleType.of(self.key, r) for r in self.contribution.fee_rules]

    @classmethod
    def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[ServiceCategoryType | None]:
        categories = ctx(info).registry.categories
        return [cls.of(categories[i]) if i in categories else None for i in node_ids]


def category_node(info: Ctx, key: str) -> ServiceCategoryType:
    """The GraphQL category for `key`; a category whose plugin was disabled is NotFound."""
    return ServiceCategoryType.of(ctx(info).registry.category(key))


@strawberry.interface(
    description="Category-specific data a provider fills in; each category plugin implements it."
)
class CategoryProfile(relay.Node):
    id: relay.NodeID[int]
    updated_at: datetime
    category_key: strawberry.Private[str]
    provider_id: strawberry.Private[int]

    @strawberry.field(description="The category this profile belongs to.")
    def category(self, info: Ctx) -> ServiceCategoryType:
        return category_node(info, self.category_key)

    @strawberry.field(description="The provider this profile describes.")
    async def provider(self, info: Ctx) -> ProviderType:
        row = await loaders.by_id(ctx(info), models.Provider).load(self.provider_id)
        return ProviderType.of(row)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[CategoryProfile | None]:
        context = ctx(info)
        rows = await _rows_for_nodes(info, models.CategoryProfileRow, node_ids)
        return [profile_node(context, row, expected=cls) if row else None for row in rows]


def profile_fields(record: ProfileRecord) -> dict[str, Any]:
    """The `CategoryProfile` interface fields, for a plugin's `build` to spread into its type."""
    return {
        "id": record.id,
        "updated_at": record.updated_at,
        "category_key": record.category,
        "provider_id": record.provider_id,
    }


def profile_node(
    context: Context, row: models.CategoryProfileRow, expected: type | None = None
) -> CategoryProfile | None:
    """Build the plugin's GraphQL object for a stored profile (None if its plugin is off)."""
    contribution = context.registry.categories.get(row.category_key)
    if contribution is None or contribution.profile is None:
        return None
    spec = contribution.profile
    if (
        expected is not None
        and expected is not CategoryProfile
        and spec.graphql_type is not expected
    ):
        return None
    record = ProfileRecord(
        id=row.id,
        provider_id=row.provider_id,
        category=row.category_key,
        data=row.data,
        updated_at=row.updated_at,
    )
    return spec.build(record)


def _parse_int_ids(node_ids: Iterable[str]) -> list[int | None]:
    return [node_int(node_id) for node_id in node_ids]


async def _rows_for_nodes(info: Ctx, model: type[Any], node_ids: Iterable[str]) -> list[Any]:
    ids = _parse_int_ids(node_ids)
    valid = [i for i in ids if i is not None]
    rows = await loaders.by_id(ctx(info), model).load_many(valid)
    found = {row.id: row for row in rows if row is not None}
    return [found.get(i) if i is not None else None for i in ids]


def rows_resolver(model: type[Any]) -> Any:
    """`resolve_nodes` for a node type built `of` one row of `model`: batched, and None for an
    id that does not parse or does not exist (visibility is applied by the caller, `node()`)."""

    async def resolve_nodes(
        cls: Any, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return [cls.of(r) if r else None for r in await _rows_for_nodes(info, model, node_ids)]

    return classmethod(resolve_nodes)


async def _zero() -> int:
    return 0


def _page(rows: Sequence[Any], args: PageArgs, to_node: Any, count: Any) -> Connection[Any]:
    return build_connection(rows, args, lambda r: r.id, to_node, count)


@strawberry.type(
    name="Application", description="A provider's application for, and membership of, one category."
)
class ApplicationType(relay.Node):
    id: relay.NodeID[int]
    status: ApplicationStatus
    tier: Tier
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    probation_started_at: datetime | None
    probation_ends_at: datetime | None
    pilot_order_quota: int | None
    probation_extended: bool
    version: int = strawberry.field(description="Changes with every update (optimistic locking).")
    category_key: strawberry.Private[str]
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.Application) -> ApplicationType:
        return cls(
            id=row.id,
            status=row.status,
            tier=row.tier,
            created_at=row.created_at,
            updated_at=row.updated_at,
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
            probation_started_at=row.probation_started_at,
            probation_ends_at=row.probation_ends_at,
            pilot_order_quota=row.pilot_order_quota,
            probation_extended=bool(row.probation_extended),
            version=row.version,
            category_key=row.category_key,
            provider_id=row.provider_id,
        )

    @strawberry.field(description="Whether a preferred provider qualifies as strategic partner.")
    async def strategic_eligibility(
        self, info: Ctx
    ) -> Annotated[Recommendation, strawberry.lazy("linkstar.schema.standing")] | None:
        from linkstar.core.standing import consequences as rules
        from linkstar.schema.standing import Recommendation

        if self.status is not ApplicationStatus.ACTIVE:
            return None
        async with ctx(info).session() as session:
            cards = (
                await rules.recent_cards(
                    session, self.category_key, [self.provider_id], "9999-12", 6
                )
            ).get(self.provider_id, [])
        result = rules.strategic_eligibility(self.tier, cards)
        return Recommendation(decision=result.decision, reasons=list(result.reasons))

    @strawberry.field(
        description="During probation: PASS, FAIL or EXTEND from the probation scorecards."
    )
    async def probation_recommendation(
        self, info: Ctx
    ) -> Annotated[Recommendation, strawberry.lazy("linkstar.schema.standing")] | None:
        from linkstar.core.standing import consequences as rules
        from linkstar.schema.standing import Recommendation

        if self.status is not ApplicationStatus.PROBATION or self.probation_started_at is None:
            return None
        async with ctx(info).session() as session:
            cards = (
                await rules.recent_cards(
                    session, self.category_key, [self.provider_id], "9999-12", 6
                )
            ).get(self.provider_id, [])
        started = self.probation_started_at.strftime("%Y-%m")
        result = rules.probation_recommendation(
            [c for c in cards if c.period >= started], self.probation_extended
        )
        return Recommendation(decision=result.decision, reasons=list(result.reasons))

    @strawberry.field(description="What can be done next from the current state.")
    def allowed_actions(self) -> list[str]:
        return [a.value for a in onboarding.allowed_actions(self.status)]

    @strawberry.field(
        description="What is still missing or invalid: the self-check and the reviewer's list."
    )
    async def checklist(self, info: Ctx) -> ChecklistType:
        return await checklist_for(info, self.id)

    @strawberry.field(description="Documents uploaded for this application, oldest first.")
    async def documents(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[DocumentType]:
        args = PageArgs.parse(first, after, last, before)
        rows = await loaders.child_pages(ctx(info), models.Document, "application_id").load(
            (self.id, args)
        )

        async def count() -> int:
            return await loaders.child_counts(ctx(info), models.Document, "application_id").load(
                self.id
            )

        return _page(rows, args, DocumentType.of, count)

    @strawberry.field(description="Interviews scheduled for this application.")
    async def interviews(self, info: Ctx) -> list[InterviewType]:
        rows = await loaders.children(ctx(info), models.Interview, "application_id").load(self.id)
        return [InterviewType.of(r) for r in rows]

    @strawberry.field(description="Everything that happened to this application, oldest first.")
    async def timeline(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TimelineEntry]:
        return await _timeline(
            info, "application_id", self.id, PageArgs.parse(first, after, last, before)
        )

    @strawberry.field(description="The category applied for (null if its plugin is disabled).")
    def category(self, info: Ctx) -> ServiceCategoryType | None:
        contribution = ctx(info).registry.categories.get(self.category_key)
        return ServiceCategoryType.of(contribution) if contribution else None

    @strawberry.field
    async def provider(self, info: Ctx) -> ProviderType:
        return ProviderType.of(
            await loaders.by_id(ctx(info), models.Provider).load(self.provider_id)
        )

    resolve_nodes = rows_resolver(models.Application)


@strawberry.type(description="What sellers see of a provider's KPIs in one category.")
class PublicStanding:
    category: str
    period: str
    composite: Decimal | None
    standing: str
    tier: Tier


@strawberry.type(description="A metric's value in one period, as scored.")
class TrendPoint:
    period: str
    value: Decimal | None
    threshold: Decimal
    status: str
    sample_size: int


@strawberry.type(
    name="MetricResult", description="One metric's verdict in a scorecard, with its evidence."
)
class MetricResultType:
    metric: str
    period: str = strawberry.field(
        description="The metric's own window (a month, or the quarter holding it)."
    )
    value: Decimal | None
    sample_size: int
    threshold: Decimal
    status: str = strawberry.field(description="PASS, WARNING, FAIL or INSUFFICIENT_DATA.")
    margin: Decimal | None = strawberry.field(
        description="Positive: better than the threshold by this much."
    )
    attainment: Decimal | None = strawberry.field(description="0–100 score of this metric.")
    weight: Decimal
    definition_version: str = strawberry.field(
        description="Fingerprint of the exact definition used."
    )


@strawberry.type(
    name="Scorecard",
    description="A provider's evaluation of one category for one month (immutable).",
)
class ScorecardType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    period: str
    revision: int
    period_start: datetime
    period_end: datetime
    composite: Decimal | None = strawberry.field(
        description="Weighted attainment 0–100 of metrics with a verdict."
    )
    history_score: Decimal | None = strawberry.field(
        description="Composite blended with past periods (decay)."
    )
    standing: str
    computed_at: datetime
    metrics: list[MetricResultType]
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.Scorecard) -> ScorecardType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            period=row.period,
            revision=row.revision,
            period_start=row.period_start,
            period_end=row.period_end,
            composite=row.composite,
            history_score=row.history_score,
            standing=row.standing,
            computed_at=row.computed_at,
            metrics=[
                MetricResultType(
                    metric=r["metric"],
                    period=r["period"],
                    value=None if r["value"] is None else Decimal(r["value"]),
                    sample_size=r["sampleSize"],
                    threshold=Decimal(r["threshold"]),
                    status=r["status"],
                    margin=None if r["margin"] is None else Decimal(r["margin"]),
                    attainment=None if r["attainment"] is None else Decimal(r["attainment"]),
                    weight=Decimal(r["weight"]),
                    definition_version=r["definition"],
                )
                for r in row.results
            ],
            provider_id=row.provider_id,
        )

    resolve_nodes = rows_resolver(models.Scorecard)


@strawberry.type(name="ChecklistItem", description="One thing an application needs, and its state.")
class ChecklistItemType:
    kind: str = strawberry.field(description="DOCUMENT, AGREEMENT, PROFILE or REGISTRATION.")
    key: str
    name: str
    mandatory: bool
    status: str = strawberry.field(
        description="OK, MISSING, PENDING_REVIEW, REJECTED, EXPIRED, INVALID or OUTDATED."
    )
    message: str


@strawberry.type(
    name="Checklist",
    description="The application's checklist; `ready` when nothing blocks submission.",
)
class ChecklistType:
    ready: bool
    items: list[ChecklistItemType]
    problems: list[ChecklistItemType]


def _checklist_item(item: onboarding.ChecklistItem) -> ChecklistItemType:
    return ChecklistItemType(
        kind=item.kind,
        key=item.key,
        name=item.name,
        mandatory=item.mandatory,
        status=item.status.value,
        message=item.message,
    )


async def checklist_for(info: Ctx, application_id: int) -> ChecklistType:
    """The checklist of an application the viewer may see (callers check visibility)."""
    context = ctx(info)
    async with context.session() as session:
        application = await session.get(models.Application, application_id)
        if application is None:
            raise NotFound("no such application")
        contribution = context.registry.category(application.category_key)
        result = await onboarding.checklist(
            session, application, contribution, contribution.onboarding
        )
    return ChecklistType(
        ready=result.ready,
        items=[_checklist_item(i) for i in result.items],
        problems=[_checklist_item(i) for i in result.problems],
    )


@strawberry.type(name="Interview", description="An applicant's interview.")
class InterviewType:
    scheduled_at: datetime
    channel: str
    interviewer_account_id: int
    outcome: str | None
    notes: str | None
    recorded_at: datetime | None

    @classmethod
    def of(cls, row: models.Interview) -> InterviewType:
        return cls(
            scheduled_at=row.scheduled_at,
            channel=row.channel,
            interviewer_account_id=row.interviewer_account_id,
            outcome=row.outcome,
            notes=row.notes,
            recorded_at=row.recorded_at,
        )


@strawberry.type(description="An append-only record of something that happened (who, when, what).")
class TimelineEntry(relay.Node):
    id: relay.NodeID[int]
    occurred_at: datetime
    event_type: str
    actor: str
    payload: JSON
    internal: bool = strawberry.field(
        description="Staff-only entry (e.g. an internal review note)."
    )
    provider_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: models.DomainEvent) -> TimelineEntry:
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            event_type=row.event_type,
            actor=row.actor,
            payload=row.payload,
            internal=row.internal,
            provider_id=row.provider_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        rows = await _rows_for_nodes(info, models.DomainEvent, node_ids)
        staff = allowed(ctx(info).viewer, PolicyAction.READ_ANY_PROVIDER)
        return [cls.of(r) if r and (staff or not r.internal) else None for r in rows]


async def _timeline(
    info: Ctx, column: str, value: int, args: PageArgs
) -> Connection[TimelineEntry]:
    context = ctx(info)
    filters: tuple[tuple[str, Any], ...] = ()
    if not allowed(context.viewer, PolicyAction.READ_ANY_PROVIDER):
        filters = (("internal", False),)
    rows = await loaders.child_pages(context, models.DomainEvent, column, filters).load(
        (value, args)
    )

    async def count() -> int:
        return await loaders.child_counts(context, models.DomainEvent, column, filters).load(value)

    return _page(rows, args, TimelineEntry.of, count)


@strawberry.type(
    name="Document", description="An uploaded document, addressed by the SHA-256 of its bytes."
)
class DocumentType(relay.Node):
    id: relay.NodeID[int]
    requirement_key: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    expires_on: date | None
    status: DocumentStatus
    uploaded_at: datetime
    review_reason: str | None
    reviewed_at: datetime | None
    provider_id: strawberry.Private[int]

    @strawberry.field(description="Whether the document's expiry date has passed.")
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on <= datetime.now(UTC).date()

    @classmethod
    def of(cls, row: models.Document) -> DocumentType:
        return cls(
            review_reason=row.review_reason,
            reviewed_at=row.reviewed_at,
            id=row.id,
            requirement_key=row.requirement_key,
            filename=row.filename,
            media_type=row.media_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            expires_on=row.expires_on,
            status=row.status,
            uploaded_at=row.uploaded_at,
            provider_id=row.provider_id,
        )

    @strawberry.field
    async def provider(self, info: Ctx) -> ProviderType:
        return ProviderType.of(
            await loaders.by_id(ctx(info), models.Provider).load(self.provider_id)
        )

    resolve_nodes = rows_resolver(models.Document)


@strawberry.type(
    name="KpiObservation", description="One observed fact about a provider for one metric."
)
class KpiObservationType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    metric_key: str
    subject_ref: str = strawberry.field(description="Client, store or shipment the fact is about.")
    observed_at: datetime
    value: Decimal
    source: ObservationSource
    attributable: bool = strawberry.field(description="False: visible, but excluded from scoring.")
    non_attributable_reason: str | None
    evidence_ref: str | None
    reported_by: str | None
    reported_at: datetime
    correction_reason: str | None
    provider_id: strawberry.Private[int]
    supersedes_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: models.KpiObservation) -> KpiObservationType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            metric_key=row.metric_key,
            subject_ref=row.subject_ref,
            observed_at=row.observed_at,
            value=row.value,
            source=row.source,
            attributable=row.attributable,
            non_attributable_reason=row.non_attributable_reason,
            evidence_ref=row.evidence_ref,
            reported_by=row.reported_by,
            reported_at=row.reported_at,
            correction_reason=row.correction_reason,
            provider_id=row.provider_id,
            supersedes_id=row.supersedes_id,
        )

    @strawberry.field(
        description="The metric's current definition (null if its plugin is disabled)."
    )
    def metric(self, info: Ctx) -> MetricDefinitionType | None:
        contribution = ctx(info).registry.categories.get(self.category_key)
        if contribution is None:
            return None
        try:
            return MetricDefinitionType.of(
                contribution.metric(self.metric_key), ctx(info).registry.aggregations
            )
        except NotFound:
            return None

    @strawberry.field(description="The observation this one corrects, if any.")
    async def supersedes(self, info: Ctx) -> KpiObservationType | None:
        if self.supersedes_id is None:
            return None
        row = await loaders.by_id(ctx(info), models.KpiObservation).load(self.supersedes_id)
        return KpiObservationType.of(row) if row else None

    @strawberry.field
    async def provider(self, info: Ctx) -> ProviderType:
        return ProviderType.of(
            await loaders.by_id(ctx(info), models.Provider).load(self.provider_id)
        )

    resolve_nodes = rows_resolver(models.KpiObservation)


@strawberry.type(name="Provider", description="A service-provider organisation (服务商).")
class ProviderType(relay.Node):
    linkstar_directory = True
    id: relay.NodeID[int]
    legal_name: str
    region: Region
    created_at: datetime
    updated_at: datetime
    reg_number: strawberry.Private[str]

    @classmethod
    def of(cls, row: models.Provider) -> ProviderType:
        return cls(
            id=row.id,
            legal_name=row.legal_name,
            region=row.region,
            reg_number=row.registration_number,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _private(self, info: Ctx) -> bool:
        return can_read_private(ctx(info).viewer, self.id)

    @strawberry.field(
        description="Registration number (USCC on the mainland); the provider and staff only."
    )
    def registration_number(self, info: Ctx) -> str | None:
        return self.reg_number if self._private(info) else None

    @strawberry.field(
        description="Public KPI summary: latest standing in each category it is in the pool for."
    )
    async def public_standings(self, info: Ctx) -> list[PublicStanding]:
        rows = await loaders.public_standings(ctx(info)).load(self.id)
        order = list(ctx(info).registry.categories)
        return [
            PublicStanding(
                category=row.category_key,
                period=row.period,
                composite=row.composite,
                standing=row.standing,
                tier=tier,
            )
            for row, tier in sorted(
                rows,
                key=lambda r: order.index(r[0].category_key) if r[0].category_key in order else 99,
            )
        ]

    @strawberry.field(description="Marketplaces the provider serves sellers on.")
    async def marketplaces(self, info: Ctx) -> list[Marketplace]:
        return await loaders.marketplaces(ctx(info)).load(self.id)

    @strawberry.field(
        description="Category-specific profiles (one per category; bounded by the category count)."
    )
    async def category_profiles(self, info: Ctx) -> list[CategoryProfile]:
        context = ctx(info)
        if not self._private(info):
            return []
        rows = await loaders.profiles(context).load(self.id)
        nodes = [profile_node(context, row) for row in rows]
        order = list(context.registry.categories)
        present = [n for n in nodes if n is not None]
        return sorted(present, key=lambda n: order.index(n.category_key))

    @strawberry.field(description="The provider's profile for one category, if it has one.")
    async def category_profile(self, info: Ctx, category: str) -> CategoryProfile | None:
        context = ctx(info)
        context.registry.category(category)
        if not self._private(info):
            return None
        for row in await loaders.profiles(context).load(self.id):
            if row.category_key == category:
                return profile_node(context, row)
        return None

    @strawberry.field(
        description="Registration details (legal representative, contact, team, cases, services)."
    )
    async def registration_details(self, info: Ctx) -> JSON | None:
        if not self._private(info):
            return None
        row = await loaders.by_id(ctx(info), models.Provider).load(self.id)
        return row.details if row else None

    @strawberry.field(
        description="Whether any current document has expired (e.g. the business licence)."
    )
    async def has_expired_documents(self, info: Ctx) -> bool | None:
        if not self._private(info):
            return None
        return self.id in await loaders.expired_document_owners(ctx(info)).load(0)

    @strawberry.field(description="The latest scorecard of a category for a month (e.g. 2026-10).")
    async def scorecard(self, info: Ctx, category: str, period: str) -> ScorecardType | None:
        ctx(info).registry.category(category)
        if not self._private(info):
            return None
        async with ctx(info).session() as session:
            row = (
                await session.execute(
                    select(models.Scorecard)
                    .where(
                        models.Scorecard.provider_id == self.id,
                        models.Scorecard.category_key == category,
                        models.Scorecard.period == period,
                    )
                    .order_by(models.Scorecard.revision.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
        return ScorecardType.of(row) if row else None

    @strawberry.field(description="Every scorecard and revision, oldest first.")
    async def scorecards(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ScorecardType]:
        return await _child_connection(
            info,
            self.id,
            models.Scorecard,
            ScorecardType.of,
            PageArgs.parse(first, after, last, before),
        )

    @strawberry.field(
        description="Sanctions (warnings, restrictions, downgrades, terminations), oldest first."
    )
    async def sanctions(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[SanctionType, strawberry.lazy("linkstar.schema.standing")]]:
        from linkstar.schema.standing import SanctionType

        args = PageArgs.parse(first, after, last, before)
        return await _child_connection(info, self.id, models.Sanction, SanctionType.of, args)

    @strawberry.field(description="One metric over the last periods, oldest first (for charts).")
    async def metric_trend(
        self, info: Ctx, category: str, metric: str, periods: int = 12
    ) -> list[TrendPoint]:
        from linkstar.core.standing import consequences as rules

        ctx(info).registry.category(category).metric(metric)
        if not 1 <= periods <= 36:
            raise InvalidInput("periods must be between 1 and 36")
        if not self._private(info):
            return []
        async with ctx(info).session() as session:
            cards = await rules.recent_cards(session, category, [self.id], "9999-12", periods)
            ids = [c.id for c in cards.get(self.id, [])]
            stmt = select(models.Scorecard).where(models.Scorecard.id.in_(ids))
            rows = (await session.execute(stmt)).scalars().all()
        points = []
        for card in sorted(rows, key=lambda r: r.period):
            result = next((r for r in card.results if r["metric"] == metric), None)
            if result is None:
                continue
            points.append(
                TrendPoint(
                    period=card.period,
                    value=None if result["value"] is None else Decimal(result["value"]),
                    threshold=Decimal(result["threshold"]),
                    status=result["status"],
                    sample_size=result["sampleSize"],
                )
            )
        return points

    @strawberry.field(
        description="Early-warning alerts, oldest first; only unread ones when asked."
    )
    async def alerts(
        self,
        info: Ctx,
        unread_only: bool = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[AlertType, strawberry.lazy("linkstar.schema.standing")]]:
        from linkstar.schema.standing import AlertType

        args = PageArgs.parse(first, after, last, before)
        filters = (("read_at", None),) if unread_only else ()
        return await _child_connection(info, self.id, models.Alert, AlertType.of, args, filters)

    @strawberry.field(description="Appeals filed, oldest first.")
    async def appeals(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[AppealType, strawberry.lazy("linkstar.schema.standing")]]:
        from linkstar.schema.standing import AppealType

        args = PageArgs.parse(first, after, last, before)
        return await _child_connection(info, self.id, models.Appeal, AppealType.of, args)

    @strawberry.field(description="Recorded compliance violations, oldest first.")
    async def violations(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[ViolationType, strawberry.lazy("linkstar.schema.standing")]]:
        from linkstar.schema.standing import ViolationType

        args = PageArgs.parse(first, after, last, before)
        return await _child_connection(info, self.id, models.Violation, ViolationType.of, args)

    @strawberry.field(
        description="Tier history: promotions, demotions and reversals, oldest first."
    )
    async def tier_history(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[TierChangeType, strawberry.lazy("linkstar.schema.standing")]]:
        from linkstar.schema.standing import TierChangeType

        args = PageArgs.parse(first, after, last, before)
        return await _child_connection(info, self.id, models.TierChange, TierChangeType.of, args)

    @strawberry.field(
        description="Renew, renew with conditions, or not: from the last scorecards, with reasons."
    )
    async def renewal_recommendation(
        self, info: Ctx, category: str, periods: int = 12
    ) -> Annotated[Recommendation, strawberry.lazy("linkstar.schema.standing")] | None:
        from linkstar.core.standing import consequences as rules
        from linkstar.schema.standing import Recommendation

        ctx(info).registry.category(category)
        if not self._private(info):
            return None
        if not 1 <= periods <= 36:
            raise InvalidInput("periods must be between 1 and 36")
        async with ctx(info).session() as session:
            cards = (
                await rules.recent_cards(session, category, [self.id], "9999-12", periods)
            ).get(self.id, [])
            open_sanctions = list(
                (
                    await session.execute(
                        select(models.Sanction).where(
                            models.Sanction.provider_id == self.id,
                            models.Sanction.category_key == category,
                            models.Sanction.status.in_(
                                (SanctionStatus.ACTIVE, SanctionStatus.CONFIRMED)
                            ),
                        )
                    )
                )
                .scalars()
                .all()
            )
        result = rules.renewal_recommendation(cards, open_sanctions)
        return Recommendation(decision=result.decision, reasons=list(result.reasons))

    @strawberry.field(description="Everything that happened to this provider and its applications.")
    async def timeline(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TimelineEntry]:
        args = PageArgs.parse(first, after, last, before)
        if not self._private(info):
            return _page([], args, TimelineEntry.of, _zero)
        return await _timeline(info, "provider_id", self.id, args)

    @strawberry.field(description="Applications for (and memberships of) categories.")
    async def applications(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApplicationType]:
        return await _child_connection(
            info,
            self.id,
            models.Application,
            ApplicationType.of,
            PageArgs.parse(first, after, last, before),
        )

    @strawberry.field(description="Uploaded documents.")
    async def documents(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[DocumentType]:
        return await _child_connection(
            info,
            self.id,
            models.Document,
            DocumentType.of,
            PageArgs.parse(first, after, last, before),
        )

    @strawberry.field(description="KPI observations, optionally of one metric, oldest first.")
    async def observations(
        self,
        info: Ctx,
        metric: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[KpiObservationType]:
        filters = (("metric_key", metric),) if metric else ()
        return await _child_connection(
            info,
            self.id,
            models.KpiObservation,
            KpiObservationType.of,
            PageArgs.parse(first, after, last, before),
            filters,
        )

    resolve_nodes = rows_resolver(models.Provider)


async def _child_connection(
    info: Ctx,
    parent_id: int,
    model: type[Any],
    to_node: Any,
    args: PageArgs,
    filters: tuple[tuple[str, Any], ...] = (),
) -> Connection[Any]:
    """A provider's private list: filtered to nothing for viewers who may not see it."""
    context = ctx(info)
    if not can_read_private(context.viewer, parent_id):
        return _page([], args, to_node, _zero)
    rows = await loaders.child_pages(context, model, "provider_id", filters).load((parent_id, args))

    async def count() -> int:
        return await loaders.child_counts(context, model, "provider_id", filters).load(parent_id)

    return _page(rows, args, to_node, count)


CORE_TYPES: tuple[type, ...] = (
    ScorecardType,
    TimelineEntry,
    ProviderType,
    ApplicationType,
    DocumentType,
    KpiObservationType,
    ServiceCategoryType,
    CategoryProfile,
)
