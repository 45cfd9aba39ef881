"""The data reporting API: KPI observations in bulk, validated whole, idempotent, never edited.

- A batch has at most MAX_BATCH records; one invalid record rejects the whole batch, with every
  record's problems listed.
- Each record carries an idempotency key (unique per provider): re-sending a batch creates
  nothing new; re-using a key for different content is an error.
- A record may name an uploaded document as its evidence (`evidence_document_id`): it must exist,
  be the provider's own, be visible to the reporter and not be purged (the record's problem then
  carries the code: UNKNOWN_DOCUMENT, DOCUMENT_OF_ANOTHER_PROVIDER, DOCUMENT_PURGED).
- A correction is a new record that `supersedes` an earlier one, with a reason; both stay. The
  provider's own corrections and not-attributable claims wait for review (core/kpi/corrections);
  a platform-sourced record cannot be corrected by the provider (it appeals instead).
- A period closes the category's `reporting_grace_days` (REPORTING_GRACE_DAYS = 7 by default)
  after it ends (in the metric's time zone); observations for a closed period are refused. That
  is also when the month is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, literal, select
from sqlalchemy import any_ as sa_any
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError
from linkstar.core.kernel.periods import Period, period_containing
from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource
from linkstar.core.kpi.alerts import check_running_values
from linkstar.core.kpi.corrections import settle_new_claims
from linkstar.core.kpi.models import OBSERVATION_SCALE, KpiObservation
from linkstar.core.kpi.units import UNIT_RANGES, in_unit_range
from linkstar.core.onboarding.evidence import evidence_problems
from linkstar.core.onboarding.models import Application

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import Registry

MAX_BATCH = 10_000
MAX_VALUE = Decimal(10) ** 12  # stored as value × 10⁶ in a 64-bit integer
REPORTING_GRACE_DAYS = 7
REPORTABLE = (ApplicationStatus.PROBATION, ApplicationStatus.ACTIVE)
_TABLE = KpiObservation.__table__
# every column a report writes (the keys of each new row), in the plain insert's order
_INSERTED = (
    "provider_id",
    "category_key",
    "metric_key",
    "subject_ref",
    "observed_at",
    "value",
    "source",
    "attributable",
    "non_attributable_reason",
    "correction_reason",
    "idempotency_key",
    "evidence_ref",
    "evidence_document_id",
    "supersedes_id",
    "reported_by",
    "reported_at",
    "review_status",
    "reviewed_by",
    "reviewed_at",
    "review_note",
)


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    """One record as reported."""

    category: str
    metric: str
    subject_ref: str
    observed_at: datetime
    value: str
    idempotency_key: str
    evidence_ref: str | None = None
    not_attributable_reason: str | None = None
    supersedes_id: int | None = None
    correction_reason: str | None = None
    evidence_document_id: int | None = None  # an uploaded document of the provider's


class BatchInvalid(LinkStarError):
    """The batch was rejected whole; `details.records` lists each bad record's problems."""

    code = "BATCH_INVALID"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(
            f"{len({p['index'] for p in problems})} record(s) are invalid; nothing was stored",
            details={"records": problems[:1000], "truncated": len(problems) > 1000},
        )


@dataclass(frozen=True, slots=True)
class ReportResult:
    accepted: int
    duplicates: int
    alerts: int = 0


def _check(
    record: ObservationRecord,
    index: int,
    registry: Registry,
    held: set[str],
    now: datetime,
    periods: dict[tuple[str, str], Period],
) -> tuple[list[dict[str, Any]], Decimal | None]:
    """The record's problems and its value. `periods` keeps the last period found per metric
    (a batch's records mostly fall in one month: no time zone arithmetic for each)."""
    problems: list[dict[str, Any]] = []

    def bad(field: str, message: str) -> None:
        problems.append({"index": index, "field": field, "message": message})

    contribution = registry.categories.get(record.category)
    metric = None
    if contribution is None:
        bad("category", f"unknown category {record.category!r}")
    elif record.category not in held:
        bad(
            "category",
            f"the provider holds no {record.category} membership in probation or in the pool",
        )
    else:
        metric = next((m for m in contribution.metrics if m.key == record.metric), None)
        if metric is None:
            bad("metric", f"{record.category} has no metric {record.metric!r}")
    value: Decimal | None = None
    try:
        value = Decimal(record.value)
        if not value.is_finite():
            raise InvalidOperation
        if abs(value) > MAX_VALUE:
            bad("value", f"must be within ±{MAX_VALUE}")
        elif value != value.quantize(Decimal(1).scaleb(-OBSERVATION_SCALE)):
            bad("value", f"at most {OBSERVATION_SCALE} decimals")
    except (InvalidOperation, ValueError):
        bad("value", f"{record.value!r} is not a decimal number")
        value = None
    if metric is not None and value is not None and not in_unit_range(metric.observed_unit, value):
        low, high = UNIT_RANGES[metric.observed_unit]
        allowed = (
            "0 or 1"
            if metric.observed_unit.value == "OUTCOME"
            else f"{low if low is not None else '-inf'}..{high if high is not None else '+inf'}"
        )
        bad("value", f"{value} is outside {metric.observed_unit.value} ({allowed})")
    if record.observed_at.tzinfo is None:
        bad("observedAt", "give a time zone offset")
    elif record.observed_at > now + timedelta(minutes=5):
        bad("observedAt", "is in the future")
    elif metric is not None:
        period = periods.get((record.category, metric.key))
        if period is None or not period.contains(record.observed_at):
            period = period_containing(
                record.observed_at, metric.window.period, metric.window.timezone
            )
            periods[(record.category, metric.key)] = period
        grace = contribution.scoring.reporting_grace_days if contribution else REPORTING_GRACE_DAYS
        if period.end + timedelta(days=grace) <= now:
            # the same moment the month closes for evaluation: a scorecard never misses a report
            bad("observedAt", f"period {period.label} closed {grace} days after it ended")
    if not 1 <= len(record.idempotency_key) <= 120:
        bad("idempotencyKey", "must have 1 to 120 characters")
    if not 1 <= len(record.subject_ref) <= 120:
        bad("subjectRef", "must have 1 to 120 characters")
    if record.evidence_ref is not None and len(record.evidence_ref) > 255:
        bad("evidenceRef", "must have at most 255 characters")
    if record.not_attributable_reason is not None and not record.not_attributable_reason.strip():
        bad("notAttributableReason", "say why the observation is not the provider's doing")
    if record.supersedes_id is not None and not (record.correction_reason or "").strip():
        bad("correctionReason", "a correction needs a reason")
    return problems, value


