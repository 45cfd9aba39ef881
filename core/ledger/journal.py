"""Posting to the ledger: the chart of accounts, balanced entries, reversals and balances.

Every movement of money is one `JournalEntry` whose debits equal its credits in every
currency. Entries are never edited or deleted (the database refuses it); a mistake is undone by
`reverse()`, which posts the mirror image and names the entry it reverses. Balances are always
summed from the lines, so they reconcile by construction.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, case, func, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.errors import Conflict, InvalidInput, NotFound
from linkstar.core.kernel.money import Money
from linkstar.core.ledger.models import AMOUNT_SCALE, JournalEntry, JournalLine, LedgerAccount

PLATFORM = "platform"


class Side(enum.StrEnum):
    """Which column of the account a line writes to."""

    DEBIT = "DEBIT"
    CREDIT = "CREDIT"

    @property
    def opposite(self) -> Side:
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class OwnerKind(enum.StrEnum):
    """Whose account it is."""

    PLATFORM = "PLATFORM"
    PROVIDER = "PROVIDER"
    SELLER = "SELLER"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One account of the chart: who owns it, the side its balance normally sits on, and what
    its balance means."""

    code: str
    owner_kind: OwnerKind
    normal_side: Side
    meaning: str


CHART: dict[str, AccountSpec] = {
    spec.code: spec
    for spec in (
        AccountSpec(
            "PLATFORM_BANK",
            OwnerKind.PLATFORM,
            Side.DEBIT,
            "Money received into the platform's bank accounts and not yet paid out.",
        ),
        AccountSpec(
            "FEE_REVENUE",
            OwnerKind.PLATFORM,
            Side.CREDIT,
            "Fees charged to providers (annual, one-off, per-unit).",
        ),
        AccountSpec(
            "FEE_WAIVERS",
            OwnerKind.PLATFORM,
            Side.DEBIT,
            "Fees the platform waived after charging them (reduces fee revenue).",
        ),
        AccountSpec(
            "PROVIDER_RECEIVABLE",
            OwnerKind.PROVIDER,
            Side.DEBIT,
            "What the provider owes the platform: charges issued, not yet paid or waived.",
        ),
        AccountSpec(
            "DEPOSIT_CALLED",
            OwnerKind.PROVIDER,
            Side.CREDIT,
            "Deposits demanded from the provider and not yet received.",
        ),
        AccountSpec(
            "PROVIDER_PAYABLE",
            OwnerKind.PROVIDER,
            Side.CREDIT,
            "What the platform owes the provider: its share of completed orders, less "
            "penalties, not yet paid out.",
        ),
        AccountSpec(
            "SELLER_PAYMENTS_HELD",
            OwnerKind.SELLER,
            Side.CREDIT,
            "What sellers paid for orders that are not completed (or refunded) yet.",
        ),
        AccountSpec(
            "COMMISSION_REVENUE",
            OwnerKind.PLATFORM,
            Side.CREDIT,
            "The platform's commission on completed orders.",
        ),
        AccountSpec(
            "PENALTY_REVENUE",
            OwnerKind.PLATFORM,
            Side.CREDIT,
            "Penalties deducted from providers' payables.",
        ),
        AccountSpec(
            "DEPOSIT_HELD",
            OwnerKind.PROVIDER,
            Side.CREDIT,
            "Deposits received and held; owed back to the provider at exit, less what it owes.",
        ),
    )
}


def provider_owner(provider_id: int) -> str:
    """The owner string of a provider's accounts."""
    return f"provider:{provider_id}"


def seller_owner(account_id: int) -> str:
    """The owner string of a seller's accounts (a seller is an account)."""
    return f"seller:{account_id}"


@dataclass(frozen=True, slots=True)
class Posting:
    """One intended line: `side` of account `code` of `owner`, for `money`."""

    code: str
    owner: str
    side: Side
    money: Money


def debit(code: str, owner: str, money: Money) -> Posting:
    return Posting(code, owner, Side.DEBIT, money)


def credit(code: str, owner: str, money: Money) -> Posting:
    return Posting(code, owner, Side.CREDIT, money)


def check_balanced(postings: Sequence[Posting]) -> None:
    """Refuse an entry that is empty, has a non-positive line, names an account outside the
    chart or its owner kind, or whose debits and credits differ in any currency."""
    if not postings:
        raise InvalidInput("a journal entry needs at least two lines", code="UNBALANCED_ENTRY")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for posting in postings:
        spec = CHART.get(posting.code)
        if spec is None:
            raise InvalidInput(f"{posting.code!r} is not an account of the chart")
        if _owner_kind(posting.owner) is not spec.owner_kind:
            raise InvalidInput(
                f"account {posting.code} belongs to a {spec.owner_kind.value.lower()}, "
                f"not to {posting.owner!r}"
            )
        if posting.money.amount <= 0:
            raise InvalidInput(
                "every journal line moves a positive amount; swap debit and credit instead",
                code="UNBALANCED_ENTRY",
            )
        sign = 1 if posting.side is Side.DEBIT else -1
        totals[posting.money.currency] += sign * posting.money.amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise InvalidInput(
            "debits and credits differ: "
            + ", ".join(f"{c} {t:+}" for c, t in sorted(unbalanced.items())),
            code="UNBALANCED_ENTRY",
        )


def _owner_kind(owner: str) -> OwnerKind:
    if owner == PLATFORM:
        return OwnerKind.PLATFORM
    prefix, _, number = owner.partition(":")
    if prefix in ("provider", "seller") and number.isdigit():
        return OwnerKind(prefix.upper())
    raise InvalidInput(f"{owner!r} is not an account owner")


async def account_id(session: AsyncSession, code: str, owner: str, currency: str) -> int:
    """The account's id, opening the account on first use (safe against concurrent openers)."""
    found = (
        await session.execute(
            select(LedgerAccount.id).where(
                LedgerAccount.code == code,
                LedgerAccount.owner == owner,
                LedgerAccount.currency == currency,
            )
        )
    ).scalar_one_or_none()
    if found is not None:
        return found
    provider_id = int(owner.split(":")[1]) if owner.startswith("provider:") else None
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(LedgerAccount)
        .values(code=code, owner=owner, currency=currency, provider_id=provider_id)
        .on_conflict_do_nothing(index_elements=["code", "owner", "currency"])
    )
    return (
        await session.execute(
            select(LedgerAccount.id).where(
                LedgerAccount.code == code,
                LedgerAccount.owner == owner,
                LedgerAccount.currency == currency,
            )
        )
    ).scalar_one()


async def post(
    session: AsyncSession,
    postings: Sequence[Posting],
    *,
    kind: str,
    memo: str,
    source_type: str,
    source_id: int | None,
    idempotency_key: str,
    provider_id: int | None = None,
    category_key: str | None = None,
    posted_by: int | None = None,
    reverses_entry_id: int | None = None,
    posted_at: datetime | None = None,
) -> JournalEntry:
    """Post one balanced entry, or return the entry already posted under `idempotency_key`.

    A key already used for a different movement is a Conflict: the same cause never moves
    money twice, and two causes never share a key. `posted_at` is the moment the money moved
    when that was earlier than now (an order completed before it was recorded); settlement
    cycles are cut on it.
    """
    check_balanced(postings)
    existing = (
        await session.execute(
            select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key)
        )
    ).scalar_one_or_none()
    if existing is not None:
        if sorted(_shape(await entry_postings(session, existing.id))) != sorted(_shape(postings)):
            raise Conflict(
                f"journal key {idempotency_key!r} was already used for another movement",
                suggestion="each cause of a movement needs its own key",
            )
        return existing
    entry = JournalEntry(
        kind=kind,
        memo=memo,
        source_type=source_type,
        source_id=source_id,
        provider_id=provider_id,
        category_key=category_key,
        idempotency_key=idempotency_key,
        posted_by=posted_by,
        reverses_entry_id=reverses_entry_id,
    )
    if posted_at is not None:
        entry.posted_at = posted_at
    session.add(entry)
    await session.flush()
    for posting in postings:
        session.add(
            JournalLine(
                entry_id=entry.id,
                account_id=await account_id(
                    session, posting.code, posting.owner, posting.money.currency
                ),
                side=posting.side.value,
                amount=posting.money.amount,
                currency=posting.money.currency,
            )
        )
    await session.flush()
    return entry


def _shape(postings: Iterable[Posting]) -> list[tuple[str, str, str, Decimal, str]]:
    return [(p.code, p.owner, p.side.value, p.money.amount, p.money.currency) for p in postings]


async def entry_postings(session: AsyncSession, entry_id: int) -> list[Posting]:
    """The lines of an entry, as postings, in the order they were written."""
    rows = await session.execute(
        select(
            LedgerAccount.code,
            LedgerAccount.owner,
            JournalLine.side,
            JournalLine.amount,
            JournalLine.currency,
        )
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(JournalLine.entry_id == entry_id)
        .order_by(JournalLine.id)
    )
    return [Posting(r.code, r.owner, Side(r.side), Money(r.amount, r.currency)) for r in rows]