def _same(row: KpiObservation, record: ObservationRecord, value: Decimal | None) -> bool:
    return (
        row.category_key == record.category
        and row.metric_key == record.metric
        and row.subject_ref == record.subject_ref
        and row.observed_at == record.observed_at
        and row.value == value
        and row.evidence_document_id == record.evidence_document_id
    )


class _KeyTaken(Exception):
    """A concurrent batch stored one of the keys meanwhile (the plain insert is undone)."""


def _driver_rows(dialect: Dialect, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows as the database driver takes them, converted column by column by the columns'
    own types (the same conversion SQLAlchemy applies; a value shared by every row, such as the
    reporter or the time of the report, is converted once)."""
    columns = []
    for name in _INSERTED:
        values = [row[name] for row in rows]
        # the type as adapted to this database (SQLite's DATETIME writes its own text format)
        convert = _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            first = values[0]
            if all(value is first for value in values):
                values = [None if first is None else convert(first)] * len(values)
            else:
                values = [None if value is None else convert(value) for value in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


async def _insert_new(
    session: AsyncSession, provider_id: int, new_rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[KpiObservation]]:
    """Insert the rows; a key that a concurrent batch stored first is skipped, not an error.

    Returns the rows inserted, and the stored row of every key skipped.

    All but always every key is new: one plain insert of all the rows (the driver's
    `executemany`, as a hand-written loader would do it; no RETURNING, no rows built by
    SQLAlchemy), in a savepoint, and its row count says that every row went in. Only when a
    concurrent batch took a key meanwhile is the savepoint rolled back and the batch inserted
    again, saying which keys it stored. Every bounded text column of the rows was checked by
    `_check` (or is the platform's own), so the length check of compiled inserts is not needed.
    """
    connection = await session.connection()
    dialect = connection.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    plain = (
        f"INSERT INTO {_TABLE.name} ({', '.join(_INSERTED)}) "
        f"VALUES ({', '.join([mark] * len(_INSERTED))}) "
        "ON CONFLICT (provider_id, idempotency_key) DO NOTHING"
    )
    try:
        async with session.begin_nested():
            stored = await connection.exec_driver_sql(plain, _driver_rows(dialect, new_rows))
            if stored.rowcount != len(new_rows):
                raise _KeyTaken
        return new_rows, []
    except _KeyTaken:
        pass
    insert = pg_insert if dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(_TABLE)
        .on_conflict_do_nothing(index_elements=[_TABLE.c.provider_id, _TABLE.c.idempotency_key])
        .returning(_TABLE.c.idempotency_key)
    )
    inserted = set((await session.execute(stmt, new_rows)).scalars().all())
    if len(inserted) == len(new_rows):
        return new_rows, []
    keys = [r["idempotency_key"] for r in new_rows if r["idempotency_key"] not in inserted]
    raced = list(
        (
            await session.execute(
                select(KpiObservation).where(
                    KpiObservation.provider_id == provider_id, _among_keys(session, keys)
                )
            )
        )
        .scalars()
        .all()
    )
    return [r for r in new_rows if r["idempotency_key"] in inserted], raced


def _among_keys(session: AsyncSession, keys: list[str]) -> ColumnElement[bool]:
    """`idempotency_key IN keys`: one array parameter on PostgreSQL (a short statement whatever
    the batch size), an IN list on SQLite (10,000 keys are within its 32,766 parameters)."""
    column = KpiObservation.idempotency_key
    if session.bind.dialect.name == "postgresql":
        return column == sa_any(literal(keys, ARRAY(String)))
    return column.in_(keys)


async def report(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    provider_id: int,
    records: list[ObservationRecord],
    source: ObservationSource,
) -> ReportResult:
    """Validate the whole batch, then store it in the caller's transaction."""
    if not records:
        raise InvalidInput("the batch is empty")
    if len(records) > MAX_BATCH:
        raise InvalidInput(
            f"at most {MAX_BATCH} records per call, got {len(records)}", code="BATCH_TOO_LARGE"
        )
    held = set(
        (
            await session.execute(
                select(Application.category_key).where(
                    Application.provider_id == provider_id, Application.status.in_(REPORTABLE)
                )
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    problems: list[dict[str, Any]] = []
    values: list[Decimal | None] = []
    keys_seen: dict[str, int] = {}
    periods: dict[tuple[str, str], Period] = {}
    for index, record in enumerate(records):
        found, value = _check(record, index, registry, held, now, periods)
        problems.extend(found)
        values.append(value)
        if record.idempotency_key in keys_seen:
            problems.append(
                {
                    "index": index,
                    "field": "idempotencyKey",
                    "message": f"repeats record {keys_seen[record.idempotency_key]}",
                }
            )
        keys_seen[record.idempotency_key] = index
    existing = {
        row.idempotency_key: row
        for row in (
            await session.execute(
                select(KpiObservation).where(
                    KpiObservation.provider_id == provider_id,
                    _among_keys(session, list(keys_seen)),
                )
            )
        )
        .scalars()
        .all()
    }
    superseded = {r.supersedes_id for r in records if r.supersedes_id is not None}
    if superseded:
        owned = dict(
            (
                await session.execute(
                    select(KpiObservation.id, KpiObservation.source).where(
                        KpiObservation.id.in_(superseded), KpiObservation.provider_id == provider_id
                    )
                )
            ).all()
        )
        for index, record in enumerate(records):
            if record.supersedes_id is None:
                continue
            if record.supersedes_id not in owned:
                problems.append(
                    {
                        "index": index,
                        "field": "supersedes",
                        "message": "no such observation of this provider",
                    }
                )
            elif (
                source is ObservationSource.SELF_REPORTED
                and owned[record.supersedes_id] == ObservationSource.PLATFORM
            ):
                problems.append(
                    {
                        "index": index,
                        "field": "supersedes",
                        "message": "a platform-sourced record cannot be corrected by the "
                        "provider; dispute it with fileAppeal",
                    }
                )
    linked = {r.evidence_document_id for r in records if r.evidence_document_id is not None}
    if linked:
        refused = await evidence_problems(session, viewer, provider_id, linked)
        for index, record in enumerate(records):
            if record.evidence_document_id in refused:
                code, message = refused[record.evidence_document_id]
                problems.append(
                    {"index": index, "field": "evidenceDocument", "code": code, "message": message}
                )
    new_rows = []
    duplicates = 0
    for index, (record, value) in enumerate(zip(records, values, strict=True)):
        prior = existing.get(record.idempotency_key)
        if prior is not None:
            if _same(prior, record, value):
                duplicates += 1
            else:
                problems.append(
                    {
                        "index": index,
                        "field": "idempotencyKey",
                        "message": "already used for a different observation",
                    }
                )
            continue
        new_rows.append(
            {
                "provider_id": provider_id,
                "category_key": record.category,
                "metric_key": record.metric,
                "subject_ref": record.subject_ref,
                "observed_at": record.observed_at,
                "value": value,
                "source": source,
                "attributable": record.not_attributable_reason is None,
                "non_attributable_reason": record.not_attributable_reason,
                "correction_reason": record.correction_reason if record.supersedes_id else None,
                "idempotency_key": record.idempotency_key,
                "evidence_ref": record.evidence_ref,
                "evidence_document_id": record.evidence_document_id,
                "supersedes_id": record.supersedes_id,
                "reported_by": viewer.label[:120],
                "reported_at": now,
                "review_status": None,
                "reviewed_by": None,
                "reviewed_at": None,
                "review_note": None,
            }
        )
    if problems:
        raise BatchInvalid(sorted(problems, key=lambda p: p["index"]))
    # the provider's corrections and not-attributable claims wait for review (or auto-accept)
    await settle_new_claims(session, registry, provider_id, new_rows)
    alerts = 0
    if new_rows:
        new_rows, raced = await _insert_new(session, provider_id, new_rows)
        for row in raced:
            index = keys_seen[row.idempotency_key]
            if _same(row, records[index], values[index]):
                duplicates += 1
            else:
                problems.append(
                    {
                        "index": index,
                        "field": "idempotencyKey",
                        "message": "already used for a different observation",
                    }
                )
        if problems:
            raise BatchInvalid(sorted(problems, key=lambda p: p["index"]))
        touched = {
            (r["category_key"], r["metric_key"], r["observed_at"].strftime("%Y-%m")): r[
                "observed_at"
            ]
            for r in new_rows
        }
        raised = await check_running_values(
            session, registry, provider_id, [(c, m, at) for (c, m, _), at in touched.items()]
        )
        alerts = len(raised)
    return ReportResult(accepted=len(new_rows), duplicates=duplicates, alerts=alerts)