async def reverse(
    session: AsyncSession,
    entry_id: int,
    *,
    memo: str,
    posted_by: int | None = None,
) -> JournalEntry:
    """Post the mirror image of entry `entry_id`, naming it. An entry is reversed at most once
    (a second reversal is a Conflict); a reversal is itself never reversed — post anew."""
    entry = await session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"journal entry {entry_id} does not exist")
    if entry.reverses_entry_id is not None:
        raise InvalidInput(
            f"journal entry {entry_id} is a reversal; post a new entry instead",
            code="ALREADY_REVERSED",
        )
    already = (
        await session.execute(
            select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry_id)
        )
    ).scalar_one_or_none()
    if already is not None:
        raise Conflict(
            f"journal entry {entry_id} was already reversed by entry {already}",
            code="ALREADY_REVERSED",
        )
    mirror = [
        Posting(p.code, p.owner, p.side.opposite, p.money)
        for p in await entry_postings(session, entry_id)
    ]
    return await post(
        session,
        mirror,
        kind=f"{entry.kind}_REVERSAL",
        memo=memo,
        source_type=entry.source_type,
        source_id=entry.source_id,
        provider_id=entry.provider_id,
        category_key=entry.category_key,
        idempotency_key=f"reversal:{entry_id}",
        posted_by=posted_by,
        reverses_entry_id=entry_id,
    )


def _signed_amount() -> Any:
    raw = type_coerce(JournalLine.amount, BigInteger)
    return case((JournalLine.side == Side.DEBIT.value, raw), else_=-raw)


def _side_amount(side: Side) -> Any:
    raw = type_coerce(JournalLine.amount, BigInteger)
    return case((JournalLine.side == side.value, raw), else_=0)


def _raw_sum(expression: Any) -> Any:
    """SUM over the stored scaled integers, read back as an integer (see `_unscale`)."""
    return type_coerce(func.coalesce(func.sum(expression), 0), BigInteger)


async def balance(session: AsyncSession, code: str, owner: str, currency: str) -> Money:
    """The account's balance on its normal side (a positive DEPOSIT_HELD is money held)."""
    spec = CHART[code]
    debit_minus_credit = (
        await session.execute(
            select(_raw_sum(_signed_amount()))
            .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
            .where(
                LedgerAccount.code == code,
                LedgerAccount.owner == owner,
                LedgerAccount.currency == currency,
            )
        )
    ).scalar_one()
    net = _unscale(debit_minus_credit)
    return Money(net if spec.normal_side is Side.DEBIT else -net, currency)


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """An account of one owner and its balance on the account's normal side."""

    code: str
    owner: str
    balance: Money
    debits: Money
    credits: Money


async def balances(session: AsyncSession, owner: str | None = None) -> list[AccountBalance]:
    """Every account's balance (of one owner, or of everyone), ordered by owner, code, currency."""
    query = (
        select(
            LedgerAccount.code,
            LedgerAccount.owner,
            LedgerAccount.currency,
            _raw_sum(_side_amount(Side.DEBIT)),
            _raw_sum(_side_amount(Side.CREDIT)),
        )
        .join(JournalLine, JournalLine.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.code, LedgerAccount.owner, LedgerAccount.currency)
        .order_by(LedgerAccount.owner, LedgerAccount.code, LedgerAccount.currency)
    )
    if owner is not None:
        query = query.where(LedgerAccount.owner == owner)
    result = []
    for code, account_owner, currency, debits, credits in await session.execute(query):
        debits, credits = _unscale(debits), _unscale(credits)
        net = debits - credits if CHART[code].normal_side is Side.DEBIT else credits - debits
        result.append(
            AccountBalance(
                code,
                account_owner,
                Money(net, currency),
                Money(debits, currency),
                Money(credits, currency),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """Total debits and credits of the whole ledger in one currency; they must be equal."""

    currency: str
    debits: Money
    credits: Money

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits


async def trial_balance(session: AsyncSession) -> list[TrialBalance]:
    """The whole ledger's debits and credits per currency."""
    rows = await session.execute(
        select(
            JournalLine.currency,
            _raw_sum(_side_amount(Side.DEBIT)),
            _raw_sum(_side_amount(Side.CREDIT)),
        )
        .group_by(JournalLine.currency)
        .order_by(JournalLine.currency)
    )
    return [TrialBalance(c, Money(_unscale(d), c), Money(_unscale(k), c)) for c, d, k in rows]


def _unscale(raw: object) -> Decimal:
    """Sums over the scaled-integer amount column come back as the stored integers."""
    return Decimal(int(raw or 0)).scaleb(-AMOUNT_SCALE)


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One line of an owner's account, with its entry's kind and memo."""

    entry_id: int
    posted_at: datetime
    kind: str
    memo: str
    account: str
    side: Side
    money: Money


async def owner_lines(session: AsyncSession, owner: str, limit: int) -> list[LedgerLine]:
    """The latest `limit` lines written to `owner`'s accounts, newest first."""
    rows = await session.execute(
        select(
            JournalEntry.id,
            JournalEntry.posted_at,
            JournalEntry.kind,
            JournalEntry.memo,
            LedgerAccount.code,
            JournalLine.side,
            JournalLine.amount,
            JournalLine.currency,
        )
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(LedgerAccount.owner == owner)
        .order_by(JournalLine.id.desc())
        .limit(limit)
    )
    return [
        LedgerLine(
            r.id, r.posted_at, r.kind, r.memo, r.code, Side(r.side), Money(r.amount, r.currency)
        )
        for r in rows
    ]
